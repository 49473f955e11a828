"""Confining a worker before it runs student code: the layers that work without namespaces.

Applied in the worker, right after the zygote forks it, in this order:

1. **uid** (when the grader is root): no supplementary groups, a uid of its own;
2. **rlimits**: memory, processes, file size, CPU, open files, no core dumps;
3. **Landlock** (Linux 5.13+, unprivileged): the file system shrinks to what a
   worker needs: read the system libraries and the Python installation (the
   kit's own package excluded), read and write the task's work folder only.
   From Landlock ABI 4 no TCP, from ABI 6 no signal to a process outside the
   worker's own domain (the grader, the zygote) and no abstract Unix socket;
4. **seccomp** (libseccomp): refuse ``ptrace``, ``process_vm_readv`` /
   ``process_vm_writev``, sockets, namespaces, ``io_uring``, ``bpf``,
   ``perf_event_open``, keyrings, System V IPC, mounts and module loading,
   device nodes, changes of uid or capabilities, other processes' priority.

Each layer that the kernel or the container refuses is skipped and reported by
:func:`available_layers`, so the summary line names what protected the run.
The Landlock ruleset and the seccomp filter are prepared once in the zygote
(:class:`Confinement`), then applied by each worker.
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
from dataclasses import dataclass, field

from .processes import become_uid

try:  # well-kept bindings; each layer is optional
    import landlock as _landlock
    from landlock import plumbing as _ll
except Exception:  # noqa: BLE001 - an unusable binding means the layer is skipped
    _landlock = None
try:
    import pyseccomp as _seccomp
except Exception:  # noqa: BLE001
    _seccomp = None

#: Syscalls a worker never needs; refused with EPERM (clone3 with ENOSYS, so libc falls back to clone).
DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_by_handle_at", "name_to_handle_at",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "perf_event_open", "userfaultfd",
    "keyctl", "add_key", "request_key", "kexec_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "settimeofday", "clock_settime",
    "fanotify_init", "inotify_init", "inotify_init1",
    # Device nodes (mknod of /dev/kmsg or a disk, where root keeps CAP_MKNOD), other uids, other processes' priority.
    "mknod", "mknodat", "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "capset",
    "setpriority", "sched_setscheduler", "sched_setparam", "sched_setattr",
    # System V IPC outlives the process (bubblewrap gives a private IPC namespace; elsewhere refuse it).
    "shmget", "shmat", "shmctl", "semget", "semop", "semtimedop", "semctl", "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open",
)
_CLONE_NAMESPACES = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET


def _set_limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


# --------------------------------------------------------------------------- Landlock


class _RulesetAttr(ctypes.Structure):
    """``struct landlock_ruleset_attr`` up to ABI 6: file system, TCP, scopes."""

    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


_LANDLOCK_NET_ALL = 0b11  # BIND_TCP | CONNECT_TCP (ABI 4)
_LANDLOCK_SCOPE_ALL = 0b11  # ABSTRACT_UNIX_SOCKET | SIGNAL (ABI 6)
_SYS_LANDLOCK_CREATE_RULESET = 444


def landlock_abi() -> int:
    if _landlock is None:
        return 0
    try:
        return int(_landlock.landlock_abi_version())
    except Exception:  # noqa: BLE001 - not supported by this kernel or refused by the container
        return 0


def _create_ruleset(abi: int) -> int:
    fs = int(_ll.FSAccess.all())
    attr = _RulesetAttr(fs, _LANDLOCK_NET_ALL if abi >= 4 else 0, _LANDLOCK_SCOPE_ALL if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    libc = _ll.get_libc()
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    fd = syscall(ctypes.c_long(_SYS_LANDLOCK_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    return int(fd)


def _add_path(ruleset: int, fd: int, access: int) -> None:
    _ll.get_add_rule()(ruleset, 1, ctypes.byref(_ll.PathBeneathAttr(access, fd)), 0)


def readable_paths(hidden: list[str]) -> list[str]:
    """What a worker may read: the system's libraries and the Python installation, minus ``hidden``.

    A folder that holds a hidden path is not allowed whole: its other entries are allowed
    one by one (Landlock only knows allow rules). The Python installation (the interpreter's
    prefixes and its site-packages) stays readable even inside a hidden folder: a course's
    ``.venv`` lives in the course folder, and without it ``np.random`` or ``matplotlib`` would
    not import. What is hidden *inside* it (the kit's package, if installed there) stays hidden.
    """
    system = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc", "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]
    installation = [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))]
    installation += [p for p in sys.path if p and os.path.isdir(p) and (os.path.basename(p) in ("site-packages", "dist-packages")
                                                                        or os.path.realpath(p).startswith(os.path.realpath(sys.base_prefix) + os.sep))]
    others = [p for p in sys.path if p and os.path.isdir(p) and p not in installation]
    hidden = [os.path.realpath(h) for h in hidden]
    allowed: set[str] = set()

    def allow(path: str, below_hidden_ok: bool) -> None:
        real = os.path.realpath(path)
        if any(real == h for h in hidden) or (not below_hidden_ok and any(real.startswith(h + os.sep) for h in hidden)):
            return
        inside = [h for h in hidden if h.startswith(real + os.sep)]
        if not inside or not os.path.isdir(real):
            allowed.add(real)
            return
        try:
            entries = os.listdir(real)
        except OSError:
            return
        for entry in entries:
            allow(os.path.join(real, entry), below_hidden_ok)

    for root in system + others:
        if os.path.exists(root):
            allow(root, below_hidden_ok=False)
    for root in installation:
        if os.path.exists(root):
            allow(root, below_hidden_ok=True)
    # Keep only the outermost folders: a rule covers everything beneath it.
    ordered = sorted(allowed)
    kept: list[str] = []
    for path in ordered:
        if not any(path.startswith(k + os.sep) for k in kept):
            kept.append(path)
    return kept


# --------------------------------------------------------------------------- the confinement


@dataclass
class Confinement:
    """Everything a worker applies to itself, prepared once in the zygote."""

    limits: dict
    uid: int | None
    hidden: list[str] = field(default_factory=list)
    use_landlock: bool = True
    use_seccomp: bool = True

    def __post_init__(self) -> None:
        self.abi = landlock_abi() if self.use_landlock else 0
        self._ruleset: int | None = None
        self._filter = self._seccomp_filter() if self.use_seccomp else None

    def prepare(self, work_root: str) -> None:
        """Build the Landlock ruleset once, for every worker of this zygote.

        Reads: the system and the Python installation (``hidden`` excluded). Everything, writing
        included: ``work_root``, where each task's work folder is made and removed again before
        the next task starts (one task at a time per zygote, and only the task's own folder is
        writable for its uid), and ``/dev/null``. A worker then only applies it.
        """
        if not self.abi:
            return
        read_file = int(_ll.FSAccess.READ_FILE | _ll.FSAccess.EXECUTE)
        read_dir = read_file | int(_ll.FSAccess.READ_DIR)
        rules = [(path, read_dir if os.path.isdir(path) else read_file) for path in readable_paths(self.hidden)]
        rules += [("/dev/null", read_file | int(_ll.FSAccess.WRITE_FILE)), (work_root, int(_ll.FSAccess.all()))]
        ruleset = _create_ruleset(self.abi)
        try:
            for path, access in rules:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    _add_path(ruleset, fd, access)
                finally:
                    os.close(fd)
        except BaseException:
            os.close(ruleset)
            raise
        self._ruleset = ruleset

    def _seccomp_filter(self):
        if _seccomp is None:
            return None
        try:
            f = _seccomp.SyscallFilter(defaction=_seccomp.ALLOW)
            for name in DENIED_SYSCALLS:
                try:
                    f.add_rule(_seccomp.ERRNO(1), name)
                except Exception:  # noqa: BLE001 - a syscall this architecture does not have
                    pass
            f.add_rule(_seccomp.ERRNO(38), "clone3")  # ENOSYS: libc falls back to clone, whose flags we can see
            f.add_rule(_seccomp.ERRNO(1), "clone", _seccomp.Arg(0, _seccomp.MASKED_EQ, _CLONE_NAMESPACES, _CLONE_NAMESPACES))
            for bit in range(25, 31):
                if _CLONE_NAMESPACES & (1 << bit):
                    f.add_rule(_seccomp.ERRNO(1), "clone", _seccomp.Arg(0, _seccomp.MASKED_EQ, 1 << bit, 1 << bit))
            return f
        except Exception:  # noqa: BLE001 - libseccomp missing or refused
            return None

    def open_fds(self) -> list[int]:
        """The descriptors the confinement holds (a worker must not close them before :meth:`restrict`)."""
        return [self._ruleset] if self._ruleset is not None else []

    @property
    def layers(self) -> list[str]:
        out = []
        if self.uid is not None:
            out.append("uid")
        if self.abi:
            out.append(f"landlock (ABI {self.abi})")
        if self._filter is not None:
            out.append("seccomp")
        return out

    # ----------------------------------------------------------------- in the worker

    def drop_uid(self) -> None:
        if self.uid is not None:  # first: root ignores RLIMIT_NPROC
            become_uid(self.uid)
        elif os.geteuid() == 0:  # none mode run as root: still uid 0, but with no capability left
            _drop_capabilities()

    def set_limits(self, others: int) -> None:
        """Apply the rlimits; ``others``: processes of this uid that are not the task's (RLIMIT_NPROC counts them)."""
        mb = 1 << 20
        limits = self.limits
        _set_limit(resource.RLIMIT_AS, limits["memory_mb"] * mb)
        _set_limit(resource.RLIMIT_NPROC, others + limits["processes"])
        _set_limit(resource.RLIMIT_FSIZE, max(limits["file_size_mb"] * mb, limits["output_kb"] * 1024))
        _set_limit(resource.RLIMIT_CORE, 0)
        _set_limit(resource.RLIMIT_NOFILE, 256)
        cpu = int(limits["load_seconds"]) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2 + int(limits["call_seconds"]) * 64))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing

    def restrict(self) -> None:
        """Landlock, then seccomp: after this the worker can reach only what it needs."""
        _no_new_privs()
        if self._ruleset is not None:
            try:
                _ll.get_restrict_self()(self._ruleset, 0)
            finally:
                os.close(self._ruleset)
                self._ruleset = None
        if self._filter is not None:
            self._filter.load()


_PR_SET_NO_NEW_PRIVS = 38
_LIBC = ctypes.CDLL(None, use_errno=True)


def _no_new_privs() -> None:
    _LIBC.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities() -> None:
    """Every capability gone, from the bounding and ambient sets too (root without CAP_MKNOD, CAP_SYS_NICE...)."""
    for capability in range(64):
        _LIBC.prctl(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP (an unknown number fails harmlessly)
    _LIBC.prctl(47, 4, 0, 0, 0)  # PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _LIBC.capset(ctypes.byref(header), data)
    ctypes.set_errno(0)  # the drops of capabilities this kernel does not have left EINVAL, which later checks would read


def available_layers(limits: dict, uid: int | None, hidden: list[str]) -> list[str]:
    """The layers a worker gets here (for the summary line); prepared and dropped at once."""
    return Confinement(limits, uid, hidden).layers
