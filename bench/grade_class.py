"""Benchmark: how long `rnnkit grade` takes for a synthetic class, and how much memory it needs.

    python bench/grade_class.py [--students 200] [--jobs 0] [--seed 1]

The class is a realistic mix for all five parts: correct notebooks and modules
(the reference solutions), wrong submissions from the test corpus, and
untouched stub notebooks. Results go to stdout and bench/results-grade_class.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "autograder"))

from rnnkit import content  # noqa: E402
from rnnkit.course import load_course  # noqa: E402
from rnnkit.grading import discover, grade_class  # noqa: E402
from rnnkit.sandbox.pool import best_mode  # noqa: E402


def build_class(folder: Path, students: int, rng: random.Random) -> dict[str, int]:
    """Write ``students`` folders; return how many files of each kind were written."""
    course = load_course(ROOT)
    corpus = {p.name: sorted((ROOT / "tests" / "corpus" / p.name).glob("*.py")) for p in course.parts}
    sources = {p.name: content.source_path(course.solutions_dir, p.name).read_text() for p in course.parts}
    notebooks = {p.name: jupytext.writes(content.read_source(course.solutions_dir, p.name), fmt="ipynb") for p in course.parts}
    kinds = {"correct notebook": 0, "correct module": 0, "wrong module": 0, "stub notebook": 0}
    for i in range(students):
        home = folder / f"student{i:04d}"
        home.mkdir(parents=True)
        for part in course.parts:
            roll = rng.random()
            if roll < 0.35:
                (home / f"{part.name}.ipynb").write_text(notebooks[part.name])
                kinds["correct notebook"] += 1
            elif roll < 0.55:
                (home / f"{part.name}.py").write_text(sources[part.name])
                kinds["correct module"] += 1
            elif roll < 0.9:
                (home / f"{part.name}.py").write_text(rng.choice(corpus[part.name]).read_text())
                kinds["wrong module"] += 1
            else:
                (home / f"{part.name}.ipynb").write_text((course.assignments_dir / f"{part.name}.ipynb").read_text())
                kinds["stub notebook"] += 1
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=0, help="0: one per core")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results-grade_class.md")
    args = parser.parse_args()
    jobs = args.jobs or os.cpu_count() or 1
    course = load_course(ROOT)
    with tempfile.TemporaryDirectory(prefix="rnnkit-bench-") as scratch:
        kinds = build_class(Path(scratch), args.students, random.Random(args.seed))
        submissions = discover(Path(scratch), course)
        started = time.perf_counter()
        results = grade_class(submissions, course, jobs=jobs)
        seconds = time.perf_counter() - started
    mean = sum(r.total for r in results) / len(results)
    grader_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = [
        "# `rnnkit grade` on a synthetic class",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, sandbox `{best_mode()}`.",
        f"Class: {args.students} students x {len(course.parts)} parts ({', '.join(f'{v} {k}' for k, v in kinds.items())}).",
        "",
        "| students | jobs | wall time (s) | s per student | grader peak RSS (MB) | largest sandbox process peak RSS (MB) | mean score |",
        "|---|---|---|---|---|---|---|",
        f"| {args.students} | {jobs} | {seconds:.1f} | {seconds / args.students:.3f} | {grader_mb:.0f} | {child_mb:.0f} | {mean:.1f} / {course.possible:g} |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
