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

The starter code is also removed by what it says rather than how it is laid
out: every statement of a student's cell equal, as a syntax tree, to a
statement of the starter code (a docstring re-quoted, a stub or a plot cell
reformatted) is dropped too. And :func:`template_cells` is the starter code as
whole texts, for :mod:`.fingerprints`: the released notebook's code cells and
the reference's with its solutions stubbed out, whose token k-grams never
count as evidence, however a student renames or re-wraps what they were given.
"""
from __future__ import annotations

import ast
import json
import re
from functools import lru_cache
from pathlib import Path

from .. import content
from ..course import Course
from ..worker.cells import SubmissionError, read_cells, to_python


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


@lru_cache(maxsize=64)
def _template_cells(root: str, part: str, stamp: tuple) -> tuple[str, ...]:
    cells: list[str] = []
    stub = Path(root) / "assignments" / f"{part}.ipynb"
    try:
        cells += [c.source for c in read_cells(stub.read_bytes(), stub.name)]
    except (OSError, SubmissionError):
        pass
    try:
        notebook = content.read_source(Path(root) / "solutions", part)
    except Exception:  # noqa: BLE001 - a missing or broken source only means less to exclude
        notebook = None
    for cell in getattr(notebook, "cells", []):
        if cell.cell_type == "code":
            try:
                cells.append(content.strip_solutions(cell.source))
            except content.RegionError:
                continue
    return tuple(cells)


def template_cells(course: Course, part: str) -> tuple[str, ...]:
    """The starter code of ``part`` as code texts: the released notebook's code cells and the
    reference source's code cells with every solution replaced by its stub (what the kit builds
    the notebook from). Never the solutions themselves. Cached per file version."""
    return _template_cells(*_versions(course, part))


@lru_cache(maxsize=8192)
def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def parse_cell(source: str, translate: bool = False) -> ast.Module | None:
    """A cell's syntax tree, None when it does not parse; ``translate``: else try it with its magics
    translated as the grader translates them. Cached (the starter code's cells recur in every file): only read the trees."""
    tree = _parse(source)
    if tree is None and translate:
        translated = to_python(source)
        tree = _parse(translated) if translated != source else None
    return tree


def _children(stmt: ast.stmt) -> list[ast.stmt]:
    """The statements directly inside ``stmt`` (bodies, ``else``/``finally`` blocks, ``except`` handlers)."""
    out = [s for attr in ("body", "orelse", "finalbody") for s in getattr(stmt, attr, None) or [] if isinstance(s, ast.stmt)]
    return out + [s for h in getattr(stmt, "handlers", None) or [] for s in h.body]


@lru_cache(maxsize=64)
def _template_statements(root: str, part: str, stamp: tuple) -> frozenset[str]:
    dumps: set[str] = set()
    for cell in _template_cells(root, part, stamp):
        tree = parse_cell(cell, translate=True)
        stack = list(tree.body) if tree is not None else []
        while stack:
            stmt = stack.pop()
            dumps.add(_key(stmt))
            dumps.add(ast.dump(stmt))
            stack.extend(_children(stmt))
    return frozenset(dumps)


def _key(stmt: ast.stmt) -> tuple:
    """A cheap summary of a statement (its kind, names, first value, number of children): ``ast.dump``,
    which is slow, is only asked of statements whose summary is the starter code's."""
    value = getattr(stmt, "value", None)
    head = value.value if isinstance(value, ast.Constant) else type(value).__name__
    names = getattr(stmt, "name", None) or tuple(t.id for t in getattr(stmt, "targets", ()) if isinstance(t, ast.Name))
    return type(stmt).__name__, names, head, len(_children(stmt))


def template_statements(course: Course, part: str) -> frozenset:
    """Every statement of the starter code (:func:`template_cells`), at any depth, as ``ast.dump`` text (and its :func:`_key`)."""
    return _template_statements(*_versions(course, part))


@lru_cache(maxsize=4096)
def template_lines(source: str, statements: frozenset) -> frozenset[int]:
    """The lines (1-based) of ``source`` taken by statements equal to a statement of the starter code."""
    tree = parse_cell(source) if statements else None
    if tree is None:
        return frozenset()
    lines: set[int] = set()
    stack = list(tree.body)
    while stack:
        stmt = stack.pop()
        if _key(stmt) in statements and ast.dump(stmt) in statements:
            lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
            continue
        stack.extend(_children(stmt))
    return frozenset(lines)


def stub_functions(course: Course, part: str) -> frozenset[str]:
    """The functions the released notebook defines (graded, pasted from an earlier part, or given)."""
    root = Path(course.root)
    return _stub_functions(str(root), part, (_mtime(root / "assignments" / f"{part}.ipynb"),))


def boilerplate_lines(course: Course, part: str) -> frozenset[str]:
    """The part's boilerplate lines (normalised), cached per file version."""
    return _boilerplate(*_versions(course, part))


def _versions(course: Course, part: str) -> tuple[str, str, tuple]:
    """The cached readers' key for ``part``: the course root, the part, and the version (mtime) of its released
    notebook and of its reference source, so that an edit of either is read again."""
    root = Path(course.root)
    stamp = tuple(_mtime(p) for p in (root / "assignments" / f"{part}.ipynb", content.source_path(root / "solutions", part)))
    return str(root), part, stamp


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


_TOP = re.compile(r"^(?:def|class|async\s+def)\s+(\w+)|^@")


def student_chunks(
    cells: list[str], boilerplate: frozenset[str], stub_functions: frozenset[str] = frozenset(), statements: frozenset[str] = frozenset()
) -> list[str]:
    """The lines of ``cells`` that are the student's own, in chunks: one per cell and per top-level definition.

    Dropped: boilerplate lines, the lines of statements equal to one of the
    starter code's ``statements`` (:func:`template_statements`), blank lines,
    comment-only lines, and the ``def`` line of every function the released
    notebook asks for (whatever the student named its arguments). Fingerprints
    never span two chunks, so reordering cells or functions changes nothing.
    """
    chunks: list[str] = []
    for source in cells:
        current: list[str] = []
        given = template_lines(source, statements)
        for number, line in enumerate(source.splitlines(), start=1):
            norm = _norm(line)
            top = _TOP.match(line)
            if top and current:
                chunks.append("\n".join(current) + "\n")
                current = []
            if not norm or norm.startswith("#") or norm in boilerplate or number in given:
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


def part_cells(path: Path, max_bytes: int | None = None) -> list[str]:
    """The code cells of ``path`` (a part's ``.ipynb`` or ``.py``); [] when unreadable or over ``max_bytes``."""
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1 if max_bytes else -1)
    except OSError:
        return []
    if max_bytes and len(data) > max_bytes:
        return []
    return file_cells(data, Path(path).name)


def own_chunks(cells: list[str], course: Course, part: str) -> list[str]:
    """The student-written code of a part file's ``cells`` in chunks (see :func:`student_chunks`)."""
    return student_chunks(cells, boilerplate_lines(course, part), stub_functions(course, part), template_statements(course, part))


def extract_chunks(path: Path, course: Course, part: str, max_bytes: int | None = None) -> list[str]:
    """The student-written code of ``path`` (a part's ``.ipynb`` or ``.py``) in chunks; [] when unreadable."""
    return own_chunks(part_cells(path, max_bytes), course, part)


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
