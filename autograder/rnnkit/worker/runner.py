"""The worker: runs one student's file for one part, then calls each graded function.

It runs in a process forked from the zygote, confined (:mod:`.confine`), and
writes what it finds as data frames (:mod:`.frames`) to the task's result pipe,
which only the grader reads. Each function has a CPU and wall-time limit of its
own, and a crash or a hang costs that function only: the worker calls the
functions itself, and when one crashes or hangs the zygote starts a resumed
worker, which calls the rest each in a call child (see :meth:`Worker.run`).

Everything here happens after student code has run in this process, so none of
it is trusted: the grader checks every frame against a strict schema, and the
zygote kills the whole task at a deadline it fixed itself.
"""
from __future__ import annotations

import gc
import os
import resource
import select
import signal
import time

from . import calls, cells, frames


class Worker:
    def __init__(self, fd: int, limits: dict, cases: dict[str, list], caps: dict[str, int]):
        self.fd = fd
        self.limits = limits
        self.cases = cases  # function -> list of argument tuples
        self.caps = caps  # function -> largest payload the grader accepts for one case

    def send(self, header: dict, payload: bytes = b"") -> None:
        frames.send(self.fd, header, payload)

    def run(self, data: bytes, filename: str, part: str, functions: list[str], progress_fd: int | None = None, resume: dict | None = None) -> None:
        """Load the file, then call ``functions``.

        First run (``resume`` None): call them here, one after the other, saying on ``progress_fd``
        (one byte, the index among the defined functions) which one has begun, and ``ALL_DONE`` at
        the end. Resumed run (after the first one crashed or hung in function ``resume["after"]``):
        load again without reporting it, end that function with ``resume["status"]``, and call the
        rest each in a call child (:meth:`call_from`).
        """
        try:
            source_cells = cells.read_cells(data, filename)
        except cells.SubmissionError as exc:
            if resume is None:
                self.send({"event": "load_failed", "message": str(exc)})
            return
        module_name = "__main__" if filename.endswith(".ipynb") else part
        # The load phase has a wall-time limit of its own (SIGALRM ends the process); the
        # zygote's fixed deadline for the whole task bounds it in any case.
        signal.setitimer(signal.ITIMER_REAL, float(self.limits["load_seconds"]))
        on_cell = None if resume is not None else (lambda cell: self.send({"event": "cell", "cell": cell.number}))
        loaded = cells.run_cells(source_cells, module_name, on_cell=on_cell)
        signal.setitimer(signal.ITIMER_REAL, 0)
        defined = [f for f in functions if callable(loaded.namespace.get(f))]
        labels = {c.label for c in source_cells}
        todo = [f for f in functions if f in defined]
        self.caller = os.getpid()
        if resume is None:
            self.send(
                {
                    "event": "loaded",
                    "errors": [{"cell": e.cell, "summary": e.summary, "traceback": e.traceback} for e in loaded.errors][:50],
                    "defined": defined,
                }
            )
            for index, function in enumerate(todo):
                if progress_fd is not None:
                    os.write(progress_fd, bytes([index]))
                self.call_here(function, loaded.namespace[function], labels)
            if progress_fd is not None:
                os.write(progress_fd, bytes([ALL_DONE]))
            return
        after = int(resume.get("after", -1))
        if 0 <= after < len(todo):
            self.send({"event": "function_end", "function": todo[after], **resume.get("status", {})})
        start = after + 1
        while start < len(todo):
            start = self.call_from(todo, start, loaded.namespace, labels)

    def call_here(self, function: str, fn, labels: set[str]) -> None:
        """Call ``function`` on its cases in this process, with a CPU limit of its own."""
        self.send({"event": "function_start", "function": function})
        _allow_cpu(float(self.limits["call_seconds"]) + 1)
        for number, args in enumerate(self.cases[function]):
            self.send_case(function, number, fn, args, labels)
        self.send({"event": "function_end", "function": function, "status": "exited", "code": 0})

    def call_from(self, todo: list[str], start: int, namespace: dict, labels: set[str]) -> int:
        """Call ``todo[start:]`` in a call child (in a resumed worker); return where the next child must start.

        The child says on a progress pipe which function it has begun (one byte, its index), so
        when it crashes, hangs or exits, only that function loses its remaining cases and a new
        child goes on with the next one.
        """
        progress_r, progress_w = os.pipe()
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(progress_r)
                os.setpgid(0, 0)
                self.caller = os.getpid()
                for index in range(start, len(todo)):
                    os.write(progress_w, bytes([index]))
                    self.call_here(todo[index], namespace[todo[index]], labels)
                os.write(progress_w, bytes([ALL_DONE]))
            finally:
                os._exit(0)
        os.close(progress_w)
        progress = ProgressPipe(progress_r, len(todo), current=start)
        pidfd = os.pidfd_open(pid)
        seconds = float(self.limits["call_seconds"])
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill_group(pid)
                os.waitpid(pid, 0)
                status = {"status": "timeout"}
                break
            ready, _, _ = select.select([pidfd] + ([progress_r] if progress.open else []), [], [], remaining)
            if pidfd in ready:
                _, wstatus = os.waitpid(pid, 0)
                status = describe_exit(wstatus)
                break
            if progress_r in ready and progress.read():
                deadline = time.monotonic() + seconds
        _kill_group(pid)
        progress.drain()
        os.close(progress_r)
        os.close(pidfd)
        if progress.finished and status == {"status": "exited", "code": 0}:
            return len(todo)
        self.send({"event": "function_end", "function": todo[progress.current], **status})
        return progress.current + 1

    def send_case(self, function: str, number: int, fn, args: tuple, labels: set[str]) -> None:
        args = calls.copy_value(args)
        args = tuple(a.build() if isinstance(a, calls.Probe) else a for a in args)
        header, payload = self._outcome(fn, args, labels, self.caps.get(function, 0))
        if os.getpid() != self.caller:  # a process the student forked has returned into the harness
            os._exit(0)
        self.send({"event": "case", "function": function, "case": number, **header}, payload)

    @staticmethod
    def _outcome(fn, args: tuple, labels: set[str], cap: int) -> tuple[dict, bytes]:
        try:
            result = fn(*args)
        except NotImplementedError as exc:
            return {"ok": False, "kind": "not_implemented", "error": cells.summary(exc)[:500]}, b""
        except BaseException as exc:  # SystemExit and KeyboardInterrupt are the student's too
            kind = "memory" if isinstance(exc, MemoryError) else "exception"
            return {"ok": False, "kind": kind, "error": cells.summary(exc)[:500], "traceback": cells.student_traceback(exc, labels)[:4000]}, b""
        after = tuple(a for a in args if not callable(a))
        # What the student returned is theirs too: encoding it runs their objects' methods (and an int of 5000
        # digits does not fit JSON), so anything raised here costs this case only, never the worker.
        try:
            payload = calls.to_bytes(*calls.encode({"result": result, "args_after": after}))
            if len(payload) > cap:
                return {"ok": False, "kind": "too_large", "error": f"the function returned {calls.outline(result)}"[:500]}, b""
            aliases = calls.aliases(result, after)
        except calls.EncodingError as exc:
            return {"ok": False, "kind": "unsendable", "error": f"the function returned {exc}"[:500]}, b""
        except BaseException as exc:  # noqa: BLE001
            return {"ok": False, "kind": "unsendable", "error": f"the function returned a value that could not be read ({type(exc).__name__})"}, b""
        return ({"ok": True, "aliases": aliases} if aliases else {"ok": True}), payload


#: The progress byte that says every function of the part has been called.
ALL_DONE = 255


class ProgressPipe:
    """The reading end of a progress pipe: which function (its index) has begun, and whether all are done.

    The bytes come from a process that ran student code: a value out of order only misplaces
    that student's own time; ``current`` never moves backwards, nor to ``count`` or past it.
    ``current`` is -1 until a function begins (the file is still loading).
    """

    def __init__(self, fd: int, count: int, current: int = -1):
        self.fd, self.count, self.current = fd, count, current
        self.finished = False
        self.open = True  # False once every writer is gone

    def read(self) -> bool:
        """Read what the pipe holds (call when it is readable); whether a new function has begun."""
        marks = os.read(self.fd, 256)
        if not marks:
            self.open = False
        return self._take(marks)

    def drain(self) -> None:
        """Take what the writer left just before it ended, without waiting."""
        os.set_blocking(self.fd, False)
        try:
            self._take(os.read(self.fd, 256))
        except BlockingIOError:
            pass

    def _take(self, marks: bytes) -> bool:
        moved = False
        for mark in marks:
            if mark == ALL_DONE:
                self.finished = True
            elif self.current < mark < self.count:
                self.current, moved = mark, True
        return moved


def _allow_cpu(seconds: float) -> None:
    """Let the calling process use ``seconds`` more CPU time from now (RLIMIT_CPU counts from its start)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def describe_exit(wstatus: int) -> dict:
    if os.WIFSIGNALED(wstatus):
        sig = os.WTERMSIG(wstatus)
        return {"status": "killed", "signal": signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)}
    return {"status": "exited", "code": os.WEXITSTATUS(wstatus)}
