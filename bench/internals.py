"""Where `rnnkit grade`'s time and memory go: its own code run in this process, with timers and tracemalloc.

The grader's pieces are wrapped in place (and unwrapped afterwards), so what
runs is ``rnnkit.grading.grade_class`` itself:

* ``CaseSet.draw``: the hidden cases of one task and the reference's answers;
* ``Pool.__init__``: starting the zygotes; ``Pool.run``: running every task;
* ``ZygoteHandle.begin`` to the end of ``finish``: one task, as the grader sees it (the next task's
  hand-over and draw overlap it);
* ``TaskScorer.frame`` / ``.end``: scoring a task's data as it arrives;
* ``Diagnoser.diagnose_part``: naming the mistakes of a task's functions.

Drawing, scoring and diagnosing all happen in the pool's threads (one per
zygote), inside ``Pool.run``: they are part of its wall time, not added to it.
"""
from __future__ import annotations

import cProfile
import gc
import io
import json
import os
import pstats
import secrets
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rnnkit.course import Course, load_course

from .machine import ROOT, busy_jiffies

DRAW = "draw the hidden cases and the reference's answers (`CaseSet.draw`)"
ZYGOTES = "start the zygotes (`Pool.__init__`: bwrap, python, imports, warm-up)"
SCORE = "score the data as it arrives (`TaskScorer.frame` and `.end`)"
DIAGNOSE = "name the mistakes (`Diagnoser.diagnose_part`)"
RUN = "run the tasks (`Pool.run`, wall)"
OUTPUTS = "write outputs (feedback, results.json, CSVs, report.html)"
#: Phases that run inside ``Pool.run``, in the pool's threads: their seconds are summed over the threads.
IN_POOL = (DRAW, SCORE, DIAGNOSE)
#: Functions whose cumulative time the summary quotes, counted when scoring calls them: file -> names.
WATCHED = {"rnnkit/worker/calls.py": {"from_bytes"}, "rnnkit/compare.py": {"compare", "changed_arguments"}}
#: The caller that counts: the diagnosis compares values too, and is a phase of its own.
WATCHED_CALLER = "rnnkit/scoring.py"


def _is(filename: str, suffix: str) -> bool:
    return Path(filename).as_posix().endswith("/" + suffix)


class _Patches:
    """Attributes replaced for one measurement, and put back afterwards."""

    def __init__(self):
        self.saved: list[tuple[object, str, object]] = []

    def set(self, owner: object, name: str, value: object) -> None:
        self.saved.append((owner, name, owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)))
        setattr(owner, name, value)

    def restore(self) -> None:
        for owner, name, value in reversed(self.saved):
            setattr(owner, name, value)
        self.saved.clear()


@contextmanager
def bench_secret():
    """A throwaway course secret in the environment: per-student inputs without writing ``.rnnkit/secret`` into the checkout."""
    saved = os.environ.get("RNNKIT_SECRET")
    os.environ["RNNKIT_SECRET"] = secrets.token_hex(32)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("RNNKIT_SECRET", None)
        else:
            os.environ["RNNKIT_SECRET"] = saved


class _Timers:
    """Seconds and calls per phase, with one cProfile profiler per thread (a profiler serves one thread only)."""

    def __init__(self):
        self.phases: dict[str, float] = defaultdict(float)
        self.calls: Counter = Counter()
        self.profilers: list[cProfile.Profile] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def _profiler(self) -> cProfile.Profile:
        if not hasattr(self._local, "profiler"):
            self._local.profiler, self._local.depth = cProfile.Profile(), 0
            with self._lock:
                self.profilers.append(self._local.profiler)
        return self._local.profiler

    def timed(self, name: str, fn, profile: bool = True):
        """``fn`` with its time added to ``phases[name]`` (and profiled, unless ``profile`` is false)."""

        def wrapper(*args, **kwargs):
            profiler = self._profiler()
            outermost = profile and self._local.depth == 0
            self._local.depth += 1
            started = time.perf_counter()
            if outermost:
                profiler.enable()
            try:
                return fn(*args, **kwargs)
            finally:
                if outermost:
                    profiler.disable()
                self._local.depth -= 1
                with self._lock:
                    self.phases[name] += time.perf_counter() - started
                    self.calls[name] += 1

        return wrapper

    def stats(self) -> pstats.Stats | None:
        profilers = [p for p in self.profilers if p.getstats()]
        if not profilers:
            return None
        stats = pstats.Stats(profilers[0])
        for profiler in profilers[1:]:
            stats.add(profiler)
        return stats


@dataclass
class Profile:
    phases: dict[str, float]
    calls: dict[str, int]  # phase -> how many times it ran (draws: one per task, or one per part with a seed)
    wall: float
    grader_cpu: float
    cores_busy: float
    task_seconds: dict[str, list[float]]  # what was handed in -> seconds of each of its tasks in ZygoteHandle.run
    hot: list[tuple[str, float, float]]  # function, own seconds, cumulative seconds
    jobs: int
    named: dict[str, float]  # cumulative seconds of the WATCHED functions, called from scoring
    seed: int | None  # None: per-student inputs
    tasks: int


def profile_grade(class_dir: Path, out_dir: Path, plan: dict, jobs: int, seed: int | None = None) -> Profile:
    """`rnnkit grade`'s own code, in this process, with timers around its phases and cProfile on the grader's work."""
    from rich.console import Console

    import rnnkit.grading as grading
    from rnnkit.hidden_tests import CaseSet
    from rnnkit.diagnosis import Diagnoser
    from rnnkit.report import write_class
    from rnnkit.sandbox import pool as pool_module
    from rnnkit.sandbox import zygotes as zygotes_module
    from rnnkit.scoring import TaskScorer

    timers = _Timers()
    task_seconds: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()

    class TimedPool(pool_module.Pool):
        def __init__(self, *args, **kwargs):
            timers.timed(ZYGOTES, super().__init__, profile=False)(*args, **kwargs)

        def run(self, tasks, consumer_for, on_error):
            return timers.timed(RUN, super().run, profile=False)(tasks, consumer_for, on_error)

    original_begin, original_finish = zygotes_module.ZygoteHandle.begin, zygotes_module.ZygoteHandle.finish
    begun: dict[int, float] = {}

    def begin_task(handle, task):
        running = original_begin(handle, task)
        begun[id(running)] = time.perf_counter()
        return running

    def finish_task(handle, running, consumer, before_end=None):
        try:
            return original_finish(handle, running, consumer, before_end)
        finally:
            task = running.task
            with lock:
                task_seconds[plan[task.key[0]][task.part].kind].append(time.perf_counter() - begun.pop(id(running)))

    patches = _Patches()
    patches.set(grading, "Pool", TimedPool)
    patches.set(CaseSet, "draw", classmethod(timers.timed(DRAW, CaseSet.__dict__["draw"].__func__)))
    patches.set(TaskScorer, "frame", timers.timed(SCORE, TaskScorer.frame))
    patches.set(TaskScorer, "end", timers.timed(SCORE, TaskScorer.end))
    patches.set(Diagnoser, "diagnose_part", timers.timed(DIAGNOSE, Diagnoser.diagnose_part))
    patches.set(zygotes_module.ZygoteHandle, "begin", begin_task)
    patches.set(zygotes_module.ZygoteHandle, "finish", finish_task)
    cpu0, busy0 = time.process_time(), busy_jiffies()
    started = time.perf_counter()
    try:
        with bench_secret():
            course = timers.timed("load course.yml", load_course)(ROOT)
            submissions = timers.timed("find the submissions", grading.discover)(class_dir, course)
            students = grading.grade_class(submissions, course, seed=seed, jobs=jobs)
        timers.timed(OUTPUTS, write_class)(students, course, out_dir, "bench", Console(file=io.StringIO(), width=120))
    finally:
        patches.restore()
    wall = time.perf_counter() - started
    busy = (busy_jiffies() - busy0) / os.sysconf("SC_CLK_TCK")
    hot, named = [], {}
    stats = timers.stats()
    for (filename, line, name), (_, _, own, cumulative, callers) in (stats.stats.items() if stats else ()):  # type: ignore[attr-defined]
        where = f"{Path(filename).name}:{line}({name})" if line else name
        hot.append((where, own, cumulative))
        if any(_is(filename, path) and name in names for path, names in WATCHED.items()):
            from_scoring = sum(edge[3] for caller, edge in callers.items() if _is(caller[0], WATCHED_CALLER))
            named[name] = named.get(name, 0.0) + from_scoring
    hot.sort(key=lambda h: -h[1])
    tasks = sum(len(times) for times in task_seconds.values())
    return Profile(
        dict(timers.phases), dict(timers.calls), wall, time.process_time() - cpu0, busy / wall,
        dict(task_seconds), hot[:12], jobs, named, seed, tasks,
    )


@dataclass
class Held:
    """The grader process's Python memory while it grades the class (tracemalloc, bytes)."""

    peak: int  # the most allocated at once during grade_class
    kept: int  # still allocated once grade_class has returned (its results)
    decoded: int  # arrays of decoded outputs still held in the results (dropped once mistakes are named: should be 0)
    writing: int  # the most allocated at once while writing the outputs (results included)
    received: list[int]  # per task, the bytes of data frames received (payloads and headers as JSON)
    students: int
    jobs: int
    seed: int | None


def _array_bytes(value) -> int:
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_array_bytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_array_bytes(v) for v in value)
    return 0


def held_memory(class_dir: Path, course: Course, jobs: int = 2, seed: int | None = None) -> Held:
    """Grade the class again under tracemalloc: peak and kept memory, and how much data each task sent."""
    import tracemalloc

    from rich.console import Console

    import rnnkit.grading as grading
    from rnnkit.report import write_class
    from rnnkit.scoring import TaskScorer

    received: dict[tuple[str, str], int] = defaultdict(int)
    original_frame = TaskScorer.frame

    def counting_frame(scorer, header: dict, payload: bytes) -> None:
        received[scorer.task.key] += len(payload) + len(json.dumps(header))
        return original_frame(scorer, header, payload)

    submissions = grading.discover(class_dir, course)
    patches = _Patches()
    patches.set(TaskScorer, "frame", counting_frame)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    try:
        with bench_secret():
            students = grading.grade_class(submissions, course, seed=seed, jobs=jobs)
    finally:
        patches.restore()
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    with tempfile.TemporaryDirectory(prefix="rnnkit-bench-out-") as out:
        write_class(students, course, Path(out), "bench", Console(file=io.StringIO(), width=120))
        writing = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    decoded = sum(_array_bytes(c.found) + _array_bytes(c.args_after) for s in students for r in s.functions.values() for c in r.cases)
    return Held(peak - base, kept - base, decoded, writing - base, sorted(received.values()), len(students), jobs, seed)
