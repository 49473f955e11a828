"""Inside the sandbox: what a file costs there, from trivial probe files to the reference, against the same work in-process.

Probe files go through one zygote (``Pool(1, ...)``) with ``ZygoteHandle.run``
and a consumer that only counts frames: no decoding, no scoring, no diagnosis,
so the times are the sandbox's and the student code's alone. Each task gets the
hidden inputs of the fixed seed (``CaseSet.draw(part, DEFAULT_SEED, ...)``).
"""
from __future__ import annotations

import json
import os
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass

from rnnkit.cases import DEFAULT_SEED
from rnnkit.course import Course

from .classes import Choice, fill, module_text

EMPTY = "an empty .py file (nothing to call)"
RAISING = "a .py file whose functions raise at once"
STUB = "the stub notebook (cells run, functions raise)"
REFERENCE_PY = "the reference as a .py file"
REFERENCE_NB = "the reference as a notebook"
#: The in-process steps of the reference notebook's work.
CELLS = "parse the notebook and run its cells"
CALLS = "call the functions on the hidden cases"
ENCODE = "encode the results (`calls.to_bytes`)"


@dataclass
class Anatomy:
    """Seconds per student (five part files) for probe files graded in the sandbox, and the same work in-process."""

    sandbox: dict[str, float]
    in_process: dict[str, float]
    zygote_start: dict[str, float]
    reps: int


class CountingConsumer:
    """A trivial consumer of one task's data: counts frames and the cases that came back with a result."""

    def __init__(self):
        self.frames = 0
        self.results = 0
        self.ending = None

    def frame(self, header: dict, payload: bytes) -> None:
        self.frames += 1
        if header.get("event") == "case" and header.get("ok"):
            self.results += 1

    def end(self, ending) -> None:
        self.ending = ending


def _probe_files(course: Course) -> dict[str, dict[str, tuple[str, bytes]]]:
    """probe -> part -> (filename, bytes)."""
    probes: dict[str, dict[str, tuple[str, bytes]]] = defaultdict(dict)
    for part in course.parts:
        names = [f.name for f in part.functions]
        raising = "".join(f"def {n}(*args, **kwargs):\n    raise NotImplementedError\n\n\n" for n in names)
        reference = module_text(course, Choice("reference", ""), part.name)
        notebook = json.loads((course.assignments_dir / f"{part.name}.ipynb").read_text(encoding="utf-8"))
        probes[EMPTY][part.name] = (f"{part.name}.py", b"# nothing here\n")
        probes[RAISING][part.name] = (f"{part.name}.py", raising.encode())
        probes[STUB][part.name] = (f"{part.name}.ipynb", json.dumps(notebook).encode())
        probes[REFERENCE_PY][part.name] = (f"{part.name}.py", reference.encode())
        probes[REFERENCE_NB][part.name] = (f"{part.name}.ipynb", json.dumps(fill(notebook, reference)).encode())
    return probes


def _run_probe(handle, tasks: list, probe: str) -> None:
    """Run ``tasks`` one after another on ``handle``; raise if the sandbox failed, or the reference did not answer every case."""
    for task in tasks:
        consumer = CountingConsumer()
        handle.run(task, consumer)
        ending = consumer.ending
        if ending is None or ending.lost or ending.garbled:
            raise RuntimeError(f"probe {probe!r}, {task.filename}: the task did not end cleanly ({ending})")
        if probe in (REFERENCE_PY, REFERENCE_NB) and consumer.results != sum(task.case_counts.values()):
            raise RuntimeError(f"probe {probe!r}, {task.filename}: {consumer.results} of {sum(task.case_counts.values())} cases answered")


def sandbox_anatomy(course: Course, reps: int = 10) -> Anatomy:
    """Grade trivial and real files through one zygote (jobs 1), and time the same work in this process."""
    from rnnkit.grading import task_seconds
    from rnnkit.hidden_tests import CaseSet, References
    from rnnkit.sandbox.modes import best_mode
    from rnnkit.sandbox.pool import Pool
    from rnnkit.sandbox.tasks import Task
    from rnnkit.worker import calls, cells

    references = References(course)
    casesets = {part.name: CaseSet.draw(part, DEFAULT_SEED, references) for part in course.parts}
    starts: dict[str, float] = {}
    for mode in dict.fromkeys([best_mode(), "none"]):
        times = []
        for _ in range(3):
            started = time.perf_counter()
            with Pool(1, course.limits, mode=mode, hidden=[course.root]):
                times.append(time.perf_counter() - started)
        starts[mode] = statistics.median(times)

    def task(student: str, part, filename: str, data: bytes) -> Task:
        caseset = casesets[part.name]
        functions = [f.name for f in part.functions]
        return Task(
            (student, part.name), part.name, filename, data, functions,
            inputs=caseset.inputs, case_counts=caseset.case_counts, caps=caseset.caps,
            seconds=task_seconds(course, len(functions)),
        )

    sandbox = {}
    probes = _probe_files(course)
    with Pool(1, course.limits, hidden=[course.root]) as pool:
        handle = pool.handles[0]
        for probe, files in probes.items():
            tasks = [task(f"p{i}", part, *files[part.name]) for i in range(reps) for part in course.parts]
            _run_probe(handle, tasks[: len(course.parts)], probe)  # warm
            started = time.perf_counter()
            _run_probe(handle, tasks, probe)
            sandbox[probe] = (time.perf_counter() - started) / reps

    # The same work without the sandbox: parse the notebook and run its cells, then the numerics.
    saved = os.environ.get("RNNKIT_GRADING")
    os.environ["RNNKIT_GRADING"] = "1"  # as in the zygote: plot cells do not draw
    in_process = {CELLS: 0.0, CALLS: 0.0, ENCODE: 0.0}
    try:
        for _ in range(reps):
            for part in course.parts:
                filename, data = probes[REFERENCE_NB][part.name]
                started = time.perf_counter()
                loaded = cells.run_cells(cells.read_cells(data, filename), "__main__")
                in_process[CELLS] += time.perf_counter() - started
                for function in part.functions:
                    fn = loaded.namespace[function.name]
                    for case in casesets[part.name].cases[function.name]:
                        args = calls.copy_value(case.args)
                        args = tuple(a.build() if isinstance(a, calls.Probe) else a for a in args)
                        started = time.perf_counter()
                        result = fn(*args)
                        middle = time.perf_counter()
                        calls.to_bytes(*calls.encode({"result": result, "args_after": tuple(a for a in args if not callable(a))}))
                        in_process[CALLS] += middle - started
                        in_process[ENCODE] += time.perf_counter() - middle
    finally:
        if saved is None:
            os.environ.pop("RNNKIT_GRADING", None)
        else:
            os.environ["RNNKIT_GRADING"] = saved
    return Anatomy(sandbox, {k: v / reps for k, v in in_process.items()}, starts, reps)
