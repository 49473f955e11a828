"""Helpers of the ecosystem tests (release, Gradescope, nbgrader, otter): tools, submissions, the kit's own scores."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rnnkit.course import Course
from rnnkit.examples import BOB_MISTAKES
from rnnkit.grading import Submission, grade_class

from .conftest import ROOT, reference_source

BIN = Path(sys.executable).parent

#: Mistakes of the "wrong" submissions: bob's, plus one that loses only some cases (partial credit).
EXTRA_MISTAKES = {"rnn_forward": [("shifted = z - np.max(z, axis=-1, keepdims=True)", "shifted = z")]}


def mistakes(part: str) -> list[tuple[str, str]]:
    return BOB_MISTAKES.get(part, []) + EXTRA_MISTAKES.get(part, [])


def make_wrong(text: str, part: str) -> str:
    """``text`` (reference code, in any form) with the part's mistakes applied; each must apply."""
    for old, new in mistakes(part):
        assert old in text, f"{old!r} no longer appears in solutions/{part}.py: update tests/ecosystem_helpers.py"
        text = text.replace(old, new)
    return text


def wrong_source(course: Course, part: str) -> str:
    return make_wrong(reference_source(course, part), part)


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for nbgrader / otter / scripts: this venv's bin first (nbgrader runs alembic from PATH)."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def run(command: list[str], cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    """Run a command; on failure, fail the test with the end of its output."""
    result = subprocess.run(command, cwd=cwd, env=tool_env(**env), capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, command))} exited {result.returncode}\n--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
        )
    return result


def kit_scores(course: Course, students: dict[str, dict[str, Path]]) -> dict[str, dict[str, float]]:
    """``rnnkit grade``'s score of every function, for ``{student: {part: file}}``."""
    submissions = [Submission(name, next(iter(files.values())).parent if files else ROOT, files, [], {}) for name, files in students.items()]
    return {r.student: {name: fr.score for name, fr in r.functions.items()} for r in grade_class(submissions, course, jobs=2)}
