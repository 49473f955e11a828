"""The machine and its processes: what it is, how busy it is, and what a command costs on it.

A command runs as a subprocess; wall time is measured around it, memory two
ways: the process tree's total PSS and RSS, sampled from /proc every
:data:`SAMPLE_SECONDS` while it runs (PSS splits shared pages between the
processes sharing them, so forked workers are not counted twice), and the
largest single process, ``ru_maxrss`` from ``os.wait4``.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from rnnkit.worker.processes import descendants

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SAMPLE_SECONDS = 0.2


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / (1 << 20)
    return float("nan")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def code_revision() -> str:
    """The kit's code being measured: the last commit that changed autograder/, and whether it has uncommitted changes."""
    try:
        commit = subprocess.run(["git", "log", "-1", "--format=%h", "--", "autograder"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", "autograder"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "code: unknown"
    if not commit:
        return "code: not a git checkout"
    return f"grader code of commit {commit}" + (" + uncommitted changes" if changed else "")


def same_revision(revision: str) -> str:
    """``revision``, flagged when the code changed while it was being measured."""
    now = code_revision()
    return revision if now == revision else f"{revision}, **then {now}: the code changed during the run, numbers mix both**"


def machine_lines() -> list[str]:
    from rnnkit.sandbox.modes import MODE_WORDS, best_mode

    try:
        bwrap = subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout.strip() or "not installed"
    except OSError:
        bwrap = "not installed"
    mode = best_mode()
    packages = ["numpy", "nbgrader", "otter-grader", "ipykernel", "jupyter_client", "nbclient", "nbconvert", "jsonschema"]
    return [
        f"- CPU: {_cpu_model()}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable by this process)",
        f"- memory: {_memory_gib():.1f} GiB; Linux {platform.release()}; running as {'root' if os.geteuid() == 0 else 'an unprivileged user'}",
        f"- Python {platform.python_version()} ({sys.executable})",
        "- packages: " + ", ".join(f"{p} {_version(p)}" for p in packages) + f"; {bwrap}",
        f"- rnnkit sandbox: `{mode}` ({MODE_WORDS[mode]})",
    ]


# --------------------------------------------------------------------------- measuring a process tree


def process_tree(root: int) -> list[int]:
    return [root, *descendants(root)]


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes; (0, 0) once it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            rss = int(f.read().split()[1]) * _PAGE
        pss = 0
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                    break
        return rss, pss
    except (OSError, ValueError, IndexError):
        return 0, 0


def busy_jiffies() -> int:
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]  # everything but idle and iowait


@dataclass
class Measured:
    wall: float
    returncode: int
    peak_pss: int = 0  # bytes, the tree's total, sampled
    peak_rss: int = 0  # bytes, the tree's total, sampled
    max_rss: int = 0  # bytes, the largest process (wait4)
    processes: int = 0  # most processes seen at once in the tree
    cores_busy: float = 0.0  # machine-wide CPU use over the run, in cores
    log: str = ""
    background: float = 0.0  # cores busy with other work just before the run


def background_load(seconds: float = 1.0, patience: float = 60.0) -> float:
    """Cores busy right now with work that is not ours; waits up to ``patience`` s for the machine to calm down."""
    ticks = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + patience
    while True:
        busy0 = busy_jiffies()
        time.sleep(seconds)
        busy = (busy_jiffies() - busy0) / ticks / seconds
        if busy < 0.25 or time.monotonic() > deadline:
            return busy


def run_measured(command: list[str], cwd: Path, env: dict | None = None, log: Path | None = None) -> Measured:
    """Run ``command`` to the end, sampling its process tree's memory; raise if it fails."""
    log = log or Path(tempfile.mkstemp(prefix="bench-", suffix=".log")[1])
    peaks = {"pss": 0, "rss": 0, "processes": 0}
    stop = threading.Event()
    ticks = os.sysconf("SC_CLK_TCK")
    background = background_load()
    with open(log, "wb") as out:
        busy0 = busy_jiffies()
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env or tool_env(), stdout=out, stderr=subprocess.STDOUT)

        def sample() -> None:
            while not stop.is_set():
                pids = process_tree(process.pid)
                sizes = [_memory(pid) for pid in pids]
                peaks["rss"] = max(peaks["rss"], sum(s[0] for s in sizes))
                peaks["pss"] = max(peaks["pss"], sum(s[1] for s in sizes))
                peaks["processes"] = max(peaks["processes"], sum(1 for s in sizes if s[0]))
                stop.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        busy = (busy_jiffies() - busy0) / ticks
        stop.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} exited {process.returncode} (cwd {cwd}):\n{text[-4000:]}")
    return Measured(wall, process.returncode, peaks["pss"], peaks["rss"], usage.ru_maxrss * 1024, peaks["processes"], busy / wall, text, background)


def tool_env(**extra: str) -> dict[str, str]:
    """This venv's bin first on PATH (nbgrader runs alembic from PATH); no RNNKIT_ overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNNKIT_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def run(command: list[str], cwd: Path, **env: str) -> str:
    result = subprocess.run(command, cwd=cwd, env=tool_env(**env), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def mb(size: int) -> str:
    return f"{size / (1 << 20):.0f}"

