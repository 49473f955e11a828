"""The three graders on one class: each run measured, its scores read back, and how far they agree."""
from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rnnkit.course import Course, load_course
from rnnkit.secret import PRIVATE_DIR, SECRET_FILE

from .classes import ASSIGNMENT
from .machine import BIN, ROOT, Measured, run_measured, tool_env


@dataclass
class GraderRun:
    label: str
    how: str
    students: int
    notebooks: int
    measured: Measured
    #: student -> function -> points
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    #: wall time for the whole class when only a sample was measured
    extrapolated_to: int | None = None
    #: rnnkit only: ``--jobs``, the ``--seed`` given (None: none), and whether the run drew per-student inputs
    jobs: int = 0
    seed: int | None = None
    per_student_inputs: bool = False
    #: rnnkit only: the wall time of each round (``measured`` is the median round's)
    rounds: list[float] = field(default_factory=list)

    @property
    def per_student(self) -> float:
        return self.measured.wall / self.students

    @property
    def class_wall(self) -> float:
        return self.per_student * (self.extrapolated_to or self.students)


def rnnkit_scores(out_dir: Path, course: Course) -> dict[str, dict[str, float]]:
    with open(out_dir / "grades.csv", newline="", encoding="utf-8") as f:
        return {row["student"]: {fn.name: float(row[fn.name]) for fn in course.functions} for row in csv.DictReader(f)}


def course_copy(work: Path) -> Path:
    """A copy of the course (course.yml, solutions, assignments) in ``work``.

    A run without ``--seed`` draws each student's inputs from the course secret, which
    ``rnnkit grade`` creates in the course folder on first use: graded against this copy,
    the benchmark writes no secret into the checkout, and whether the secret file appears
    tells whether the command really drew per-student inputs.
    """
    copy = work / "course"
    if not copy.exists():
        ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
        copy.mkdir(parents=True)
        shutil.copy2(ROOT / "course.yml", copy / "course.yml")
        for folder in ("solutions", "assignments"):
            shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    return copy


def grade_rnnkit(work: Path, class_dir: Path, jobs: int, students: int, seed: int | None, rounds: int = 1) -> GraderRun:
    """``rnnkit grade --jobs N``, with ``--seed`` when ``seed`` is given (the exports' hidden cases), else per-student inputs.

    ``rounds`` runs, each into an empty folder (a folder graded before would keep its unchanged students): the
    median's measurement is reported, and every round's wall time (this machine's noise is larger than a few per cent).
    """
    tag = f"j{jobs}" + ("" if seed is None else f"-seed{seed}")
    out = work / f"rnnkit-grades-{tag}"
    command = [str(BIN / "rnnkit"), "grade", str(class_dir), "--out", str(out), "--jobs", str(jobs)]
    if seed is None:
        course_root = course_copy(work)
        secret = course_root / SECRET_FILE
        secret.unlink(missing_ok=True)
        # The generated models' tables, as the seeded runs before this one left them: a course's first run builds
        # them once (bench/diagnosis_cost.md measures that); every later run reads them.
        tables = ROOT / PRIVATE_DIR / "cache"
        if tables.is_dir():
            (course_root / PRIVATE_DIR).mkdir(mode=0o700, exist_ok=True)  # private, like the course's own
            shutil.copytree(tables, course_root / PRIVATE_DIR / "cache", dirs_exist_ok=True)
        env = tool_env(RNNKIT_COURSE=str(course_root))  # tool_env drops RNNKIT_SECRET: the secret comes from the file
    else:
        command += ["--seed", str(seed)]
        env = tool_env(RNNKIT_COURSE=str(ROOT))
    trials = []
    for _ in range(max(1, rounds)):
        shutil.rmtree(out, ignore_errors=True)
        trials.append(run_measured(command, cwd=work, env=env, log=work / f"rnnkit-{tag}.log"))
    measured = sorted(trials, key=lambda m: m.wall)[len(trials) // 2]
    course = load_course(ROOT)
    if seed is not None:
        label, inputs = f"`rnnkit grade --jobs {jobs} --seed {seed}`", "one seed for all (the exports' hidden cases)"
    else:
        label = f"`rnnkit grade --jobs {jobs}`"
        inputs = (
            "per-student inputs (the default)" if secret.exists()
            else "per-student inputs requested, **but the command read no course secret: it used one seed for all**"
        )
    run_ = GraderRun(label, f"sandboxed, one process tree; {inputs}", students, students * len(course.parts), measured, rnnkit_scores(out, course))
    run_.per_student_inputs = seed is None and secret.exists()
    run_.jobs, run_.seed = jobs, seed
    run_.rounds = [m.wall for m in trials]
    return run_


def nbgrader_scores(course_dir: Path, students: list[str]) -> dict[str, dict[str, float]]:
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}", "rnnkit") as gb:
        for student in students:
            submission = gb.find_submission(ASSIGNMENT, student)
            scores[student] = {g.name.removeprefix("test_"): float(g.score) for nb in submission.notebooks for g in nb.grades}
    return scores


def grade_nbgrader(work: Path, course_dir: Path, plan: dict, course: Course) -> GraderRun:
    measured = run_measured([str(BIN / "nbgrader"), "autograde", ASSIGNMENT], cwd=course_dir, log=work / "nbgrader-autograde.log")
    scores = nbgrader_scores(course_dir, list(plan))
    return GraderRun("`nbgrader autograde`", "in-kernel, one kernel per notebook, sequential", len(plan), len(plan) * len(course.parts), measured, scores)


def otter_scores(results: Path) -> dict[str, float]:
    data = json.loads(results.read_text(encoding="utf-8"))
    return {t["name"]: float(t.get("score") or 0) for t in data.get("tests", []) if t.get("name") != "Public Tests"}


def grade_otter(work: Path, folder: Path, dist: Path, sample: dict, total_students: int, course: Course) -> GraderRun:
    """``otter run`` once per notebook, one after another; the sums of the runs."""
    zips = {p.name: next((dist / p.name / "autograder").glob("*.zip")) for p in course.parts}
    total = Measured(0.0, 0)
    busy = 0.0
    scores: dict[str, dict[str, float]] = {}
    for number, (student, parts) in enumerate(sample.items(), start=1):
        scores[student] = {}
        for part in parts:
            here = folder / student / part
            m = run_measured([str(BIN / "otter"), "run", "-a", str(zips[part]), f"{part}.ipynb", "-o", str(here), "--no-logo"], cwd=here, log=here / "otter.log")
            total.wall += m.wall
            busy += m.cores_busy * m.wall
            total.peak_pss, total.peak_rss = max(total.peak_pss, m.peak_pss), max(total.peak_rss, m.peak_rss)
            total.max_rss, total.processes = max(total.max_rss, m.max_rss), max(total.processes, m.processes)
            total.background = max(total.background, m.background)
            scores[student].update(otter_scores(here / "results.json"))
        print(f"  otter run: {number}/{len(sample)} students, {total.wall:.0f} s so far", flush=True)
    total.cores_busy = busy / total.wall if total.wall else 0.0
    how = "in-kernel, `otter run` per notebook, sequential"
    run_ = GraderRun("`otter run`", how, len(sample), len(sample) * len(course.parts), total, scores)
    if len(sample) < total_students:
        run_.extrapolated_to = total_students
    return run_


# --------------------------------------------------------------------------- agreement


@dataclass
class Agreement:
    pair: str
    compared: int
    agreeing: int
    differences: list[tuple[str, str, float, float, str]]  # student, function, kit, other, what was handed in


def agreement(kit: GraderRun, other: GraderRun, plan: dict, course: Course) -> Agreement:
    part_of = {f.name: f.part for f in course.functions}
    students = [s for s in other.scores if s in kit.scores]
    agreeing, differences = 0, []
    for student in students:
        mine, theirs = kit.scores[student], other.scores[student]
        if abs(sum(mine.values()) - sum(theirs.get(f, 0.0) for f in mine)) <= 0.01 + 1e-9:
            agreeing += 1
        for function, score in mine.items():
            if abs(score - theirs.get(function, 0.0)) > 0.01 + 1e-9:
                choice = plan[student][part_of[function]]
                differences.append((student, function, score, theirs.get(function, 0.0), f"{choice.kind}: `{choice.source}`"))
    return Agreement(f"{kit.label} vs {other.label}", len(students), agreeing, differences)
