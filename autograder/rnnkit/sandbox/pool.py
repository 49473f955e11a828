"""The grader's side of the sandbox: ``jobs`` zygotes working through a class's tasks in parallel.

Each zygote is a :class:`~.zygotes.ZygoteHandle` (its channels, its deadlines); the
data types are in :mod:`.tasks`. A pool keeps every zygote busy: the next task is
prepared while the current one runs.
"""
from __future__ import annotations

import os
import queue
import sys
import threading
import traceback
from pathlib import Path
from typing import Callable

from ..course import Limits
from . import modes
from .tasks import Consumer, Task
from .uids import UidLease
from .zygotes import ZygoteHandle, _Running


class Pool:
    """``jobs`` zygotes working through tasks in parallel."""

    def __init__(self, jobs: int, limits: Limits, mode: str | None = None, hidden: list[Path] = ()):
        self.mode = mode or modes.best_mode()
        jobs = max(1, jobs)
        self.lease = UidLease(jobs) if os.geteuid() == 0 and self.mode != "none" else None
        uids = self.lease.uids if self.lease else [None] * jobs
        hidden_paths = sorted({str(modes.package_dir()), *(str(Path(p).resolve()) for p in hidden)})
        self.handles = [ZygoteHandle(self.mode, limits, uid, hidden_paths) for uid in uids]
        try:
            for handle in self.handles:  # every zygote starts at once...
                handle.launch()
            for handle in self.handles:  # ...then each is waited for
                handle.wait_ready()
        except BaseException:
            self.close()
            raise

    @property
    def layers(self) -> list[str]:
        return self.handles[0].layers if self.handles else []

    def describe(self) -> str:
        return modes.describe(self.mode, self.layers)

    def run(self, tasks: list[Task], consumer_for: Callable[[Task], Consumer], on_error: Callable[[Task, BaseException], None]) -> None:
        """Run every task, each with the consumer ``consumer_for(task)`` gives.

        An exception raised by a consumer costs that task only: ``on_error(task, exc)`` is called
        (one call at a time) and the other tasks go on. A ``BaseException`` that is not an
        ``Exception`` (an interrupt, ``SystemExit``) stops the run and is raised here.
        """
        todo: queue.Queue = queue.Queue()
        for task in tasks:
            todo.put(task)
        lock = threading.Lock()
        fatal: list[BaseException] = []  # KeyboardInterrupt, SystemExit...: they stop the whole run

        def prepared() -> tuple[Task, Consumer] | None:
            """The next task and its consumer (its hidden cases are drawn here), or None when none is left."""
            while not fatal:
                try:
                    task = todo.get_nowait()
                except queue.Empty:
                    return None
                try:
                    return task, consumer_for(task)
                except Exception as exc:  # noqa: BLE001 - one task's failure is never the class's
                    report(task, exc)
            return None

        def report(task: Task, exc: BaseException) -> None:
            with lock:
                try:
                    on_error(task, exc)
                except Exception:  # noqa: BLE001
                    traceback.print_exc(file=sys.stderr)

        def work(handle: ZygoteHandle) -> None:
            """Keep the zygote busy: the next task is drawn while this one runs, and handed over
            before this one's mistakes are named."""

            def begin(task: Task) -> _Running | None:
                try:
                    return handle.begin(task)
                except Exception as exc:  # noqa: BLE001 - the zygote could not be (re)started: this task's loss
                    report(task, exc)
                    return None

            try:
                current = prepared()
                running = begin(current[0]) if current else None
                while current is not None:
                    if running is None:  # not handed over (reported): go on with the next task
                        current = prepared()
                        running = begin(current[0]) if current else None
                        continue
                    following = prepared()
                    handed: list[_Running | None] = []

                    def hand_over(following=following, handed=handed) -> None:
                        if following is not None and not fatal:
                            handed.append(begin(following[0]))

                    try:
                        handle.finish(running, current[1], hand_over)
                    except Exception as exc:  # noqa: BLE001 - one task's failure is never the class's
                        report(current[0], exc)
                    if following is None or not handed:
                        break
                    current, running = following, handed[0]
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                fatal.append(exc)

        threads = [threading.Thread(target=work, args=(h,), daemon=True) for h in self.handles]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if fatal:
            raise fatal[0]

    def close(self) -> None:
        for handle in self.handles:  # every zygote starts cleaning up at once...
            if handle.control is not None:
                handle.control.close()
                handle.control = None
        for handle in self.handles:  # ...then each gets a moment to finish
            handle.stop(grace=5.0)
        if self.lease is not None:
            self.lease.release()

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
