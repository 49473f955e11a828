"""The student-written code of one part's file: its code cells minus the kit's own lines.

Boilerplate is every line (compared stripped of surrounding white space) of

* the released stub notebook ``assignments/<part>.ipynb`` (imports, ``def``
  lines, docstrings, ``# YOUR CODE HERE``, the stubs' ``raise``, the checks), and
* the reference source ``solutions/<part>.py`` outside its solution regions
  (the same lines as the kit writes them, and the check and plot cells).

What is left is what the student typed. A notebook handed back untouched
leaves nothing, so it can never look like anyone else's. Blank lines and
comment-only lines are dropped too: comments never count (the tokenizer would
drop them anyway, and dropping them here keeps the evidence pages short).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .. import content
from ..course import Course
from ..worker.cells import SubmissionError, read_cells


def _norm(line: str) -> str:
    return " ".join(line.split())


@lru_cache(maxsize=64)
def _boilerplate(root: str, part: str, stamp: tuple) -> frozenset[str]:
    lines: set[str] = set()
    stub = Path(root) / "assignments" / f"{part}.ipynb"
    if stub.is_file():
        try:
            for cell in read_cells(stub.read_bytes(), stub.name):
                lines.update(_norm(line) for line in cell.source.splitlines())
        except (OSError, SubmissionError):
            pass
    source = content.source_path(Path(root) / "solutions", part)
    if source.is_file():
        try:
            notebook = content.read_source(Path(root) / "solutions", part)
        except Exception:  # noqa: BLE001 - a broken source only means less boilerplate
            notebook = None
        for cell in getattr(notebook, "cells", []):
            if cell.cell_type != "code":
                continue
            try:
                pieces = content.split_regions(cell.source)
            except content.RegionError:
                continue
            for piece in pieces:
                if isinstance(piece, str):
                    lines.update(_norm(line) for line in piece.splitlines())
                elif piece.hint:  # the hint line of a region is printed in the stub
                    lines.add(_norm(piece.lines[0]))
    lines.discard("")
    return frozenset(lines)


def boilerplate_lines(course: Course, part: str) -> frozenset[str]:
    """The part's boilerplate lines (normalised), cached per file version."""
    root = Path(course.root)
    stamp = tuple(
        _mtime(p) for p in (root / "assignments" / f"{part}.ipynb", content.source_path(root / "solutions", part))
    )
    return _boilerplate(str(root), part, stamp)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def student_code(text: str, boilerplate: frozenset[str]) -> str:
    """``text``'s lines that are the student's own: not boilerplate, not blank, not only a comment."""
    kept = []
    for line in text.splitlines():
        norm = _norm(line)
        if not norm or norm.startswith("#") or norm in boilerplate:
            continue
        kept.append(line.rstrip())
    return "\n".join(kept) + ("\n" if kept else "")


def cells_text(data: bytes, filename: str) -> str:
    """A part file's code cells as one text (empty when the file cannot be read as code)."""
    try:
        cells = read_cells(data, filename)
    except SubmissionError:
        return ""
    return "\n".join(c.source for c in cells)


def extract(path: Path, course: Course, part: str, max_bytes: int | None = None) -> str:
    """The student-written code of ``path`` (a part's ``.ipynb`` or ``.py``), or "" when unreadable."""
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1 if max_bytes else -1)
    except OSError:
        return ""
    if max_bytes and len(data) > max_bytes:
        return ""
    return student_code(cells_text(data, Path(path).name), boilerplate_lines(course, part))


def notebook_with(cells: list[str]) -> str:
    """A minimal notebook (JSON text) whose code cells are ``cells``: for tests and the benchmark."""
    return json.dumps(
        {
            "cells": [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None} for s in cells],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )
