"""Worker uids, allocated uniquely across every grading run on the machine.

Each zygote runs its workers under a uid of its own (when the grader is root).
Two runs at once must never share a uid: the end-of-task sweep kills every
process of the uid, and would kill the other run's workers. A uid belongs to
the run that holds an exclusive ``flock`` on its lock file, in a folder only
root can reach; the kernel releases it when the run ends, however it ends.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

#: The first worker uid; high and unused by any real account.
BASE = 5_000_000
SLOTS = 4096
LOCK_DIR = Path("/run/rnnkit-uids")


class NoFreeUid(RuntimeError):
    pass


class UidLease:
    """``count`` worker uids held until :meth:`release` (or the process's end)."""

    def __init__(self, count: int, lock_dir: Path = LOCK_DIR):
        self.uids: list[int] = []
        self._files: list[int] = []
        folder = _lock_folder(lock_dir)
        for slot in range(SLOTS):
            if len(self.uids) == count:
                break
            fd = os.open(folder / f"{BASE + slot}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self.uids.append(BASE + slot)
            self._files.append(fd)
        if len(self.uids) < count:
            self.release()
            raise NoFreeUid(f"no free worker uid among {SLOTS} (too many grading runs at once?)")

    def release(self) -> None:
        for fd in self._files:
            os.close(fd)
        self._files, self.uids = [], []


def _lock_folder(preferred: Path) -> Path:
    for folder in (preferred, Path("/var/lock/rnnkit-uids"), Path("/tmp/rnnkit-uids-root")):
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = folder.lstat()
            if info.st_uid == 0 and not folder.is_symlink() and info.st_mode & 0o077 == 0:
                return folder
        except OSError:
            continue
    raise NoFreeUid("no folder for the worker uid locks (tried /run, /var/lock and /tmp)")
