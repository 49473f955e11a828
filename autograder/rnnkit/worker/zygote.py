"""The zygote: a clean process, inside the sandbox, that forks one worker per task.

Started by :mod:`rnnkit.sandbox.zygotes` (in bubblewrap when it works), it talks
to the grader on one control socket only, and never runs student code. For
each task the grader sends a control message and three file descriptors: the
student's file, the task's hidden inputs (both sealed memory files) and the
write end of the task's result pipe. The zygote forks a worker that inherits
them, and then only *watches*: it never reads the file, the inputs or a result,
so no student's data is ever in the memory later workers are forked from. It
keeps its copies of the descriptors, unread, until the task ends, for a resumed
worker (:meth:`Zygote.run_task`); the worker's progress pipe carries one byte
per function begun, nothing else.

It kills the worker at a deadline the grader fixed for the whole task (no
frame can extend it; a function that runs too long is killed sooner), then kills everything the task started (the zygote is a
child subreaper; with a uid of its own, every process of that uid, through
:class:`~rnnkit.worker.processes.Sweeper`), removes what it wrote (its work folder, and with a uid of its own its files in
``/tmp``, ``/var/tmp`` and ``/dev/shm``) and reports to the grader. When the
grader goes away (its end of the control socket closes, even on ``kill -9``)
the zygote does the same cleanup and exits.

Run as ``python -I -m rnnkit.worker.zygote CONTROL_FD``.
"""
from __future__ import annotations

import gc
import os
import select
import signal
import socket
import sys
import tempfile
import time
import traceback

# Threads would multiply memory and CPU accounting; the numerics here are tiny.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["RNNKIT_GRADING"] = "1"

# Import everything a worker may need *before* any confinement: after it, the
# interpreter's own directories may no longer be readable.
import collections  # noqa: E402,F401
import copy  # noqa: E402,F401
import functools  # noqa: E402,F401
import itertools  # noqa: E402,F401
import math  # noqa: E402,F401
import random  # noqa: E402,F401
import decimal  # noqa: E402,F401
import fractions  # noqa: E402,F401
import glob  # noqa: E402,F401
import statistics  # noqa: E402,F401
import unittest  # noqa: E402,F401  (numpy.testing needs it)

import numpy as np  # noqa: E402
import numpy.fft  # noqa: E402,F401  (numpy loads these on first use: from disk, which a uid of its own may not read)
import numpy.random  # noqa: E402,F401

from rnnkit.worker import calls, cells, confine, frames, runner, shims  # noqa: E402
from rnnkit.worker.processes import (  # noqa: E402
    PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, PR_SET_PDEATHSIG, Sweeper, become_uid, close_all_but, count_own_processes,
    descendants, kill, prctl, reap, remove_tree, sweep_as_uid, tree_memory,
)


#: How often the zygote adds up the memory of a task's processes.
MEMORY_CHECK_SECONDS = 0.2


class GraderGone(Exception):
    """The grader's end of the control socket closed."""


class Zygote:
    def __init__(self, control: socket.socket, config: dict):
        self.control = control
        self.limits = config["limits"]
        self.uid = config.get("uid")  # None: run as ourselves (we are not root)
        self.confinement = confine.Confinement(
            self.limits, self.uid, list(config.get("hidden", [])), config.get("landlock", True), config.get("seccomp", True)
        )
        self.work_root = tempfile.mkdtemp(prefix="rnnkit-work-")
        os.chmod(self.work_root, 0o711)
        self.confinement.prepare(self.work_root)
        self.sweeper = Sweeper(self.uid)
        self._sweep_uid()  # leftovers of an earlier zygote with this uid that died without cleaning up

    # ----------------------------------------------------------------- one task

    def run_task(self, message: dict, fds: list[int]) -> None:
        """Run one task: a worker that loads the file and calls every function itself.

        When it crashes or hangs inside a function (it says which on a progress pipe, one byte
        per function begun), that function loses its remaining cases, and a *resumed* worker loads
        the file again, silently, and calls the functions after it, each in a call child of its own
        (so any further crash costs one function only). The common case forks once per task.
        """
        task = message.get("id")
        workdir = tempfile.mkdtemp(dir=self.work_root)
        if self.uid is not None:
            os.chmod(workdir, 0o711)  # the zygote (without DAC override) must still stat output.txt
            os.chown(workdir, self.uid, self.uid)
        deadline = time.monotonic() + float(message.get("seconds", 60))
        call_seconds = float(self.limits["call_seconds"]) + 0.5
        try:
            progress_r, progress_w = os.pipe()
            status, in_function = self._run_worker(workdir, [*fds, progress_w], message, None, deadline, progress_r, call_seconds)
            if in_function is not None and deadline - time.monotonic() > 1.0:
                self._sweep_processes()  # what the first worker left running; its files stay for the resumed one
                resume = {"after": in_function, "status": status}
                status, _ = self._run_worker(workdir, list(fds), message, resume, deadline, None, call_seconds)
        finally:
            for fd in fds:
                os.close(fd)
            output = _file_size(os.path.join(workdir, "output.txt"))
            self._sweep(workdir)
        frames.send_control(self.control, {"event": "done", "id": task, "worker": status, "output_bytes": output}, deadline=time.monotonic() + 10)

    def _run_worker(self, workdir, fds, message, resume, deadline, progress_r, call_seconds) -> tuple[dict, int | None]:
        """Fork a worker with ``fds`` and watch it: (how it ended, the function it was in if it did not finish)."""
        gc.freeze()  # forked children then leave the inherited heap alone: no copy-on-write storm
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                self._become_worker(workdir, fds, message, resume)
            except BaseException:
                code = 70
                try:
                    frames.send(fds[2], {"event": "worker_error", "detail": traceback.format_exc()[-2000:]})
                except BaseException:
                    pass
            finally:
                os._exit(code)
        if progress_r is not None:
            os.close(fds[3])  # the progress pipe's write end: the worker's only
        try:
            return self._watch(pid, deadline, progress_r, call_seconds)
        finally:
            if progress_r is not None:
                os.close(progress_r)

    def _watch(self, pid: int, deadline: float, progress_r: int | None, call_seconds: float) -> tuple[dict, int | None]:
        """Wait for the worker to end, or kill it at a deadline; raise :class:`GraderGone` if the grader leaves.

        With a progress pipe, each function begun gets ``call_seconds`` of its own (within the task's
        fixed deadline). The bytes come from a process that ran student code: they can only move
        forwards, at most once per function, and never past the task's deadline.
        """
        pidfd = os.pidfd_open(pid)
        progress = runner.ProgressPipe(progress_r, runner.ALL_DONE) if progress_r is not None else None
        function_deadline = deadline
        try:
            while True:
                remaining = min(deadline, function_deadline) - time.monotonic()
                in_function = progress.current if progress is not None and progress.current >= 0 else None
                if remaining <= 0:
                    kill(pid)
                    os.waitpid(pid, 0)
                    return {"status": "timeout"}, in_function
                watch = [pidfd, self.control] + ([progress_r] if progress is not None and progress.open else [])
                ready, _, _ = select.select(watch, [], [], min(remaining, MEMORY_CHECK_SECONDS))
                if not ready and tree_memory(os.getpid(), {self.sweeper.pid}) > self.limits["memory_mb"] << 20:
                    # The memory limit is the task's, all its processes together (each also has it alone).
                    kill(pid)
                    self._kill_descendants()
                    try:
                        os.waitpid(pid, 0)
                    except ChildProcessError:
                        pass  # reaped with the others
                    return {"status": "killed", "signal": "memory"}, in_function
                if self.control in ready:
                    kill(pid)
                    os.waitpid(pid, 0)
                    raise GraderGone()
                if pidfd in ready:
                    _, wstatus = os.waitpid(pid, 0)
                    status = runner.describe_exit(wstatus)
                    if progress is None:
                        return status, None
                    progress.drain()
                    done = progress.current < 0 or (progress.finished and status == {"status": "exited", "code": 0})
                    return status, None if done else progress.current
                if progress_r in ready and progress.read():
                    function_deadline = time.monotonic() + call_seconds
        finally:
            os.close(pidfd)

    # ----------------------------------------------------------------- the worker's side of the fork

    def _become_worker(self, workdir: str, fds: list[int], message: dict, resume: dict | None) -> None:
        source_fd, inputs_fd, result_fd = fds[:3]
        progress_fd = fds[3] if len(fds) > 3 else None
        self.control.close()
        os.setsid()
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        prctl(PR_SET_DUMPABLE, 0)
        close_all_but([*fds, *self.confinement.open_fds()])
        self.confinement.drop_uid()
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
        # With a uid of its own, the only other process of the uid is the sweeper.
        self.confinement.set_limits(self.sweeper.processes if self.uid is not None else count_own_processes())
        self.confinement.restrict()
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)
        data = _read_all(source_fd)
        cases = calls.unpack_inputs(_read_all(inputs_fd))
        os.close(source_fd)
        os.close(inputs_fd)
        shims.install()
        worker = runner.Worker(result_fd, self.limits, cases, dict(message.get("caps", {})))
        worker.run(data, str(message["filename"]), str(message["part"]), [f for f in message["functions"] if f in cases], progress_fd, resume)

    # ----------------------------------------------------------------- cleaning up

    def _sweep_uid(self, workdir: str | None = None) -> None:
        """As the worker's uid: kill every process of the uid, remove its files in shared places."""
        if self.uid is None:
            return
        if self.sweeper.sweep(workdir):
            return
        sweeper = os.fork()  # the sweeper is gone or stuck (a worker without Landlock's signal scope stopped it)
        if sweeper == 0:
            try:
                become_uid(self.uid)
                sweep_as_uid(self.uid, workdir)
            finally:
                os._exit(0)
        os.waitpid(sweeper, 0)
        self.sweeper.start()

    def _sweep_processes(self) -> None:
        """Kill every process the task started (its files stay)."""
        self._sweep_uid(None)
        self._kill_descendants()

    def _kill_descendants(self) -> None:
        for _ in range(20):
            running = [pid for pid in descendants(os.getpid()) if pid != self.sweeper.pid]
            if not running:
                break
            for child in running:
                kill(child)
            reap()
        reap()

    def _sweep(self, workdir: str) -> None:
        """Kill everything the task started; remove what it wrote."""
        self._sweep_uid(workdir)
        self._kill_descendants()
        # Everything in the work root, the task's folder and whatever is beside it: where the worker runs as
        # ourselves (none mode), Landlock lets it write there too, and a file left beside its folder would reach
        # the next student's task. With a uid of its own, the sweeper has emptied the task's folder already.
        try:
            left = os.listdir(self.work_root)
        except OSError:
            left = []
        for name in left:
            remove_tree(os.path.join(self.work_root, name))
        if os.path.lexists(workdir):  # the next task's worker could reach it (the ruleset allows the work root)
            raise SystemExit(f"rnnkit zygote: could not remove the work folder {workdir}")

    def close(self) -> None:
        self._sweep_uid()
        self.sweeper.stop()
        for child in descendants(os.getpid()):
            kill(child)
        reap()
        remove_tree(self.work_root)


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _warm_up() -> None:
    """Run every code path a worker uses once, so that all its lazy imports happen now."""
    source = cells.read_cells("%time x = 1\nraise ValueError('warm')\n".encode("utf-8-sig"), "warm.py")
    cells.run_cells(source, "warm")
    calls.from_bytes(calls.to_bytes(*calls.encode({"r": (np.zeros(2), 1.0, None), "p": calls.Probe("coupled", {"A": np.eye(2)})})))
    calls.Probe("coupled", {"A": np.eye(2), "b": np.zeros(2)}).build()(np.zeros(2))
    blob = calls.to_bytes(*calls.encode({"cases": {"f": [(np.zeros(2),)]}}))
    calls.unpack_inputs(calls.pack_inputs(blob, blob))
    b"\xff".decode("utf-8", errors="replace")


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    _warm_up()
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    prctl(PR_SET_DUMPABLE, 0)
    config, _ = frames.recv_control(control, deadline=time.monotonic() + 60)
    if config.get("event") != "config":
        raise SystemExit("rnnkit zygote: expected a config message first")
    zygote = Zygote(control, config)
    frames.send_control(control, {"event": "ready", "pid": os.getpid(), "layers": zygote.confinement.layers}, deadline=time.monotonic() + 10)
    try:
        while True:
            try:
                message, fds = frames.recv_control(control)
            except frames.Closed:
                return
            if message.get("event") == "task" and len(fds) == 3:
                zygote.run_task(message, fds)
            else:
                for fd in fds:
                    os.close(fd)
    except GraderGone:
        return
    finally:
        zygote.close()


if __name__ == "__main__":
    main()
