"""The grader's side of the sandbox: start zygotes, hand them tasks, collect their frames.

Three levels of protection, the strongest available is chosen:

``bwrap``  bubblewrap around each zygote: a read-only view of the system and the
           Python installation only (no ``solutions/``, no class folder, no output
           folder, no home), a private ``/tmp``, no network, its own PID, IPC and
           UTS namespaces; plus everything ``uid`` gives when run as root.
``uid``    (root without bubblewrap) every worker runs under a uid of its own with
           no supplementary groups, so it cannot signal the grader or write the
           kit; it can still read world-readable files such as ``solutions/``.
``none``   (not root, no bubblewrap) limits and process sweeping only: the student's
           code can read whatever the grading user can read.

All levels share the rest: separate processes, rlimits on CPU, memory, processes
and file size, wall-time limits, results as plain arrays, every process killed
after each task.
"""
from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..worker import calls
from ..course import Limits
from ..worker import frames as protocol

MODES = ("bwrap", "uid", "none")
#: Parts of the kit's package the sandbox never shows (see :func:`_package_binds`).
SANDBOX_HIDDEN = ("demo.py", "export", "example_class")
#: Size of the sandbox's private /tmp, where student code may write.
TMP_BYTES = 256 << 20


@lru_cache(maxsize=None)
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and can create its namespaces here."""
    if shutil.which("bwrap") is None:
        return False
    try:
        result = subprocess.run(
            ["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--die-with-parent", "true"],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def best_mode() -> str:
    requested = os.environ.get("RNNKIT_SANDBOX")
    if requested:
        if requested not in MODES:
            raise ValueError(f"RNNKIT_SANDBOX={requested!r}: choose one of {', '.join(MODES)}")
        return requested
    if bwrap_works():
        return "bwrap"
    return "uid" if os.geteuid() == 0 else "none"


MODE_WORDS = {
    "bwrap": "bubblewrap sandbox (read-only system, no course files, no network, own PID namespace)",
    "uid": "separate unprivileged uid, no bubblewrap: student code could read world-readable files such as solutions/",
    "none": "no bubblewrap and not root: student code runs as you and could read your files",
}


def _package_dir() -> Path:
    return Path(__file__).resolve().parents[1]


def _package_binds(package: Path) -> list[str]:
    """The kit's package as the sandbox sees it: every file but those a student could profit from.

    Left out: the capstone's working stand-in implementations (``demo.py``), the
    exports, the example class, and every ``__pycache__`` (a cached ``demo`` is
    the same code). The package folder itself is a fresh tmpfs, so a file added
    to the real package later never appears inside.
    """
    binds = ["--tmpfs", str(package)]
    for path in sorted(package.rglob("*")):
        parts = path.relative_to(package).parts
        if parts[0] in SANDBOX_HIDDEN or "__pycache__" in parts:
            continue
        if path.is_dir():
            binds += ["--dir", str(path)]
        elif path.is_file():
            binds += ["--ro-bind", str(path), str(path)]
    return binds


def zygote_command(mode: str) -> list[str]:
    python = [sys.executable, "-I", "-m", "rnnkit.worker.zygote"]
    if mode != "bwrap":
        return python
    # /tmp first: the kit itself may live under /tmp, and later binds must land on top of it.
    # Its size is capped: a tmpfs lives in memory, and a student could fill it with files.
    binds: list[str] = ["--size", str(TMP_BYTES), "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
    for path in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc"):
        binds += ["--ro-bind-try", path, path]
    python_dirs = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent}
    python_dirs |= {Path(p) for p in sys.path if p and Path(p).is_dir() and "site-packages" in p}
    system = ("/usr", "/lib", "/lib64", "/bin", "/etc")
    python_dirs_and_package = python_dirs | {_package_dir()}
    # Folders bubblewrap creates on the way to a bind are 0700: make them passable for the worker's uid.
    ancestors = sorted({str(a) for p in python_dirs_and_package for a in p.parents if str(a) != "/" and not str(a).startswith(system)})
    for path in ancestors:
        binds += ["--perms", "0755", "--dir", path]
    for path in sorted(python_dirs):
        binds += ["--ro-bind", str(path), str(path)]
    binds += _package_binds(_package_dir())
    privileged = os.geteuid() == 0
    namespaces = (
        ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        if privileged
        else ["--unshare-all"]
    )
    capabilities = (
        ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_KILL", "--cap-add", "CAP_CHOWN"]
        if privileged
        else []
    )
    return [
        "bwrap",
        *binds,
        *namespaces,
        *capabilities,
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin",
        "--setenv", "HOME", "/tmp",
        "--setenv", "LANG", "C.UTF-8",
        "--chdir", "/tmp",
        "--",
        *python,
    ]


class SandboxError(RuntimeError):
    """The sandbox itself could not run (not a student's fault)."""


@dataclass
class Task:
    """One student's file for one part."""

    key: tuple[str, str]  # (student, part)
    part: str
    filename: str
    data: bytes
    functions: list[str]


@dataclass
class TaskFrames:
    """Everything a zygote said about one task, plus how the task ended."""

    task: Task
    frames: list[tuple[dict, bytes]] = field(default_factory=list)
    lost: str | None = None  # why the zygote itself failed, if it did


class ZygoteHandle:
    """One sandboxed zygote process, restarted whenever it dies."""

    def __init__(self, mode: str, limits: Limits, cases_payload: bytes, uid: int | None):
        self.mode = mode
        self.limits = limits
        self.cases_payload = cases_payload
        self.uid = uid
        self.process: subprocess.Popen | None = None
        self.reader: protocol.Reader | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RNNKIT_")}
        self.log = tempfile.TemporaryFile()
        try:
            self.process = subprocess.Popen(
                zygote_command(self.mode),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.log,
                start_new_session=True,
                env=env,
            )
        except OSError as exc:
            raise SandboxError(f"the {self.mode!r} sandbox could not be started: {exc}") from None
        self.reader = protocol.Reader(self.process.stdout.fileno())
        config = {"event": "config", "limits": self.limits.__dict__, "uid": self.uid}
        try:
            self._send(config, self.cases_payload)
            header, _ = self.reader.read(time.monotonic() + 60)
        except (OSError, protocol.ProtocolError) as exc:
            header = {"error": str(exc)}
        if header.get("event") != "ready":
            self.stop()
            raise SandboxError(f"the {self.mode!r} sandbox did not start ({header}): {self.log_tail()}")

    def _send(self, header: dict, payload: bytes = b"") -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(protocol.encode_frame(header, payload))
        self.process.stdin.flush()

    def log_tail(self, size: int = 2000) -> str:
        """The end of what the zygote itself wrote to stderr (its own errors, never the student's)."""
        self.log.seek(0, os.SEEK_END)
        self.log.seek(max(0, self.log.tell() - size))
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.process = None

    def run(self, task: Task) -> TaskFrames:
        if self.process is None or self.process.poll() is not None:
            self.stop()
            self.start()
        result = TaskFrames(task)
        # The zygote enforces the real limits; this outer bound only catches a zygote that hangs.
        budget = self.limits.load_seconds + len(task.functions) * (self.limits.call_seconds + 3) + 30
        deadline = time.monotonic() + budget
        try:
            self._send(
                {"event": "task", "task": "|".join(task.key), "part": task.part, "filename": task.filename, "functions": task.functions},
                task.data,
            )
            while True:
                header, payload = self.reader.read(deadline)
                if header.get("task") != "|".join(task.key):
                    continue
                result.frames.append((header, payload))
                if header.get("event") == "done":
                    return result
        except (protocol.ProtocolError, OSError) as exc:
            result.lost = f"{exc}; {self.log_tail()}"
            self.stop()
            return result


def uid_base() -> int:
    """Worker uids of this grading run: high, unused, and distinct between concurrent runs."""
    return 3_000_000 + (os.getpid() % 100_000) * 16


class Pool:
    """``jobs`` zygotes working through tasks in parallel."""

    def __init__(self, jobs: int, limits: Limits, cases: dict[str, list], mode: str | None = None):
        self.mode = mode or best_mode()
        payload = calls.to_bytes(*calls.encode(cases))
        base = uid_base()
        self.handles = [
            ZygoteHandle(self.mode, limits, payload, base + i if os.geteuid() == 0 else None) for i in range(max(1, jobs))
        ]
        for handle in self.handles:
            handle.start()

    def run(self, tasks: list[Task], on_done=None) -> list[TaskFrames] | None:
        """Run every task; return their frames, or with ``on_done``, call ``on_done(frames)`` as each
        task ends, one call at a time (from worker threads), and return nothing.

        An exception in ``on_done`` stops the run and is raised here.
        """
        todo: queue.Queue = queue.Queue()
        for index, task in enumerate(tasks):
            todo.put((index, task))
        results: list[TaskFrames | None] = [None] * len(tasks)
        lock = threading.Lock()
        failures: list[BaseException] = []

        def work(handle: ZygoteHandle) -> None:
            while not failures:
                try:
                    index, task = todo.get_nowait()
                except queue.Empty:
                    return
                frames = handle.run(task)
                if on_done is None:
                    results[index] = frames  # with a consumer, nothing is kept: memory stays flat
                else:
                    with lock:
                        try:
                            on_done(frames)
                        except BaseException as exc:  # re-raised in the caller's thread
                            failures.append(exc)

        threads = [threading.Thread(target=work, args=(h,), daemon=True) for h in self.handles]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        return None if on_done is not None else [r for r in results if r is not None]

    def close(self) -> None:
        for handle in self.handles:
            handle.stop()

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
