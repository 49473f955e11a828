"""Helpers of tests/test_readme.py: the README's shell commands, a copy of the kit to run them in, a shell.

A command is one logical line of a fenced ``sh``, ``bash`` or ``console`` block of
README.md (in a ``console`` block, the lines after a ``$`` prompt), continuation
lines joined; lines that are only a comment are skipped. A command's *key* is the
line without its trailing comment, as the tables of tests/test_readme.py name it.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from markdown_it import MarkdownIt

from .conftest import ROOT

README = ROOT / "README.md"
SHELL_LANGUAGES = {"sh", "bash", "console"}


def command_key(line: str) -> str:
    """``line`` without its trailing comment (a ``#`` that starts a word) and outer blanks."""
    return re.sub(r"(^|\s)#.*$", "", line).strip()


def readme_commands(text: str | None = None) -> dict[str, str]:
    """``{key: the README's line as written}`` for every command of the README's shell blocks."""
    commands: dict[str, str] = {}
    for token in MarkdownIt("commonmark").parse(README.read_text(encoding="utf-8") if text is None else text):
        language = token.info.split()[0] if token.info.strip() else ""
        if token.type != "fence" or language not in SHELL_LANGUAGES:
            continue
        logical: list[str] = []
        for raw in token.content.splitlines():
            if logical and logical[-1].endswith("\\"):
                logical[-1] = logical[-1][:-1] + raw.lstrip()
            elif language != "console":
                logical.append(raw)
            elif raw.startswith("$ "):
                logical.append(raw[2:])
        for line in logical:
            if command_key(line):
                commands.setdefault(command_key(line), line)
    return commands


def copy_of_the_kit(destination: Path) -> Path:
    """The kit's files in ``destination``, with a ``.venv`` that is the running one.

    What git ignores (the venv, grades, caches, the course secret) is left out. The
    ``.venv`` links to this venv's ``bin``, ``lib``, ``pyvenv.cfg``..., and its set-up
    stamps are newer than the copied ``pyproject.toml``, so ``make`` installs nothing
    (and never re-points this venv's editable install at the copy).
    """
    ignored = [line.strip().rstrip("/") for line in (ROOT / ".gitignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(".git", *ignored), symlinks=True)
    venv = Path(sys.prefix)
    assert venv != Path(sys.base_prefix), "run the tests with the kit's .venv (make test)"
    (destination / ".venv").mkdir()
    for entry in venv.iterdir():
        if not entry.name.startswith(".installed"):
            (destination / ".venv" / entry.name).symlink_to(entry)
    for stamp in (".installed-grade", ".installed"):
        (destination / ".venv" / stamp).touch()
    return destination


def bare_environment() -> dict[str, str]:
    """This process's environment without any venv on PATH, as a new terminal has it."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "RNNKIT_COURSE", "PYTHONPATH", "PYTHONHOME"}}
    venv_bins = {Path(sys.prefix, "bin").resolve(), Path(sys.executable).parent.resolve()}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() not in venv_bins]
    env["PATH"] = os.pathsep.join(path) or "/usr/bin:/bin"
    env["MPLBACKEND"] = "Agg"
    return env


class Shell:
    """Runs command lines one at a time, as in one terminal: ``cd`` and ``. activate`` carry over.

    ``run`` takes a README command by its key and runs the README's own line; ``prepare``
    runs a line of the test's own set-up. Each line runs in ``bash -c``; the working
    folder and the exported environment it leaves are kept for the next line.
    """

    def __init__(self, home: Path, state: Path, allowed: list[str], **env: str) -> None:
        self.home = home
        self.cwd = home
        self.env = {**bare_environment(), **env}
        self.state = state
        self.state.mkdir(parents=True, exist_ok=True)
        self.allowed = allowed
        self.ran: list[str] = []
        self.readme = readme_commands()

    def run(self, key: str, expect: int = 0, timeout: float = 300) -> subprocess.CompletedProcess:
        assert key in self.allowed, f"{key!r} is not in this test's row of RUN_HERE"
        assert key in self.readme, f"{key!r} is no longer a command of README.md"
        self.ran.append(key)
        return self._bash(self.readme[key], expect, timeout)

    def prepare(self, line: str) -> subprocess.CompletedProcess:
        return self._bash(line, 0, 120)

    def _bash(self, line: str, expect: int, timeout: float) -> subprocess.CompletedProcess:
        cwd_file, env_file = self.state / "cwd", self.state / "env"
        script = f'{line}\nstatus=$?\npwd > "{cwd_file}"\nenv -0 > "{env_file}"\nexit $status\n'
        result = subprocess.run(["bash", "-c", script], cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == expect, (
            f"`{line}` in {self.cwd} exited {result.returncode}, expected {expect}\n"
            f"--- stdout ---\n{result.stdout[-3000:]}\n--- stderr ---\n{result.stderr[-3000:]}"
        )
        self.cwd = Path(cwd_file.read_text().strip())
        self.env = dict(item.partition("=")[::2] for item in env_file.read_text().split("\0") if "=" in item)
        return result
