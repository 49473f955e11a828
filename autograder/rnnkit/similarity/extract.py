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
import re
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


@lru_cache(maxsize=64)
def _stub_functions(root: str, part: str, stamp: tuple) -> frozenset[str]:
    names: set[str] = set()
    stub = Path(root) / "assignments" / f"{part}.ipynb"
    try:
        cells = read_cells(stub.read_bytes(), stub.name)
    except (OSError, SubmissionError):
        return frozenset()
    for cell in cells:
        for line in cell.source.splitlines():
            m = _TOP.match(line)
            if m and m.group(1):
                names.add(m.group(1))
    return frozenset(names)


def stub_functions(course: Course, part: str) -> frozenset[str]:
    """The functions the released notebook defines (graded, pasted from an earlier part, or given)."""
    root = Path(course.root)
    return _stub_functions(str(root), part, (_mtime(root / "assignments" / f"{part}.ipynb"),))


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


_TOP = re.compile(r"^(?:def|class|async\s+def)\s+(\w+)|^@")


def student_chunks(cells: list[str], boilerplate: frozenset[str], stub_functions: frozenset[str] = frozenset()) -> list[str]:
    """The lines of ``cells`` that are the student's own, in chunks: one per cell and per top-level definition.

    Dropped: boilerplate lines, blank lines, comment-only lines, and the ``def``
    line of every function the released notebook asks for (whatever the
    student named its arguments). Fingerprints never span two chunks, so
    reordering cells or functions changes nothing.
    """
    chunks: list[str] = []
    for source in cells:
        current: list[str] = []
        for line in source.splitlines():
            norm = _norm(line)
            top = _TOP.match(line)
            if top and current:
                chunks.append("\n".join(current) + "\n")
                current = []
            if not norm or norm.startswith("#") or norm in boilerplate:
                continue
            if top and top.group(1) in stub_functions:
                continue
            current.append(line.rstrip())
        if current:
            chunks.append("\n".join(current) + "\n")
    return chunks


def student_code(text: str, boilerplate: frozenset[str], stub_functions: frozenset[str] = frozenset()) -> str:
    """``text``'s own lines (see :func:`student_chunks`) as one text."""
    return "".join(student_chunks([text], boilerplate, stub_functions))


def file_cells(data: bytes, filename: str) -> list[str]:
    """A part file's code cells (none when the file cannot be read as code)."""
    try:
        return [c.source for c in read_cells(data, filename)]
    except SubmissionError:
        return []


def extract_chunks(path: Path, course: Course, part: str, max_bytes: int | None = None) -> list[str]:
    """The student-written code of ``path`` (a part's ``.ipynb`` or ``.py``) in chunks; [] when unreadable."""
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1 if max_bytes else -1)
    except OSError:
        return []
    if max_bytes and len(data) > max_bytes:
        return []
    bp, functions = boilerplate_lines(course, part), stub_functions(course, part)
    return student_chunks(file_cells(data, Path(path).name), bp, functions)


def extract(path: Path, course: Course, part: str, max_bytes: int | None = None) -> str:
    """The student-written code of ``path`` as one text ("" when unreadable)."""
    return "".join(extract_chunks(path, course, part, max_bytes))


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
