"""The zygote: a clean process, inside the sandbox, that runs student code in forked workers.

It is started by :mod:`.pool` before any reference answer exists, and it never
receives one: it gets the hidden *inputs* once, then one task at a time (a
student's file for one part) on stdin, and answers with frames on stdout.

For each task it forks a **worker** that drops privileges, sets its limits,
runs the student's cells, and then calls each graded function in a **call
child** of its own, with a CPU and wall-time limit per function. Each call
child writes its results as plain-array frames (:mod:`rnnkit.calls`) to a pipe that only the zygote
reads. When the worker ends, the zygote kills everything the student started
(its descendants, which orphans cannot escape because the zygote is a child
subreaper, and every process of the worker's uid) and removes its files.

Run as ``python -m rnnkit.sandbox.zygote``.
"""
from __future__ import annotations

import ctypes
import gc
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback

# Threads would multiply memory and CPU accounting; the numerics here are tiny.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["RNNKIT_GRADING"] = "1"

# Import everything a worker may need *before* any privilege drop: after it,
# the interpreter's own directories may no longer be readable.
import collections  # noqa: E402,F401
import copy  # noqa: E402,F401
import functools  # noqa: E402,F401
import itertools  # noqa: E402,F401
import math  # noqa: E402,F401
import random  # noqa: E402,F401

import numpy as np  # noqa: E402

from rnnkit import checks  # noqa: E402,F401
from rnnkit.worker import calls, cells as submission  # noqa: E402
from rnnkit.worker import frames as protocol  # noqa: E402

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1


def _prctl(option: int, value: int) -> None:
    _libc.prctl(option, value, 0, 0, 0)


class Zygote:
    def __init__(self, config: dict, cases: dict[str, list]):
        self.limits = config["limits"]
        self.uid = config.get("uid")  # None: run as ourselves (we are not root)
        self.cases = cases  # function -> list of argument tuples (hidden inputs, not secret)
        self.out_fd = sys.stdout.fileno()
        self.work_root = tempfile.mkdtemp(prefix="rnnkit-work-")
        os.chmod(self.work_root, 0o755)

    # ----------------------------------------------------------------- one task

    def run_task(self, header: dict, data: bytes) -> None:
        task = header["task"]
        functions = [f for f in header["functions"] if f in self.cases]
        workdir = tempfile.mkdtemp(dir=self.work_root)
        if self.uid is not None:
            os.chmod(workdir, 0o711)  # the zygote must still reach output.txt once it belongs to the worker
            os.chown(workdir, self.uid, self.uid)
        read_fd, write_fd = os.pipe()
        gc.freeze()  # forked children then leave the inherited heap alone: no copy-on-write storm
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                os.close(read_fd)
                self._become_worker(workdir, write_fd)
                _Worker(write_fd, self.limits, self.cases).run(header["filename"], header["part"], data, functions)
            except BaseException:
                try:
                    protocol.send(write_fd, {"event": "worker_error", "detail": traceback.format_exc()[-2000:]})
                except BaseException:
                    pass
            finally:
                os._exit(0)
        os.close(write_fd)
        status = self._relay(task, read_fd, pid)
        os.close(read_fd)
        output = self._output_size(workdir)
        self._sweep(pid, workdir)
        shutil.rmtree(workdir, ignore_errors=True)
        self._send({"task": task, "event": "done", "worker": status, "output_bytes": output})

    def _relay(self, task: str, fd: int, pid: int) -> dict:
        """Forward the worker's frames until it exits, or until its current phase runs out of time.

        The phase deadline is load_seconds while the cells run, call_seconds while a
        function runs, and a short grace in between. Reading stops when the worker
        exits, not at EOF: a grandchild may hold the pipe open.
        """
        grace = 2.0
        phase = {"name": "load", "deadline": time.monotonic() + self.limits["load_seconds"] + grace}

        def forward(header: dict, payload: bytes) -> None:
            event, now = header.get("event"), time.monotonic()
            if event == "function_start":
                phase.update(name=f"function {header.get('function')}", deadline=now + self.limits["call_seconds"] + grace)
            elif event in ("loaded", "function_end"):
                phase.update(name="between functions", deadline=now + grace)
            self._forward(task, header, payload)

        reader = protocol.Reader(fd, max_payload=64 << 20)
        pidfd = os.pidfd_open(pid)
        watch = [fd, pidfd]
        try:
            while True:
                while reader.frame_ready():
                    try:
                        forward(*reader.read(phase["deadline"]))
                    except protocol.ProtocolError as exc:
                        return _stop(pid, {"status": "garbled", "detail": str(exc)})
                now = time.monotonic()
                if now >= phase["deadline"]:
                    return _stop(pid, {"status": "timeout", "phase": phase["name"]})
                ready, _, _ = select.select(watch, [], [], phase["deadline"] - now)
                if fd in ready:
                    chunk = os.read(fd, 1 << 20)
                    if chunk:
                        reader.buffer += chunk
                    else:
                        watch = [pidfd]
                if pidfd in ready:
                    for frame in reader.drain():
                        forward(*frame)
                    _, wstatus = os.waitpid(pid, 0)
                    return _describe_exit(wstatus)
        finally:
            os.close(pidfd)

    def _forward(self, task: str, header: dict, payload: bytes) -> None:
        header = {k: v for k, v in header.items() if k != "task"}
        header["task"] = task
        self._send(header, payload)

    def _send(self, header: dict, payload: bytes = b"") -> None:
        protocol.send(self.out_fd, header, payload)

    # ----------------------------------------------------------------- isolation

    def _become_worker(self, workdir: str, keep_fd: int) -> None:
        os.setsid()
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.closerange(3, keep_fd)
        os.closerange(keep_fd + 1, 4096)
        if self.uid is not None:  # drop first: root ignores RLIMIT_NPROC
            os.setgroups([])
            os.setgid(self.uid)
            os.setuid(self.uid)
        os.chdir(workdir)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        out = os.open(os.path.join(workdir, "output.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        os.close(devnull)
        for var in ("HOME", "TMPDIR", "MPLCONFIGDIR", "XDG_CACHE_HOME"):
            os.environ[var] = workdir
        mb = 1 << 20
        memory = self.limits["memory_mb"] * mb
        _set_limit(resource.RLIMIT_AS, memory)
        # RLIMIT_NPROC counts every process of the uid: with no uid of our own, allow for the others.
        others = 0 if self.uid is not None else _count_own_processes()
        _set_limit(resource.RLIMIT_NPROC, others + self.limits["processes"])
        _set_limit(resource.RLIMIT_FSIZE, max(self.limits["file_size_mb"] * mb, self.limits["output_kb"] * 1024))
        _set_limit(resource.RLIMIT_CORE, 0)
        _set_limit(resource.RLIMIT_NOFILE, 256)
        cpu = int(self.limits["load_seconds"]) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2 + int(self.limits["call_seconds"]) * 64))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)

    def _sweep(self, pid: int, workdir: str) -> None:
        """Kill everything the student started; remove what it wrote."""
        if self.uid is not None:
            for _ in range(2):
                sweeper = os.fork()
                if sweeper == 0:
                    try:
                        os.setgroups([])
                        os.setgid(self.uid)
                        os.setuid(self.uid)
                        for _ in range(4):
                            try:
                                os.kill(-1, signal.SIGKILL)  # every process of this uid but ourselves
                            except ProcessLookupError:
                                break
                        shutil.rmtree(workdir, ignore_errors=True)
                    finally:
                        os._exit(0)
                os.waitpid(sweeper, 0)
        for _ in range(20):
            descendants = _descendants(os.getpid())
            if not descendants:
                break
            for child in descendants:
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _reap()
        _reap()

    @staticmethod
    def _output_size(workdir: str) -> int:
        try:
            return os.path.getsize(os.path.join(workdir, "output.txt"))
        except OSError:
            return 0


class _Worker:
    """Runs inside the forked worker: load the student's cells, then call each function."""

    def __init__(self, fd: int, limits: dict, cases: dict[str, list]):
        self.fd = fd
        self.limits = limits
        self.cases = cases

    def send(self, header: dict, payload: bytes = b"") -> None:
        protocol.send(self.fd, header, payload)

    def run(self, filename: str, part: str, data: bytes, functions: list[str]) -> None:
        try:
            cells = submission.read_cells(data, filename)
        except submission.SubmissionError as exc:
            self.send({"event": "load_failed", "message": str(exc)})
            return
        module_name = "__main__" if filename.endswith(".ipynb") else part
        loaded = submission.run_cells(cells, module_name, on_cell=lambda cell: self.send({"event": "cell", "cell": cell.number}))
        defined = [f for f in functions if callable(loaded.namespace.get(f))]
        self.send(
            {
                "event": "loaded",
                "errors": [{"cell": e.cell, "summary": e.summary, "traceback": e.traceback} for e in loaded.errors],
                "defined": defined,
            }
        )
        labels = {c.label for c in cells}
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
            status = _describe_exit(wstatus)
            _kill_group(pid)
        os.close(pidfd)
        self.send({"event": "function_end", "function": function, **status})

    def send_case(self, function: str, number: int, fn, args: tuple, labels: set[str]) -> None:
        args = calls.copy_value(args)
        args = tuple(calls.Probe.build(a) if isinstance(a, calls.Probe) else a for a in args)
        header, payload = self._outcome(fn, args, labels)
        if os.getpid() != self.caller:  # a process the student forked has returned into the harness
            os._exit(0)
        self.send({"event": "case", "function": function, "case": number, **header}, payload)

    @staticmethod
    def _outcome(fn, args: tuple, labels: set[str]) -> tuple[dict, bytes]:
        try:
            result = fn(*args)
        except NotImplementedError as exc:
            return {"ok": False, "kind": "not_implemented", "error": submission.summary(exc)}, b""
        except BaseException as exc:  # SystemExit and KeyboardInterrupt are the student's too
            kind = "memory" if isinstance(exc, MemoryError) else "exception"
            return {"ok": False, "kind": kind, "error": submission.summary(exc), "traceback": submission.student_traceback(exc, labels)}, b""
        after = tuple(a for a in args if not callable(a))
        try:
            return {"ok": True}, calls.to_bytes(*calls.encode({"result": result, "args_after": after}))
        except calls.EncodingError as exc:
            return {"ok": False, "kind": "unsendable", "error": f"the function returned {exc}"}, b""


# --------------------------------------------------------------------------- helpers


def _set_limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _stop(pid: int, status: dict) -> dict:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    return status


def _count_own_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid:
                count += 1
        except OSError:
            pass
    return count


def _describe_exit(wstatus: int) -> dict:
    if os.WIFSIGNALED(wstatus):
        sig = os.WTERMSIG(wstatus)
        return {"status": "killed", "signal": signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)}
    code = os.WEXITSTATUS(wstatus)
    return {"status": "exited", "code": code}


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: parse after the last ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent:
                found.append(pid)
                frontier.append(pid)
    return found


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _warm_up() -> None:
    """Run every code path a worker uses once, so that all its lazy imports happen now."""
    cells = submission.read_cells("%time x = 1\nraise ValueError('warm')\n".encode("utf-8-sig"), "warm.py")
    submission.run_cells(cells, "warm")
    calls.from_bytes(calls.to_bytes(*calls.encode({"r": (np.zeros(2), 1.0, None), "p": calls.Probe("coupled", {"A": np.eye(2)})})))
    np.savez  # noqa: B018
    b"\xff".decode("utf-8", errors="replace")


def main() -> None:
    _warm_up()
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_DUMPABLE, 0)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    reader = protocol.Reader(sys.stdin.fileno())
    header, payload = reader.read()
    if header.get("event") != "config":
        raise SystemExit("rnnkit zygote: expected a config frame first")
    decoded = calls.from_bytes(payload, rebuild_probes=False)
    zygote = Zygote(header, {name: list(cases) for name, cases in decoded.items()})
    protocol.send(zygote.out_fd, {"event": "ready", "pid": os.getpid()})
    try:
        while True:
            try:
                header, payload = reader.read()
            except protocol.Closed:
                return
            if header.get("event") == "task":
                zygote.run_task(header, payload)
    finally:
        shutil.rmtree(zygote.work_root, ignore_errors=True)


if __name__ == "__main__":
    main()
