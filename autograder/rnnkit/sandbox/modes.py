"""How the zygote is started: the three sandbox modes, and the bubblewrap command line.

``bwrap``  bubblewrap around each zygote: a read-only view of the system and the
           Python installation, and of the kit's worker modules only (no
           ``solutions/``, no grading modules, no class folder, no output folder,
           no home); a private ``/tmp``; no network; its own PID, IPC and UTS
           namespaces; as root, a uid of its own per zygote too.
``uid``    (root, no bubblewrap) every worker runs under a uid of its own, no groups.
``none``   (not root, no bubblewrap) the grading user's own uid.

In every mode each worker also confines itself with the layers the kernel
allows (:mod:`rnnkit.worker.confine`: Landlock, seccomp, rlimits).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

MODES = ("bwrap", "uid", "none")
#: Size of the sandbox's private /tmp, where student code may write.
TMP_BYTES = 256 << 20

MODE_WORDS = {
    "bwrap": "bubblewrap (read-only system, only the kit's worker modules visible, no network, own PID namespace)",
    "uid": "a separate unprivileged uid per sandbox, no bubblewrap",
    "none": "no bubblewrap and not root: student code runs as you",
}


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


def mode_words(mode: str) -> str:
    """A few words for ``mode`` on this machine."""
    if mode == "none" and os.geteuid() == 0:  # chosen by hand (RNNKIT_SANDBOX=none); as root it is the weakest of all
        return "no bubblewrap, run as root: student code runs as root, without capabilities, and no process limit applies to root (use uid mode)"
    return MODE_WORDS[mode]


def describe(mode: str, layers: list[str]) -> str:
    """The summary line's words: the mode, then every layer that confined the workers."""
    extra = [layer for layer in layers if not (mode == "bwrap" and layer == "uid")]
    words = mode_words(mode)
    if mode == "bwrap" and "uid" in layers:
        words += ", a uid of its own"
    missing = []
    if not any(layer.startswith("landlock") for layer in layers):
        missing.append("no Landlock")
    if "seccomp" not in layers:
        missing.append("no seccomp")
    text = f"{words}; worker layers: {', '.join(extra) if extra else 'rlimits only'}"
    if mode != "bwrap" and missing:
        text += f" ({', '.join(missing)}: student code could read world-readable files)"
    return text


def package_dir() -> Path:
    """The kit's package (``rnnkit/``) on this machine."""
    return Path(__file__).resolve().parents[1]


def worker_files(package: Path) -> list[Path]:
    """What the sandbox shows of the kit: the package's ``__init__.py`` and the worker package."""
    files = [package / "__init__.py"]
    files += sorted(p for p in (package / "worker").rglob("*.py") if "__pycache__" not in p.parts)
    return files


def _package_binds(package: Path) -> list[str]:
    """The kit's package as bubblewrap shows it: a fresh tmpfs holding only :func:`worker_files`."""
    binds = ["--tmpfs", str(package), "--dir", str(package / "worker")]
    for path in worker_files(package):
        binds += ["--ro-bind", str(path), str(path)]
    return binds


#: The whole environment of a zygote and its workers, in every mode (bubblewrap sets the same with --clearenv): the
#: grader's own variables (tokens, paths, RNNKIT_SECRET) never reach student code. The worker adds HOME, TMPDIR and
#: the thread counts itself.
WORKER_ENVIRONMENT = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}


def zygote_command(mode: str, control_fd: int) -> list[str]:
    python = [sys.executable, "-I", "-m", "rnnkit.worker.zygote", str(control_fd)]
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
    package = package_dir()
    # Folders bubblewrap creates on the way to a bind are 0700: make them passable for the worker's uid.
    ancestors = sorted({str(a) for p in python_dirs | {package} for a in p.parents if str(a) != "/" and not str(a).startswith(system)})
    for path in ancestors:
        binds += ["--perms", "0755", "--dir", path]
    for path in sorted(python_dirs):
        binds += ["--ro-bind", str(path), str(path)]
    binds += _package_binds(package)
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
        *[word for name, value in WORKER_ENVIRONMENT.items() for word in ("--setenv", name, value)],
        "--chdir", "/tmp",
        "--",
        *python,
    ]
