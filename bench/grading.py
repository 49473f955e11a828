"""Benchmark: one synthetic class graded by rnnkit, nbgrader and otter-grader, side by side.

    python bench/grading.py                     # the comparison, then where rnnkit's time goes (make bench)
    python bench/grading.py --scale 10,100,1000 # `rnnkit grade --jobs 2` at several class sizes (make bench-scale)
    python bench/grading.py --students 6 --otter-students 1 --results /tmp/results.md   # a quick trial run

The class: ``--students`` students (default 100), each handing in all five part
notebooks drawn from a realistic mix (:mod:`bench.classes`). rnnkit grades it
with ``--seed DEFAULT_SEED``, the seed of the nbgrader and otter exports, so all
three run the same hidden cases and their scores can be compared; and once
more without ``--seed`` (per-student inputs, the default), timed alongside.

Each grader runs as a subprocess of this script (:mod:`bench.machine` measures
it); the profile runs rnnkit's own grading code in this process
(:mod:`bench.internals`, :mod:`bench.anatomy`).

Results are printed and written to ``bench/results.md`` (or ``--results``):
each run replaces the sections it measured and keeps the others.
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run as a script, this folder would be first on sys.path, and its modules would shadow
# top-level names (cProfile imports `profile`, for one): import them as the `bench` package instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path[:0] = [str(ROOT), str(ROOT / "autograder")]

from rnnkit.cases import DEFAULT_SEED  # noqa: E402
from rnnkit.course import Course, load_course  # noqa: E402
from rnnkit.secret import SECRET_FILE  # noqa: E402

from bench.classes import (  # noqa: E402
    Notebooks, blank_notebooks, describe_mix, plan_class, prepare_exports,
    write_nbgrader_submissions, write_otter_submissions, write_rnnkit_class,
)
from bench.graders import agreement, course_copy, grade_nbgrader, grade_otter, grade_rnnkit  # noqa: E402
from bench.imports import import_costs, import_trace  # noqa: E402
from bench.machine import BIN, Measured, background_load, code_revision, machine_lines, run_measured, same_revision, tool_env  # noqa: E402
from bench.report import comparison_section, interference, scale_section, write_results  # noqa: E402

RESULTS = ROOT / "bench" / "results.md"


def comparison(args, work: Path, course: Course) -> tuple[dict[str, str], Path, dict]:
    """Grade one class with every grader; the comparison section, the rnnkit class folder and the plan."""
    revision = code_revision()
    setup_started = time.perf_counter()
    exports = prepare_exports(work, course) if not {"nbgrader", "otter"} <= args.skip else None
    plan = plan_class(course, args.students, args.seed)
    notebooks = Notebooks(course, blank_notebooks(course, exports))
    class_dir = write_rnnkit_class(work / "class", plan, notebooks)
    sample = dict(list(plan.items())[: args.otter_students or len(plan)])
    if exports:
        write_nbgrader_submissions(exports["nbgrader"], plan, notebooks)
        write_otter_submissions(work / "otter-submissions", sample, notebooks)
    setup_seconds = time.perf_counter() - setup_started
    print(f"class of {len(plan)} students: {describe_mix(plan)}", flush=True)

    runs = []
    for jobs, seed in ((1, DEFAULT_SEED), (2, DEFAULT_SEED), (2, None)):
        words = f"--seed {seed}" if seed is not None else "without --seed (per-student inputs)"
        print(f"rnnkit grade --jobs {jobs} {words} ...", flush=True)
        runs.append(grade_rnnkit(work, class_dir, jobs, len(plan), seed, rounds=args.rounds))
        print(f"  {runs[-1].measured.wall:.1f} s (median of {', '.join(f'{w:.1f}' for w in runs[-1].rounds)})", flush=True)
    kit1, kit, own = runs
    if "nbgrader" not in args.skip:
        print(f"nbgrader autograde ({len(plan) * len(course.parts)} notebooks, one kernel each; about a second per notebook) ...", flush=True)
        runs.append(grade_nbgrader(work, exports["nbgrader"], plan, course))
        print(f"  {runs[-1].measured.wall:.1f} s", flush=True)
    if "otter" not in args.skip:
        print(f"otter run on {len(sample)} students ({len(sample) * len(course.parts)} notebooks, one after another) ...", flush=True)
        runs.append(grade_otter(work, work / "otter-submissions", exports["otter"], sample, len(plan), course))
    agreements = [agreement(kit, kit1, plan, course)] + [agreement(kit, r, plan, course) for r in runs[3:]]
    inputs = agreement(kit, own, plan, course)
    revision = same_revision(revision)
    section = comparison_section(runs, agreements, inputs, plan, course, setup_seconds, revision)
    return {"comparison": section}, class_dir, plan


def profile(work: Path, class_dir: Path, plan: dict, course: Course) -> str:
    """The profile section: imports, rnnkit's phases in-process, the sandbox's anatomy, the grader's memory."""
    from bench.anatomy import sandbox_anatomy
    from bench.internals import held_memory, profile_grade
    from bench.profile_report import profile_section

    revision = code_revision()
    background = background_load()
    imports = import_costs()
    found = profile_grade(class_dir, work / "profile-grades", plan, jobs=2, seed=None)
    anatomy = sandbox_anatomy(course)
    held = held_memory(class_dir, course, jobs=2, seed=None)
    section = profile_section(found, anatomy, held, imports, len(plan), course, same_revision(revision))
    return section + "\n" + "\n".join(interference([("the measurements of this section", Measured(0, 0, background=background))]))


def scale(args, work: Path, course: Course) -> dict[str, str]:
    """`rnnkit grade --jobs 2` (no `--seed`) at each class size, then single Gradescope submissions."""
    revision = code_revision()
    sizes = sorted(int(s) for s in args.scale.split(","))
    plan = plan_class(course, max(sizes), args.seed)
    notebooks = Notebooks(course, blank_notebooks(course, None))
    course_root = course_copy(work)  # the secret of per-student inputs is created there, not in the checkout
    secret = course_root / SECRET_FILE
    rows, per_student_inputs = [], True
    for size in sizes:
        class_dir = write_rnnkit_class(work / f"class-{size}", dict(list(plan.items())[:size]), notebooks)
        print(f"rnnkit grade --jobs 2 on {size} students ...", flush=True)
        secret.unlink(missing_ok=True)
        measured = run_measured(
            [str(BIN / "rnnkit"), "grade", str(class_dir), "--out", str(work / f"grades-{size}"), "--jobs", "2"],
            cwd=work, env=tool_env(RNNKIT_COURSE=str(course_root)), log=work / f"grade-{size}.log",
        )
        per_student_inputs = per_student_inputs and secret.exists()
        print(f"  {measured.wall:.1f} s", flush=True)
        rows.append((size, measured))
        shutil.rmtree(class_dir)
    # One Gradescope submission: a cold `python -m rnnkit.export.gradescope` on one student's notebooks.
    single = []
    for student, parts in list(plan.items())[:5]:
        root = work / f"gradescope-{student}"
        (root / "submission").mkdir(parents=True)
        for part, choice in parts.items():
            (root / "submission" / f"{part}.ipynb").write_text(notebooks.text("rnnkit", part, choice), encoding="utf-8")
        single.append(
            run_measured(
                [str(BIN / "python"), "-m", "rnnkit.export.gradescope", "--root", str(root), "--seed", str(DEFAULT_SEED)],
                cwd=work, env=tool_env(RNNKIT_COURSE=str(ROOT)), log=root / "run.log",
            )
        )
    jsonschema = import_trace([str(BIN / "python"), "-c", "from rnnkit.course import load_course; load_course()"]).get("jsonschema", 0.0)
    extras = importlib.util.find_spec("rfc3987_syntax") is not None
    section = scale_section(rows, single, len(course.parts), same_revision(revision), per_student_inputs, jsonschema if extras else 0.0)
    return {"scale": section}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100, help="students in the compared class (default 100)")
    parser.add_argument("--otter-students", type=int, default=10, help="students graded by otter, the rest extrapolated (0: all)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the class's mix (not of the hidden inputs)")
    parser.add_argument("--scale", default="", help="only the scale run: class sizes, e.g. 10,100,1000")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each rnnkit command in the comparison, the median reported (default 3)")
    parser.add_argument("--skip", default="", help="comma-separated: nbgrader, otter, profile")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary folder)")
    parser.add_argument("--out", "--results", dest="out", type=Path, default=RESULTS, help=f"the results file (default {RESULTS})")
    args = parser.parse_args()
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    course = load_course(ROOT)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        work = args.keep.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="rnnkit-bench-"))
    sections = {"machine": "## Machine\n\n" + "\n".join(machine_lines()) + "\n"}
    try:
        if args.scale:
            sections.update(scale(args, work, course))
        else:
            found, class_dir, plan = comparison(args, work, course)
            sections.update(found)
            if "profile" not in args.skip:
                print("where rnnkit's time goes ...", flush=True)
                sections["profile"] = profile(work, class_dir, plan, course)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = write_results(args.out, sections)
    print()
    print(text)
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
