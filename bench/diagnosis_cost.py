"""Benchmark: what diagnosis costs. The same class graded twice: every function correct, then a third failing.

    python bench/diagnosis_cost.py                    # 30 students, 3 rounds, 2 jobs; writes a section of bench/results.md
    python bench/diagnosis_cost.py --students 10 --rounds 1 --results /tmp/cost.md   # a quick trial

Both classes have the same students and the same files but for the wrong ones: in the
*correct* class each part is the reference or a correct variant from ``tests/corpus``; in the
*failing* class, for each student, parts drawn in random order are replaced by realistic wrong
variants from ``tests/corpus`` (whose ``# expect: fail ...`` line says which functions fail)
until a third of the student's 25 functions fail. Each round grades both classes (correct
first, then failing, in one process, two sandboxes), with per-student hidden inputs as in a
real run. Reported: the median wall time of each, the slowdown, and where the failing class's
extra time goes (the diagnosis stages, timed in the grader: the catalogue, the generated
models, localisation and tracing).

The target (issue 12): at most 20 % slower with a third of the functions failing.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path[:0] = [str(ROOT), str(ROOT / "autograder")]

from rnnkit import grading  # noqa: E402
from rnnkit.course import load_course  # noqa: E402
from rnnkit.diagnosis import matching  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"
_EXPECT = re.compile(r"^# expect: (pass|fail (.+))$", re.MULTILINE)


def _failing(path: Path) -> set[str]:
    match = _EXPECT.search(path.read_text(encoding="utf-8"))
    return set() if not match or match.group(1) == "pass" else {f.strip() for f in match.group(2).split(",")}


def plan(course, students: int, seed: int) -> tuple[dict, dict, float]:
    """(correct class, failing class, share of functions failing): {student: {part file: text}}."""
    rng = random.Random(seed)
    total = len(course.functions)
    correct, failing, failed = {}, {}, 0
    for i in range(students):
        student = f"s{i:03d}"
        correct[student], failing[student] = {}, {}
        for part in course.parts:
            pool = [ROOT / "solutions" / f"{part.name}.py", *sorted(CORPUS.glob(f"{part.name}/correct_*.py"))]
            text = rng.choice(pool).read_text(encoding="utf-8")
            correct[student][f"{part.name}.py"] = failing[student][f"{part.name}.py"] = text
        count = 0
        for part in rng.sample(list(course.parts), len(course.parts)):
            if count >= total / 3:
                break
            wrong = [p for p in sorted(CORPUS.glob(f"{part.name}/*.py")) if _failing(p)]
            pick = rng.choice(wrong)
            failing[student][f"{part.name}.py"] = pick.read_text(encoding="utf-8")
            count += len(_failing(pick))
        failed += count
    return correct, failing, failed / (students * total)


class _Timers:
    """Seconds spent in each diagnosis stage (summed over the grader's threads)."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()
        self._saved = []

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                with self._lock:
                    self.seconds[label] += time.perf_counter() - started

        self._saved.append((owner, name, original))
        setattr(owner, name, timed)

    def restore(self) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)


def grade(course, students: dict, folder: Path, jobs: int) -> tuple[float, dict[str, float], list]:
    for student, files in students.items():
        (folder / student).mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / student / name).write_text(text, encoding="utf-8")
    timers = _Timers()
    timers.wrap(matching.Diagnoser, "diagnose_part", "catalogue")
    timers.wrap(grading, "name_generated", "generated models")
    timers.wrap(grading, "explain_further", "localisation and tracing")
    try:
        started = time.perf_counter()
        results = grading.grade_class(grading.discover(folder, course), course, jobs=jobs)
        return time.perf_counter() - started, dict(timers.seconds), results
    finally:
        timers.restore()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "diagnosis_cost.md")
    args = parser.parse_args()
    os.environ.setdefault("RNNKIT_SECRET", "bench-diagnosis-cost")  # per-student inputs, without touching the course's secret
    course = load_course(ROOT)
    correct, failing, share = plan(course, args.students, args.seed)
    times: dict[str, list[float]] = {"correct": [], "failing": []}
    stages: dict[str, list[dict]] = {"correct": [], "failing": []}
    lost = 0
    with tempfile.TemporaryDirectory() as work:
        for round_ in range(args.rounds):
            for kind, students in (("correct", correct), ("failing", failing)):
                seconds, stage, results = grade(course, students, Path(work) / f"{kind}{round_}", args.jobs)
                times[kind].append(seconds)
                stages[kind].append(stage)
                if kind == "failing":
                    lost = sum(not r.passed for s in results for r in s.functions.values())
                print(f"round {round_ + 1}: {kind:8s} {seconds:6.1f} s  " + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(stage.items())), flush=True)
        # Once more with no table cache, as the first run of a course grades (Gradescope builds them in setup.sh).
        saved = grading.PRIVATE_DIR
        grading.PRIVATE_DIR = Path(work) / "no-cache"  # an absolute path: the course's private folder is not touched
        try:
            cold, _, _ = grade(course, failing, Path(work) / "failing-cold", args.jobs)
        finally:
            grading.PRIVATE_DIR = saved
        print(f"cold cache: failing {cold:6.1f} s", flush=True)
    base, slow = statistics.median(times["correct"]), statistics.median(times["failing"])
    lines = [
        "## Diagnosis cost (`bench/diagnosis_cost.py`)",
        "",
        f"{args.students} students, {len(course.functions)} functions each, per-student hidden inputs, {args.jobs} sandboxes, "
        f"{args.rounds} round(s), median wall time. Failing class: {share:.0%} of the functions planned to fail "
        f"({lost} of {args.students * len(course.functions)} lost credit).",
        "",
        "| class | wall time (median) | each round |",
        "|---|---|---|",
        f"| every function correct | {base:.1f} s | {', '.join(f'{t:.1f}' for t in times['correct'])} |",
        f"| a third failing | {slow:.1f} s | {', '.join(f'{t:.1f}' for t in times['failing'])} |",
        "",
        f"**Slowdown: {100 * (slow / base - 1):+.0f} %** (target: at most +20 %).",
        "",
        f"The generated models' and the catalogue's tables are kept between runs (`.rnnkit/cache/`). The first run of a course "
        f"builds them: the failing class, graded once more with no cache, took {cold:.1f} s ({100 * (cold / base - 1):+.0f} %). "
        f"Gradescope's `setup.sh` builds them once for the image, so no submission pays for them.",
        "",
        "Time in the diagnosis stages of the failing class (grader threads, summed; median over rounds):",
        "",
        "| stage | seconds |",
        "|---|---|",
    ]
    for label in sorted({k for s in stages["failing"] for k in s}):
        lines.append(f"| {label} | {statistics.median(s.get(label, 0.0) for s in stages['failing']):.1f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.results.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
