"""One zygote, from the grader's side: start it, hand it tasks, read each task's data.

Two kinds of channel (see :mod:`rnnkit.worker.frames`):

* **control**, between the grader and each zygote (trusted processes only): a
  ``SOCK_SEQPACKET`` socket carrying "run this task, with these descriptors, for
  at most N seconds" one way and "the task ended, this is how" the other. The
  deadline is fixed here, per task; nothing a worker sends can move it.
* **data**, from one task's worker straight to the grader: a pipe made for
  that task alone. Its frames are read with a deadline, parsed with size caps
  derived from the expected answers, checked against a strict schema
  (:mod:`.events`), and handed to the task's consumer. Anything else ends that
  task's data (it is *garbled*); other tasks never notice.

The student's file and the task's hidden inputs reach the worker as sealed
memory files; the zygote passes them on without reading them, so the process
every worker is forked from never holds a student's file, input or result.
"""
from __future__ import annotations

import fcntl
import os
import select
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

from ..course import Limits
from ..worker import frames
from . import events, modes
from .tasks import Consumer, SandboxError, Task, TaskEnd

#: Seconds the zygote may take, past a task's deadline, to sweep and report.
SWEEP_MARGIN = 15.0
#: Data a task may send beyond its cases' payloads (headers, cell events, tracebacks).
TASK_OVERHEAD = 4 << 20


def _memfd(name: str, data: bytes) -> int:
    """A sealed, read-only-to-everyone memory file holding ``data``."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
    return fd


@dataclass
class _Running:
    """A task handed to a zygote, whose data is still to be read."""

    task: Task
    task_id: int
    ending: TaskEnd
    read_fd: int | None = None


class ZygoteHandle:
    """One sandboxed zygote process, restarted whenever it dies."""

    #: Worker layers left out ("landlock", "seccomp"): for tests of what the other layers do alone.
    disabled_layers: tuple[str, ...] = ()

    def __init__(self, mode: str, limits: Limits, uid: int | None, hidden: list[str]):
        self.mode = mode
        self.limits = limits
        self.uid = uid
        self.hidden = hidden
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.layers: list[str] = []
        self._next_id = 0
        self._launch_error: str | None = None

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the zygote process and send its configuration; :meth:`wait_ready` waits for its answer."""
        env = dict(modes.WORKER_ENVIRONMENT)  # nothing of the grader's own: student code could show it in its feedback
        self.log = tempfile.TemporaryFile()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                modes.zygote_command(self.mode, theirs.fileno()),
                stdin=subprocess.DEVNULL,
                stdout=self.log,
                stderr=self.log,
                pass_fds=[theirs.fileno()],
                start_new_session=True,
                env=env,
            )
        except OSError as exc:
            ours.close()
            raise SandboxError(f"the {self.mode!r} sandbox could not be started: {exc}") from None
        finally:
            theirs.close()
        self.control = ours
        config = {"event": "config", "limits": self.limits.__dict__, "uid": self.uid, "hidden": self.hidden}
        config.update({layer: False for layer in self.disabled_layers})
        try:
            frames.send_control(ours, config, deadline=time.monotonic() + 30)
        except (OSError, frames.ProtocolError) as exc:
            self._launch_error = str(exc)
        else:
            self._launch_error = None

    def wait_ready(self) -> None:
        """Wait for the launched zygote's "ready" (it then holds its confinement, ready for tasks)."""
        ours = self.control
        try:
            if self._launch_error is not None:
                raise frames.ProtocolError(self._launch_error)
            reply, fds = frames.recv_control(ours, deadline=time.monotonic() + 60)
            for fd in fds:
                os.close(fd)
        except (OSError, frames.ProtocolError) as exc:
            reply = {"error": str(exc)}
        if reply.get("event") != "ready":
            self.stop()
            raise SandboxError(f"the {self.mode!r} sandbox did not start ({reply}): {self.log_tail()}")
        self.layers = [str(layer) for layer in reply.get("layers", [])]

    def log_tail(self, size: int = 2000) -> str:
        """The end of what the zygote itself wrote (its own errors, never the student's)."""
        self.log.seek(0, os.SEEK_END)
        self.log.seek(max(0, self.log.tell() - size))
        return self.log.read().decode(errors="replace")

    def stop(self, grace: float = 0.0) -> None:
        """Close the control socket (the zygote cleans up and exits); kill it if it has not after ``grace``."""
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is None:
            return
        try:
            self.process.wait(timeout=grace) if grace else None
        except subprocess.TimeoutExpired:
            pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
        self.process = None

    def run(self, task: Task, consumer: Consumer) -> None:
        """Run ``task``: feed its checked frames to ``consumer``, then tell it how the task ended."""
        self.finish(self.begin(task), consumer)

    def begin(self, task: Task) -> "_Running":
        """Hand ``task`` to the zygote (restarted first if it died); its data is read by :meth:`finish`."""
        if self.process is None or self.process.poll() is not None:
            self.stop()
            self.start()
        self._next_id += 1
        running = _Running(task, self._next_id, TaskEnd())
        read_fd, write_fd = os.pipe()
        fds = [_memfd("submission", task.data), _memfd("inputs", task.inputs), write_fd]
        message = {
            "event": "task", "id": running.task_id, "part": task.part, "filename": task.filename,
            "functions": task.functions, "caps": task.caps, "seconds": task.seconds,
        }
        try:
            frames.send_control(self.control, message, fds, deadline=time.monotonic() + 10)
            running.read_fd = read_fd
        except (OSError, frames.ProtocolError) as exc:
            running.ending.lost = f"the task could not be handed over ({exc})"
            os.close(read_fd)
            self.stop()
        finally:
            for fd in fds:
                os.close(fd)
        return running

    def finish(self, running: "_Running", consumer: Consumer, before_end: Callable[[], None] | None = None) -> None:
        """Read the task's frames into ``consumer`` until the zygote reports its end; then ``before_end()``
        (the caller hands this zygote its next task there), then ``consumer.end``."""
        try:
            if running.read_fd is not None:
                self._collect(running.task, running.task_id, running.read_fd, consumer, running.ending)
        finally:
            if before_end is not None:
                before_end()
        consumer.end(running.ending)

    def _collect(self, task: Task, task_id: int, read_fd: int, consumer: Consumer, ending: TaskEnd) -> None:
        schema = events.TaskSchema(dict(task.case_counts))
        parser = frames.FrameParser(lambda h: task.caps.get(h.get("function"), 0) if h.get("event") == "case" and h.get("ok") is True else 0)
        budget = sum(task.caps.get(f, 0) * n for f, n in task.case_counts.items()) + TASK_OVERHEAD
        received = 0
        deadline = time.monotonic() + task.seconds + SWEEP_MARGIN
        data_open = True
        failure: list[BaseException] = []  # the consumer's own error: raised once the zygote has reported

        def take(chunk: bytes) -> None:
            nonlocal received, data_open
            received += len(chunk)
            try:
                if received > budget:
                    raise events.Garbled("more data than this part's results can take")
                for header, payload in parser.feed(chunk):
                    consumer.frame(schema.check(header, payload), payload)
                return
            except (frames.ProtocolError, events.Garbled) as exc:
                ending.garbled = str(exc)
            except Exception as exc:  # noqa: BLE001 - the grader's bug: stop reading, wait for the zygote, then raise
                failure.append(exc)
            os.close(read_fd)  # the writer then gets EPIPE: it can block nobody
            data_open = False

        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    ending.lost = f"the sandbox did not report the end of the task; {self.log_tail()}"
                    self.stop()
                    return
                watch = [self.control] + ([read_fd] if data_open else [])
                ready, _, _ = select.select(watch, [], [], remaining)
                if data_open and read_fd in ready:
                    chunk = os.read(read_fd, 1 << 16)
                    if chunk:
                        take(chunk)
                    else:
                        os.close(read_fd)
                        data_open = False
                if self.control in ready:
                    reply, fds = frames.recv_control(self.control, deadline=time.monotonic() + 1)
                    for fd in fds:
                        os.close(fd)
                    if reply.get("event") != "done" or reply.get("id") != task_id:
                        raise frames.ProtocolError(f"an unexpected control message {reply.get('event')!r}")
                    worker = reply.get("worker")
                    ending.worker = worker if isinstance(worker, dict) else {}
                    ending.output_bytes = int(reply.get("output_bytes") or 0)
                    # Every process of the task is dead now: what is left in the pipe is all there is.
                    while data_open:
                        ready, _, _ = select.select([read_fd], [], [], 1.0)
                        chunk = os.read(read_fd, 1 << 16) if ready else b""
                        if not chunk:
                            os.close(read_fd)
                            data_open = False
                        else:
                            take(chunk)
                    if failure:
                        raise failure[0]
                    return
        except (OSError, frames.ProtocolError) as exc:
            ending.lost = f"{exc}; {self.log_tail()}"
            self.stop()
        finally:
            if data_open:
                os.close(read_fd)
