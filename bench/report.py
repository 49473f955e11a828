"""The markdown of ``bench/results.md``: the comparison and scale sections, and writing them into the file.

The file is made of sections between ``<!-- section: NAME -->`` and
``<!-- end: NAME -->`` markers; each run replaces the sections it measured and
keeps the others. The profile section is :mod:`.profile_report`'s.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from rnnkit.course import Course

from .classes import describe_mix
from .graders import Agreement, GraderRun
from .machine import SAMPLE_SECONDS, Measured, mb

#: Targets of issue 6 on a 2-core machine.
TARGET_RATIO = 20
TARGET_SECONDS_PER_STUDENT = 0.3
#: The sections of bench/results.md, in order ("similarity" is written by bench/similarity.py).
SECTIONS = ("machine", "comparison", "profile", "scale", "similarity")


def interference(runs: list[tuple[str, Measured]]) -> list[str]:
    """A warning for each run that started while other work kept the machine busy (waited up to a minute for quiet)."""
    busy = [(label, m.background) for label, m in runs if m.background >= 0.25]
    if not busy:
        return ["Before each run the machine was quiet (less than 0.25 cores busy with other work).", ""]
    words = "; ".join(f"{label}: {load:.2f} cores" for label, load in busy)
    return [f"**Other work was running** when these runs started, so their times may be too high: {words}.", ""]


def _ratio(run_: GraderRun, base: GraderRun) -> str:
    return f"{run_.per_student / base.per_student:.1f}x"


def inputs_lines(inputs: Agreement, own: GraderRun | None) -> list[str]:
    """What per-student inputs change in the scores, against one seed for all (not an agreement between graders)."""
    lines = [
        "#### Per-student inputs against one seed",
        "",
        f"{inputs.pair}: {inputs.agreeing} of {inputs.compared} students have the same total (±0.01 points). "
        "A correct function passes whatever the inputs, and a stub fails on any; a partly wrong function may pass some cases "
        "on one draw and others on another, so different totals there are expected, not a disagreement.",
    ]
    if own is not None and not own.per_student_inputs:
        lines[-1] += " (Here both runs used one seed: see above.)"
    lines.append("")
    if inputs.differences:
        kinds = Counter(d[4].split(":", 1)[0] for d in inputs.differences)
        lines += [
            f"{len(inputs.differences)} function scores differ, by what was handed in: "
            + ", ".join(f"{kind} {count}" for kind, count in kinds.most_common()) + ".",
            "",
        ]
    return lines


def comparison_section(
    runs: list[GraderRun], agreements: list[Agreement], inputs: Agreement | None, plan: dict, course: Course, setup_seconds: float, revision: str
) -> str:
    """``agreements``: rnnkit with one seed against each other grader; ``inputs``: per-student inputs against one seed."""
    base = next(r for r in runs if r.jobs == 2 and r.seed is not None)
    own = next((r for r in runs if r.jobs == 2 and r.seed is None), None)
    students = len(plan)
    lines = [
        f"## The same class, {len(runs)} ways ({now()}, {revision})",
        "",
        f"Class: {students} students x {len(course.parts)} parts, every notebook handed in: {describe_mix(plan)}. "
        "Reference: the reference solution; correct variant: a correct alternative from `tests/corpus`; wrong variant: a "
        "module from `tests/corpus` with one typical mistake; stub: the notebook as released. The same choice fills each "
        "grader's own student notebook.",
        "",
        f"rnnkit grades with `--seed {base.seed}` (the fixed seed of the nbgrader and otter exports, so every grader runs the "
        "same hidden cases and their scores can be compared), and once more without `--seed`, as a course would by default: "
        "each task's inputs are then drawn from the course secret, the student and the file (so each task also draws its "
        "cases and computes the reference's answers for them, which one seed does once per part). That run grades a copy of "
        "the course with a fresh secret, and with the generated error models' tables the runs before it built "
        "(`.rnnkit/cache/`), as any run after a course's first finds them; what the first run costs to build them is in "
        "`bench/diagnosis_cost.md`.",
        "",
        f"| grader | how student code runs | students graded | wall time (s) | s per student | time ÷ `--jobs 2 --seed {base.seed}` | peak memory, tree PSS (MB) | tree RSS (MB) | largest process (MB) | CPU cores busy |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        m = r.measured
        wall = f"{m.wall:.1f}" + (f" (median of {', '.join(f'{w:.1f}' for w in r.rounds)})" if len(r.rounds) > 1 else "")
        graded = f"{r.students}"
        if r.extrapolated_to:
            graded = f"{r.students} (sample)"
        lines.append(
            f"| {r.label} | {r.how} | {graded} | {wall} | {r.per_student:.3f} | {_ratio(r, base)} | {mb(m.peak_pss)} | {mb(m.peak_rss)} | {mb(m.max_rss)} | {m.cores_busy:.2f} |"
        )
        if r.extrapolated_to:
            lines.append(
                f"| {r.label}, **extrapolated** | the sample's time per student x {r.extrapolated_to} | {r.extrapolated_to} (est.) | "
                f"**≈ {r.class_wall:.0f} (est.)** | {r.per_student:.3f} | {_ratio(r, base)} | {mb(m.peak_pss)} | {mb(m.peak_rss)} | {mb(m.max_rss)} | {m.cores_busy:.2f} |"
            )
    nb = next((r for r in runs if r.label == "`nbgrader autograde`"), None)
    lines += [
        "",
        "Wall time: from starting the command to its exit, outputs written (rnnkit: grades.csv, mistakes.csv, feedback, "
        "results.json, report.html; nbgrader: the gradebook and autograded notebooks; otter: results.json per notebook). "
        f"Memory: *tree PSS* and *tree RSS* are the largest sums over every process of the command's tree, sampled every "
        f"{SAMPLE_SECONDS:g} s from /proc (PSS shares a page between the processes that map it, so it is the tree's real "
        "footprint; RSS counts shared pages once per process); *largest process* is `ru_maxrss` from `os.wait4` (the "
        "largest single process the command and its reaped descendants had). For otter: per `otter run`, the largest of "
        "the runs. *CPU cores busy*: the machine's CPU time over the wall time (2.00 = both cores busy).",
        "",
    ]
    if any(r.extrapolated_to for r in runs):
        otter = next(r for r in runs if r.extrapolated_to)
        lines += [
            f"otter: `otter run` takes several seconds per notebook, so it ran on a fixed sample, the first {otter.students} "
            f"students ({otter.notebooks} notebooks, one process each, one after another, as otter users grade without Docker), "
            f"and its class time is extrapolated linearly: {otter.per_student:.2f} s per student x {otter.extrapolated_to}. "
            "Its score agreement is over the sample.",
            "",
        ]
    lines += interference([(r.label, r.measured) for r in runs])
    if own is not None and not own.per_student_inputs:
        lines += [
            f"**{own.label} did not draw per-student inputs**: it created no course secret (the benchmark grades a copy of the "
            "course with no secret in it), so it ran one seed for all like the row above it; the command's default "
            "does not match the grader's (`grade_class(seed=None)`).",
            "",
        ]
    lines += ["### Targets (issue 6)", ""]
    if nb is not None:
        ratio = nb.per_student / base.per_student
        lines.append(
            f"- throughput against `nbgrader autograde` on the same class: **{ratio:.1f}x** (target ≥ {TARGET_RATIO}x): "
            + ("**met**." if ratio >= TARGET_RATIO else "**not met**.")
        )
    for r in (base, own):
        if r is None:
            continue
        inputs_words = "one seed for all" if r.seed is not None else "per-student inputs" if r.per_student_inputs else "no `--seed`"
        lines.append(
            f"- wall time per student, all five parts, `--jobs 2`, sandbox on, {inputs_words}: **{r.per_student:.3f} s** "
            f"(target < {TARGET_SECONDS_PER_STUDENT} s): " + ("**met**." if r.per_student < TARGET_SECONDS_PER_STUDENT else "**not met**.")
        )
    if own is not None and own.per_student_inputs:
        lines.append(f"- per-student inputs against one seed: {own.measured.wall / base.measured.wall:.2f}x the wall time.")
    elif own is not None:
        lines.append("- per-student inputs against one seed: not measured (the run without `--seed` used one seed, see above).")
    j1 = next((r for r in runs if r.jobs == 1), None)
    if j1 is not None:
        lines.append(f"- `--jobs 2` against `--jobs 1`: {j1.measured.wall / base.measured.wall:.2f}x faster on 2 cores.")
    totals = [sum(f.values()) for f in base.scores.values()]
    lines += [
        "",
        "### Do the graders agree?",
        "",
        f"rnnkit's totals for the class: mean {statistics.mean(totals):.1f} of {course.possible:g} (+{sum(f.points for f in course.functions if f.bonus):g} bonus), "
        f"from {min(totals):g} to {max(totals):g}, {len(set(totals))} different totals; "
        f"{sum(1 for t in totals if t >= course.possible)} students at or above {course.possible:g}.",
        "",
        "| graders | students compared | same total (±0.01 points) | share |",
        "|---|---|---|---|",
    ]
    for a in agreements:
        lines.append(f"| {a.pair} | {a.compared} | {a.agreeing} | {100 * a.agreeing / a.compared if a.compared else 0:.0f} % |")
    lines.append("")
    for a in agreements:
        if not a.differences:
            continue
        by_source = Counter((d[1], d[4]) for d in a.differences)
        lines.append(f"{a.pair}: {len(a.differences)} function scores differ by more than 0.01, from these submissions:")
        lines.append("")
        for (function, source), count in by_source.most_common(12):
            example = next(d for d in a.differences if (d[1], d[4]) == (function, source))
            lines.append(f"- `{function}`, {source}: {count}x (e.g. {example[0]}: rnnkit {example[2]:g}, other {example[3]:g})")
        lines.append("")
    if all(not a.differences for a in agreements):
        lines += ["Every function score agrees, student by student, within 0.01 points.", ""]
    if inputs is not None:
        lines += inputs_lines(inputs, own)
    lines.append(f"(Setting up, not timed: the exports, `nbgrader generate_assignment`, `otter assign` x 5 and the class in three layouts took {setup_seconds:.0f} s.)")
    return "\n".join(lines) + "\n"



def scale_section(
    rows: list[tuple[int, Measured]], single: list[Measured], students_per_single: int, revision: str, per_student_inputs: bool,
    slow_jsonschema: float = 0.0,
) -> str:
    """``per_student_inputs``: whether the runs (without ``--seed``) drew each task's inputs from the course secret;
    ``slow_jsonschema``: seconds the grader spends importing jsonschema here because Jupyter's extras are installed (0: not)."""
    inputs = (
        "no `--seed`: per-student inputs, the default" if per_student_inputs
        else "no `--seed`, **but the command read no course secret: one seed for all**"
    )
    lines = [
        f"## Scale: `rnnkit grade --jobs 2` from {rows[0][0]} to {rows[-1][0]} students ({now()}, {revision})",
        "",
        f"Same mix as above; the first students of the larger classes are the smaller classes. Hidden inputs: {inputs}.",
        "",
        "| students | wall time (s) | s per student | peak memory, tree PSS (MB) | tree RSS (MB) | largest process (MB) | CPU cores busy |",
        "|---|---|---|---|---|---|---|",
    ]
    for students, m in rows:
        lines.append(f"| {students} | {m.wall:.1f} | {m.wall / students:.3f} | {mb(m.peak_pss)} | {mb(m.peak_rss)} | {mb(m.max_rss)} | {m.cores_busy:.2f} |")
    lines += [""] + interference([(f"{n} students", m) for n, m in rows] + [("one Gradescope submission", m) for m in single])[:-1]
    xs, ys = [r[0] for r in rows], [r[1].wall for r in rows]
    if len(rows) >= 2:
        mean_x, mean_y = statistics.mean(xs), statistics.mean(ys)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)
        fixed = mean_y - slope * mean_x
        worst = max(abs(y - (fixed + slope * x)) / y for x, y in zip(xs, ys))
        lines += [
            "",
            f"A straight line fits: wall time ≈ {fixed:.1f} s + {slope:.3f} s x students (largest deviation {100 * worst:.0f} %). "
            "The fixed part is the start: Python and imports, both zygotes"
            + ("" if per_student_inputs else ", the reference answers (one draw per part)")
            + (". With per-student inputs each task draws its own cases and answers: that is in the per-student slope. " if per_student_inputs else ". ")
            + f"Peak memory from {rows[0][0]} to {rows[-1][0]} students: tree PSS {mb(rows[0][1].peak_pss)} → {mb(rows[-1][1].peak_pss)} MB, "
            f"largest process {mb(rows[0][1].max_rss)} → {mb(rows[-1][1].max_rss)} MB.",
        ]
    (n0, m0), (n1, m1) = rows[0], rows[-1]
    growth = (m1.max_rss - m0.max_rss) / (n1 - n0) / 2**20 if n1 > n0 else 0.0
    flat = m1.max_rss < 1.25 * m0.max_rss
    if flat:
        lines += ["", "Memory is flat: the largest process barely grows with the class."]
    else:
        lines += [
            "",
            f"**Memory is not flat**: the largest process grows by about {growth:.2f} MB per student "
            f"({mb(m0.max_rss)} MB at {n0}, {mb(m1.max_rss)} MB at {n1}); *The grader process's memory* above shows what the "
            "grader holds.",
        ]
    if single:
        walls = sorted(m.wall for m in single)
        median = statistics.median(walls)
        pss = max(m.peak_pss for m in single)
        per_student = m1.wall / n1
        hourly = 3600 / per_student
        memory_words = (
            "memory stays flat, so a larger class on one machine only takes longer"
            if flat
            else f"memory grows by about {growth:.2f} MB per student (10,000 students: about {growth * 10000 / 1024:.1f} GB in the grader)"
        )
        lines += [
            "",
            "### A class too large for one machine",
            "",
            f"On this machine, `rnnkit grade --jobs 2` grades about {float(f'{hourly:.2g}'):,.0f} students an hour "
            f"({per_student:.3f} s each at {n1} students); {memory_words}. "
            "Past that, grade with the Gradescope export (`rnnkit export gradescope`): Gradescope runs the autograder "
            "once per submission, each in a container of its own on Gradescope's machines, so submissions are graded in "
            "parallel as they come in and no machine of yours holds the class. One submission there is one cold run of "
            "`python -m rnnkit.export.gradescope` (what `run_autograder` executes): Python and the kit's imports, the "
            "zygotes, the reference answers, five parts. Measured here for "
            f"{len(single)} submissions of the class ({students_per_single} notebooks each), one at a time: "
            f"median **{median:.2f} s** wall (from {walls[0]:.2f} to {walls[-1]:.2f} s), peak tree PSS {mb(pss)} MB; "
            "Gradescope's own container start and upload are not included"
            + (
                f". {slow_jsonschema:.2f} s of each run imports `jsonschema`, slow here because nbgrader's Jupyter dependencies "
                "(`jupyter-events`) install `rfc3987-syntax`, which `jsonschema` then imports; Gradescope's venv gets only the "
                "kit's requirements, without it"
                if slow_jsonschema > 0.2
                else ""
            )
            + ". Per submission the start-up dominates "
            f"(the straight line's fixed part above); in a batch the same student costs {per_student:.3f} s. So a class of "
            f"10,000 takes about {10000 * per_student / 3600:.1f} hours on one machine like this one at `--jobs 2`, while on "
            f"Gradescope each submission is graded about {median:.0f} s after it arrives, whatever the size of the class, "
            "with Gradescope's machines doing the work in parallel.",
        ]
    return "\n".join(lines) + "\n"


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")



def write_results(path: Path, sections: dict[str, str]) -> str:
    """Replace the given sections of ``path``, keep the others (a section is between its markers)."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    kept = {}
    for name in SECTIONS:
        match = re.search(rf"<!-- section: {name} -->\n(.*?)<!-- end: {name} -->\n", old, re.DOTALL)
        if match:
            kept[name] = match.group(1)
    kept.update(sections)
    text = [
        "# Grading throughput: rnnkit, nbgrader and otter-grader",
        "",
        "Written by `bench/grading.py` (`make bench`; the scale section by `make bench-scale`). Every number is measured on the "
        "machine below; each section says when.",
        "",
    ]
    for name in SECTIONS:
        if name in kept:
            text += [f"<!-- section: {name} -->", kept[name].rstrip("\n"), f"<!-- end: {name} -->", ""]
    path.write_text("\n".join(text), encoding="utf-8")
    return "\n".join(text)
