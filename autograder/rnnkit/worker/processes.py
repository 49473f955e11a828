"""The processes of a task, as the zygote sees them: the uid's sweeper, killing, reaping.

Trusted code of the zygote (never run by a worker after student code). With a uid of
its own, everything a task started is swept as that uid by a :class:`Sweeper`; the
zygote itself kills its descendants (it is a child subreaper) and reaps them.
"""
from __future__ import annotations

import ctypes
import errno
import os
import select
import signal
import stat

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
#: World-writable places where a uid of its own may leave files; swept after every task.
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")


def prctl(option: int, value: int) -> None:
    _libc.prctl(option, value, 0, 0, 0)


class Sweeper:
    """A process of the worker's uid, forked once, that sweeps after every task on request.

    Sweeping after a task means, as the uid: kill every process of the uid (``kill(-1)`` spares
    the sender), and remove its files in ``/tmp``, ``/var/tmp``, ``/dev/shm`` and its work
    folder. Forking a sweeper per task cost milliseconds; this one answers in a fraction.
    Student code runs as the same uid, so the sweeper cannot be *trusted* to stay: it is not
    dumpable (no ``/proc/PID/mem`` or ``/proc/PID/fd`` for the uid, no ptrace), Landlock's signal
    scope (ABI 6) keeps workers from signalling it where the kernel has it, and when it dies or
    does not answer in time the zygote kills it, sweeps with a fresh fork and starts another.
    It reads requests only from the zygote, on a pipe no worker holds.
    """

    REPLY_SECONDS = 5.0

    def __init__(self, uid: int | None):
        self.uid = uid
        self.pid: int | None = None
        self.requests = self.replies = -1
        self.start()

    @property
    def processes(self) -> int:
        return 1 if self.pid is not None else 0

    def start(self) -> None:
        self.stop()
        if self.uid is None:
            return
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                close_all_but([request_r, reply_w])  # the control socket above all
                prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                become_uid(self.uid)
                prctl(PR_SET_DUMPABLE, 0)  # after setuid, which resets it
                _serve_sweeps(self.uid, request_r, reply_w)
            finally:
                os._exit(0)
        os.close(request_r)
        os.close(reply_w)
        self.pid, self.requests, self.replies = pid, request_w, reply_r

    def sweep(self, workdir: str | None) -> bool:
        """Ask for a sweep and wait for it; ``False`` when the sweeper did not do it."""
        if self.pid is None:
            return False
        request = (workdir or "").encode() + b"\n"
        try:
            os.write(self.requests, request)
            ready, _, _ = select.select([self.replies], [], [], self.REPLY_SECONDS)
            if ready and os.read(self.replies, 1) == b"k":
                return True
        except OSError:
            pass
        self.stop()
        return False

    def stop(self) -> None:
        if self.pid is None:
            return
        kill(self.pid)
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        os.close(self.requests)
        os.close(self.replies)
        self.pid = None


def become_uid(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def sweep_as_uid(uid: int, workdir: str | None) -> None:
    for _ in range(4):
        try:
            os.kill(-1, signal.SIGKILL)  # every process of this uid but ourselves
        except ProcessLookupError:
            break
    for place in SHARED_WRITABLE:
        remove_owned(place, uid)
    if workdir:
        remove_tree(workdir)


def _serve_sweeps(uid: int, requests: int, replies: int) -> None:
    """The sweeper's loop: one line per request (a work folder, or empty), ``k`` when done."""
    with os.fdopen(requests, "rb", buffering=0) as lines:
        for line in iter(lines.readline, b""):
            workdir = line.rstrip(b"\n").decode(errors="replace")
            sweep_as_uid(uid, workdir or None)
            os.write(replies, b"k")


# --------------------------------------------------------------------------- helpers


def close_all_but(keep: list[int]) -> None:
    """Close every descriptor from 3 on but ``keep``."""
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 4096)


def remove_tree(path: str) -> None:
    """Remove ``path`` and everything below it, however deep, never following a link; errors are ignored.

    ``shutil.rmtree`` recurses (a tree 1000 folders deep raises RecursionError) and walks by path (too long past
    4096 bytes). Here every folder met is first moved up to ``path`` itself, so the walk is never more than two
    folders deep and holds at most two descriptors, whatever a student built. It stops when a pass over ``path``
    removes nothing more (what is left, its caller checks).
    """
    try:
        top = os.open(path, _NO_FOLLOW_DIR)
    except OSError:  # a file or a link in its place, or a folder we may not read (emptied by its owner's sweeper)
        _quietly(os.unlink, path) or _quietly(os.rmdir, path)
        return
    moved = [0]
    try:
        while True:
            try:
                entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in os.scandir(top)]
            except OSError:
                break
            progress = False
            for name, is_dir in entries:
                if is_dir:
                    _flatten_into(top, name, moved)
                progress |= _quietly((os.rmdir if is_dir else os.unlink), name, dir_fd=top)
            if not progress:
                break
    finally:
        os.close(top)
    _quietly(os.rmdir, path)


_NO_FOLLOW_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def _flatten_into(top: int, name: str, moved: list[int]) -> None:
    """Empty the folder ``name`` of ``top``: unlink its files, move its folders up into ``top`` (fresh names)."""
    _quietly(os.chmod, name, 0o700, dir_fd=top)  # a folder its owner made unreadable or unwritable
    try:
        inner = os.open(name, _NO_FOLLOW_DIR, dir_fd=top)
    except OSError:
        return
    try:
        for entry in list(os.scandir(inner)):
            if not entry.is_dir(follow_symlinks=False):
                _quietly(os.unlink, entry.name, dir_fd=inner)
                continue
            _quietly(os.chmod, entry.name, 0o700, dir_fd=inner)  # moving a folder rewrites its ".." entry
            for _ in range(100):  # a name not yet taken in top
                moved[0] += 1
                try:
                    os.rename(entry.name, f".rnnkit-removing-{moved[0]}", src_dir_fd=inner, dst_dir_fd=top)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                        break
    except OSError:
        pass
    finally:
        os.close(inner)


def _quietly(operation, *args, **kwargs) -> bool:
    """``operation(*args, **kwargs)``; whether it succeeded (an OSError is ignored)."""
    try:
        operation(*args, **kwargs)
        return True
    except OSError:
        return False


def remove_owned(place: str, uid: int) -> None:
    """Remove every entry of ``place`` owned by ``uid`` (run as that uid: it can remove only its own).

    Only folders anyone may write to are searched further: the uid can have created nothing elsewhere.
    """
    try:
        entries = list(os.scandir(place))
    except OSError:
        return
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        is_dir = stat.S_ISDIR(info.st_mode)
        if info.st_uid == uid:
            if is_dir:
                remove_tree(entry.path)
            else:
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass
        elif is_dir and info.st_mode & stat.S_IWOTH:
            remove_owned(entry.path, uid)


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def count_own_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid:
                count += 1
        except OSError:
            pass
    return count


_PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_memory(root: int, exclude: set[int]) -> int:
    """Bytes resident in the processes below ``root`` (not ``root`` itself, nor ``exclude`` and theirs).

    Follows ``/proc/PID/task/TID/children``, so it reads only the tree, not all of ``/proc``. Pages a child
    shares with its parent after a fork are counted in each: an overestimate, never an underestimate.
    """
    total, frontier, seen = 0, [root], {root}
    while frontier:
        pid = frontier.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    children = [int(c) for c in f.read().split()]
            except (OSError, ValueError):
                continue
            for child in children:
                if child in seen or child in exclude:
                    continue
                seen.add(child)
                frontier.append(child)
                try:
                    with open(f"/proc/{child}/statm", "rb") as f:
                        total += int(f.read().split()[1]) * _PAGE
                except (OSError, ValueError, IndexError):
                    pass
    return total


def descendants(root: int) -> list[int]:
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


def reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
