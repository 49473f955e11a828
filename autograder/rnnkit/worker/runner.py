"""The worker: runs one student's file for one part, then calls each graded function.

It runs in a process forked from the zygote, confined (:mod:`.confine`), and
writes what it finds as data frames (:mod:`.frames`) to the task's result pipe,
which only the grader reads. Each function runs in a **call child** of its own,
with a CPU and wall-time limit, so a crash or a hang costs that function only.

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

from . import calls, cells, frames


class Worker:
    def __init__(self, fd: int, limits: dict, cases: dict[str, list], caps: dict[str, int]):
        self.fd = fd
        self.limits = limits
        self.cases = cases  # function -> list of argument tuples
        self.caps = caps  # function -> largest payload the grader accepts for one case

    def send(self, header: dict, payload: bytes = b"") -> None:
        frames.send(self.fd, header, payload)

    def run(self, data: bytes, filename: str, part: str, functions: list[str]) -> None:
        try:
            source_cells = cells.read_cells(data, filename)
        except cells.SubmissionError as exc:
            self.send({"event": "load_failed", "message": str(exc)})
            return
        module_name = "__main__" if filename.endswith(".ipynb") else part
        # The load phase has a wall-time limit of its own (SIGALRM ends the process); the
        # zygote's fixed deadline for the whole task bounds it in any case.
        signal.setitimer(signal.ITIMER_REAL, float(self.limits["load_seconds"]))
        loaded = cells.run_cells(source_cells, module_name, on_cell=lambda cell: self.send({"event": "cell", "cell": cell.number}))
        signal.setitimer(signal.ITIMER_REAL, 0)
        defined = [f for f in functions if callable(loaded.namespace.get(f))]
        self.send(
            {
                "event": "loaded",
                "errors": [{"cell": e.cell, "summary": e.summary, "traceback": e.traceback} for e in loaded.errors][:50],
                "defined": defined,
            }
        )
        labels = {c.label for c in source_cells}
        for function in functions:
            if function in defined:
                self.call(function, loaded.namespace[function], labels)

    def call(self, function: str, fn, labels: set[str]) -> None:
        self.send({"event": "function_start", "function": function})
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            try:
                os.setpgid(0, 0)
                seconds = int(self.limits["call_seconds"]) + 1
                resource.setrlimit(resource.RLIMIT_CPU, (seconds, resource.getrlimit(resource.RLIMIT_CPU)[1]))
                self.caller = os.getpid()
                for number, args in enumerate(self.cases[function]):
                    self.send_case(function, number, fn, args, labels)
            finally:
                os._exit(0)
        pidfd = os.pidfd_open(pid)
        ready, _, _ = select.select([pidfd], [], [], float(self.limits["call_seconds"]))
        if not ready:
            _kill_group(pid)
            os.waitpid(pid, 0)
            status = {"status": "timeout"}
        else:
            _, wstatus = os.waitpid(pid, 0)
            status = describe_exit(wstatus)
            _kill_group(pid)
        os.close(pidfd)
        self.send({"event": "function_end", "function": function, **status})

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
        try:
            payload = calls.to_bytes(*calls.encode({"result": result, "args_after": after}))
        except calls.EncodingError as exc:
            return {"ok": False, "kind": "unsendable", "error": f"the function returned {exc}"[:500]}, b""
        if len(payload) > cap:
            return {"ok": False, "kind": "too_large", "error": f"the function returned {calls.outline(result)}"[:500]}, b""
        return {"ok": True}, payload


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
