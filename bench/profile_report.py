"""The markdown of the profile section: where `rnnkit grade`'s time and memory go (:mod:`.internals`, :mod:`.anatomy`)."""
from __future__ import annotations

import statistics

from rnnkit.course import Course

from . import anatomy as probes
from .anatomy import Anatomy
from .classes import MIX
from .imports import Imports
from .internals import DIAGNOSE, DRAW, IN_POOL, OUTPUTS, RUN, SCORE, ZYGOTES, Held, Profile
from .report import now


def _inputs_words(seed: int | None) -> str:
    return "per-student inputs (`seed=None`, the default; a throwaway course secret)" if seed is None else f"one seed for all (`seed={seed}`)"


def summary_lines(profile: Profile, anatomy: Anatomy, imports: Imports, students: int, course: Course) -> list[str]:
    """The section's opening: the class's wall time split into what it is spent on."""
    ph = profile.phases
    zygotes, run, outputs = ph.get(ZYGOTES, 0.0), ph.get(RUN, 0.0), ph.get(OUTPUTS, 0.0)
    draw, scoring, diagnosis = ph.get(DRAW, 0.0), ph.get(SCORE, 0.0), ph.get(DIAGNOSE, 0.0)
    threads_busy = sum(sum(times) for times in profile.task_seconds.values()) + draw
    waiting = max(0.0, threads_busy - draw - scoring - diagnosis)
    rest = profile.wall - zygotes - run - outputs
    decoding = profile.named.get("from_bytes", 0.0)
    comparing = profile.named.get("compare", 0.0) + profile.named.get("changed_arguments", 0.0)
    ref_nb, empty, raising = anatomy.sandbox[probes.REFERENCE_NB], anatomy.sandbox[probes.EMPTY], anatomy.sandbox[probes.RAISING]
    one_zygote = anatomy.zygote_start.get("bwrap", anatomy.zygote_start.get("none", 0.0))
    serial = profile.jobs > 1 and zygotes > 0.75 * profile.jobs * one_zygote
    zygote_imports = imports.seconds["the zygote's imports (import rnnkit.worker.zygote)"]
    cli = imports.seconds["import rnnkit.cli, then load course.yml (what every grading run does first)"]
    draws = profile.calls.get(DRAW, 0)

    def share(x: float) -> str:
        return f"{100 * x / profile.wall:.0f} %"

    jsonschema_words = (
        f"`jsonschema` is {imports.jsonschema_in_zygote:.2f} s of them" if imports.jsonschema_in_zygote > 0.1 else "`jsonschema` is not among them"
    )
    return [
        f"In short, for the {students}-student class at `--jobs {profile.jobs}`, with {_inputs_words(profile.seed)}, grading "
        f"in-process takes {profile.wall:.1f} s (the command adds its own start: Python, `import rnnkit.cli` and loading "
        f"`course.yml`, {cli:.2f} s, {imports.jsonschema_in_grader:.2f} s of it importing `jsonschema` to validate the course"
        + (
            "; slow because nbgrader's Jupyter dependencies (`jupyter-events`) install `rfc3987-syntax`, which `jsonschema` "
            "imports and which builds a parser at import"
            if imports.jsonschema_in_grader > 0.2
            else ""
        )
        + "):",
        "",
        f"- **starting the zygotes**: {zygotes:.1f} s ({share(zygotes)}), {profile.jobs} zygote{'s' if profile.jobs > 1 else ''}"
        + (" one after another" if serial else "")
        + f", {one_zygote:.2f} s each: bubblewrap {max(0.0, anatomy.zygote_start.get('bwrap', 0.0) - anatomy.zygote_start.get('none', 0.0)):.2f} s, "
        f"the rest a fresh Python, its imports ({zygote_imports:.2f} s; {jsonschema_words}) and a warm-up;",
        f"- **running the tasks** (`Pool.run`): {run:.1f} s ({share(run)}), {run / students:.3f} s per student on {profile.jobs} "
        f"zygotes. Everything the grader does per task happens in there, in the pool's {profile.jobs} thread"
        f"{'s' if profile.jobs > 1 else ''} (one per zygote), while the other zygotes keep working: summed over the threads, "
        f"{threads_busy:.1f} s, of which drawing the cases and the reference's answers {draw:.2f} s ({draws} draws for "
        f"{profile.tasks} tasks), scoring the data as it arrives {scoring:.2f} s ({decoding:.2f} s decoding results, "
        f"`calls.from_bytes`; {comparing:.2f} s comparing them, `compare` and `changed_arguments`), naming the mistakes "
        f"{diagnosis:.2f} s, and the rest, {waiting:.1f} s, mostly waiting for the workers. Per student at `--jobs 1` a reference "
        f"student takes {ref_nb:.3f} s in the sandbox, of which {empty:.3f} s is the fixed cost of five files and "
        f"{raising - empty:.3f} s calling each of the {len(course.functions)} functions, limits and results back (below);",
        f"- **writing the outputs** {outputs:.2f} s, everything else (loading the course, finding and reading the files) {rest:.2f} s.",
        "",
        "(An earlier version of this section said whether scoring ran *while* the sandbox worked. It always does now: each "
        "task is scored by the pool thread that runs it, as its data arrives, so the question no longer has two answers.)",
    ]


def phase_lines(profile: Profile, students: int) -> list[str]:
    lines = [
        "",
        f"### The grader's phases: the {students}-student class, in-process, `--jobs {profile.jobs}`, {_inputs_words(profile.seed)}",
        "",
        f"`grade_class` and `write_class` called in this process with timers around each phase (wall {profile.wall:.1f} s; "
        f"the grader process itself used {profile.grader_cpu:.1f} s of CPU, the machine {profile.cores_busy:.2f} cores on average). "
        "Rows marked *in `Pool.run`* run in the pool's threads and are summed over them: they are part of the `Pool.run` "
        "row, not added to it.",
        "",
        "| phase | calls | s | s per student |",
        "|---|---|---|---|",
    ]
    for name, seconds in profile.phases.items():
        where = " (*in `Pool.run`*)" if name in IN_POOL else ""
        lines.append(f"| {name}{where} | {profile.calls.get(name, 0)} | {seconds:.2f} | {seconds / students:.4f} |")
    lines += ["", "Time of one task as the grader sees it (`ZygoteHandle.begin` to the end of `finish`: hand over, run, score every frame, name the mistakes; the next task is drawn and handed over meanwhile), by what was handed in:", ""]
    lines += ["| handed in | files | mean s per file | total s |", "|---|---|---|---|"]
    for kind, _ in MIX:
        times = profile.task_seconds.get(kind, [])
        if times:
            lines.append(f"| {kind} | {len(times)} | {statistics.mean(times):.3f} | {sum(times):.1f} |")
    lines += [
        "",
        "Where the grader's own work (the profiled phases: course, discovery, draws, scoring, diagnosis, outputs; one "
        "profiler per thread, merged) spends its time, by cProfile:",
        "",
        "| function | own s | cumulative s |",
        "|---|---|---|",
    ]
    lines += [f"| `{where}` | {own:.2f} | {cumulative:.2f} |" for where, own, cumulative in profile.hot[:10]]
    return lines


def anatomy_lines(anatomy: Anatomy, course: Course) -> list[str]:
    parts, functions = len(course.parts), len(course.functions)
    sb = anatomy.sandbox
    empty, raising, stub = sb[probes.EMPTY], sb[probes.RAISING], sb[probes.STUB]
    ref_py, ref_nb = sb[probes.REFERENCE_PY], sb[probes.REFERENCE_NB]
    work = sum(anatomy.in_process.values())
    lines = [
        "",
        f"### Inside the sandbox: trivial files against real ones (`--jobs 1`, one zygote, {anatomy.reps} students x {parts} parts each)",
        "",
        "Each file is one task through `ZygoteHandle.run`, with the hidden inputs of the fixed seed and a consumer that only "
        "counts frames (no decoding, scoring or diagnosis: those are the grader's, above).",
        "",
        "| each student hands in | s per student (5 files) |",
        "|---|---|",
    ]
    lines += [f"| {probe} | {seconds:.3f} |" for probe, seconds in sb.items()]
    lines += ["", "The same work as the reference notebook's, done in this process without any sandbox:", "", "| step | s per student |", "|---|---|"]
    lines += [f"| {step} | {seconds:.4f} |" for step, seconds in anatomy.in_process.items()]
    lines += [
        "",
        f"So, per student (five files, {functions} functions), in the sandbox at `--jobs 1`:",
        "",
        f"- **per file** (hand over the file and inputs as sealed memory files and a result pipe, fork a worker, confine it, "
        f"kill and sweep its processes, remove its files): {empty:.3f} s per student, {1000 * empty / parts:.1f} ms per file;",
        f"- **per function** (called by the worker itself, its own limits, results back; a call child only after a crash): {raising - empty:.3f} s per student, "
        f"{1000 * (raising - empty) / functions:.1f} ms per function;",
        f"- **notebook** (parse the JSON, IPython's transformer, run the theory cells): stub notebook vs raising module, {stub - raising:.3f} s; "
        f"reference notebook vs reference module, {ref_nb - ref_py:.3f} s;",
        f"- **the student's code and the numerics**, with encoding the results: {ref_py - raising:.3f} s in the sandbox "
        f"(the reference module vs the raising one); in-process the same calls and encoding take {work - anatomy.in_process[probes.CELLS]:.3f} s;",
        f"- a whole reference student: {ref_nb:.3f} s in the sandbox vs {work:.3f} s of the same work in-process.",
    ]
    return lines


def memory_lines(held: Held) -> list[str]:
    n = held.students
    received = held.received
    total, largest = sum(received), max(received, default=0)
    mean = statistics.mean(received) if received else 0.0

    def row(what: str, size: float) -> str:
        return f"| {what} | {size / 2**20:.1f} | {size / 2**20 / n:.3f} |"

    return [
        "",
        f"### The grader process's memory ({n} students, `--jobs {held.jobs}`, {_inputs_words(held.seed)}; tracemalloc: Python allocations only)",
        "",
        "| what | MB | MB per student |",
        "|---|---|---|",
        row("the most allocated at once while grading", held.peak),
        row("still allocated when grading is done (the results)", held.kept),
        row("... of which decoded outputs still held (dropped once a task's mistakes are named)", held.decoded),
        row("the most allocated at once while writing the outputs (results included)", held.writing),
        row(f"data received from the workers, all {len(received)} tasks summed (what keeping it all would cost)", total),
        "",
        f"Data received per task (payloads, and headers counted as JSON, at `TaskScorer.frame`): mean {mean / 2**10:.0f} KB, "
        f"largest {largest / 2**10:.0f} KB. The grader no longer keeps frames: each task's data is decoded and compared as it "
        f"arrives, its outputs are kept until its mistakes are named and then dropped, so at most {held.jobs} tasks' outputs "
        "are held at once.",
    ]


def profile_section(profile: Profile, anatomy: Anatomy, held: Held, imports: Imports, students: int, course: Course, revision: str) -> str:
    lines = [f"## Where `rnnkit grade`'s time goes ({now()}, {revision})", ""]
    lines += summary_lines(profile, anatomy, imports, students, course)
    lines += ["", "### Process start and imports (median of 5 runs)", "", "| what | s |", "|---|---|"]
    lines += [f"| {name} | {seconds:.3f} |" for name, seconds in imports.seconds.items()]
    lines += [
        "",
        f"`jsonschema` within the zygote's imports: {imports.jsonschema_in_zygote:.3f} s; within the command's imports up to a loaded "
        f"course: {imports.jsonschema_in_grader:.3f} s (from `python -X importtime`).",
        "",
        "### Zygote start (median of 3)",
        "",
        "One zygote per job, started before grading (`Pool(1, ...)`): bubblewrap, a fresh Python, its imports and a warm-up run. "
        "`none` is the same zygote without bubblewrap, which isolates bubblewrap's own cost.",
        "",
        "| sandbox | s per zygote |",
        "|---|---|",
    ]
    lines += [f"| `{mode}` | {seconds:.3f} |" for mode, seconds in anatomy.zygote_start.items()]
    lines += phase_lines(profile, students)
    lines += anatomy_lines(anatomy, course)
    lines += memory_lines(held)
    return "\n".join(lines) + "\n"
