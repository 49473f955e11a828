"""Writing files whole, and one writer per output folder.

:func:`write_atomic` writes a temporary file beside the target, flushes it to
disk (or leaves that to one :func:`sync` per run), then renames it over the target: a reader (or a run killed at any moment)
sees the old file or the new one, never a part of either. :class:`OutputLock`
holds ``OUT/.rnnkit.lock`` (``fcntl.flock``) for the whole run; a second run
into the same folder stops with a message naming the first.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import socket
import tempfile
from pathlib import Path

LOCK_FILE = ".rnnkit.lock"


def write_atomic(path: Path, text: str | bytes, *, durable: bool = True) -> Path:
    """Write ``text`` to ``path`` whole: a temporary file in the same folder, fsync, then rename over ``path``.

    ``durable=False`` skips the fsync: the file is still whole for every reader and after any kill
    of the run, but a power cut may lose it. For the many per-student files, written as each
    student is graded, the run syncs once before its manifest says it is complete (:func:`sync`).
    """
    path = Path(path)
    # backslashreplace: a lone surrogate that reached the text (a file name that is not UTF-8, say) is written as its
    # escape rather than failing the whole run.
    data = text.encode("utf-8", "backslashreplace") if isinstance(text, str) else text
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    return path


def sync() -> None:
    """Flush every file written so far to disk (once per run, instead of an fsync per student file)."""
    os.sync()


def remove_temporaries(folder: Path) -> None:
    """Delete the temporary files a killed run left in ``folder`` (``.<name>.*.tmp``)."""
    for leftover in Path(folder).glob(".*.tmp"):
        try:
            leftover.unlink()
        except OSError:
            pass


class OutputLocked(RuntimeError):
    """Another run holds the output folder (the message names it)."""


class OutputLock:
    """``with OutputLock(out_dir):`` holds ``out_dir/.rnnkit.lock`` exclusively, or raises :class:`OutputLocked`.

    Writes into the lock file who holds it: pid, host and start time (UTC).
    """

    def __init__(self, out_dir: Path):
        self.path = Path(out_dir) / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> "OutputLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_words(fd)
            os.close(fd)
            raise OutputLocked(
                f"{self.path.parent} is being written by another rnnkit run ({holder}). "
                "Wait for it to finish, or choose another --out folder."
            ) from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": now()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _holder_words(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        return f"pid {info['pid']} on {info['host']}, started {info['started']}"
    except (ValueError, KeyError, TypeError, OSError):
        return "a run that has not said who it is yet"


def now() -> str:
    """The time now, UTC, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
