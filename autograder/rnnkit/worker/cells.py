"""A student's file as code cells, and running those cells one after another.

* ``<part>.ipynb``: the notebook's code cells, in order (read as plain JSON:
  a corrupt notebook is reported, never trusted).
* ``<part>.py``: one cell, or one per ``# %%`` marker (jupytext percent format),
  so a syntax error in one cell costs only that cell.

IPython-only syntax (``%magic``, ``!shell``, ``%%cell magic``) is translated by
IPython's own input transformer into calls of ``get_ipython()``, and that
``get_ipython()`` is an inert stand-in: nothing a cell asks of it changes how
later cells run.

Every cell runs even when an earlier one raised; its error is recorded with
the student's own traceback lines.
"""
from __future__ import annotations

import json
import linecache
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

_CELL_MARKER = re.compile(r"^# %%(?!%)", re.MULTILINE)


class SubmissionError(ValueError):
    """A file that cannot be read as code at all (its message is shown to the student)."""


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based, as a student counts cells
    label: str  # the file name tracebacks show
    source: str


@dataclass
class CellError:
    cell: int
    summary: str  # "ZeroDivisionError: division by zero"
    traceback: str  # the student's own frames only


@dataclass
class Loaded:
    namespace: dict
    errors: list[CellError] = field(default_factory=list)


def read_cells(data: bytes, filename: str) -> list[Cell]:
    """Split a submission file into code cells; raise :class:`SubmissionError` when unreadable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubmissionError(
            f"{filename} is not UTF-8 text (an unexpected byte at position {exc.start}). "
            "Save it again as UTF-8 from Jupyter or your editor."
        ) from None
    if filename.endswith(".ipynb"):
        return _notebook_cells(text, filename)
    return _module_cells(text, filename)


def _notebook_cells(text: str, filename: str) -> list[Cell]:
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            f"{filename} is not a valid notebook: its JSON breaks at line {exc.lineno}, column {exc.colno} ({exc.msg}). "
            "The file may be damaged; open it in Jupyter and save it again, or hand in a fresh copy."
        ) from None
    except RecursionError:
        raise SubmissionError(f"{filename} is not a valid notebook: its JSON is nested far too deeply.") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise SubmissionError(f"{filename} is JSON but not a notebook (it has no list of cells). Hand in the .ipynb file Jupyter saves.")
    code = []
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            continue
        code.append(Cell(index, f"{Path(filename).stem} cell {index}", source))
    return code


def _module_cells(text: str, filename: str) -> list[Cell]:
    starts = [m.start() for m in _CELL_MARKER.finditer(text)]
    if not starts:
        return [Cell(1, filename, text)]
    bounds = ([0] if starts[0] > 0 else []) + starts + [len(text)]
    cells = []
    for number, (a, b) in enumerate(zip(bounds, bounds[1:]), start=1):
        # Keep line numbers true to the file: pad with the lines before the cell.
        cells.append(Cell(number, filename, "\n" * text.count("\n", 0, a) + text[a:b]))
    return cells


# --------------------------------------------------------------------------- IPython syntax


class _Inert:
    """Stands in for ``get_ipython()`` and anything reached through it: every use is a no-op."""

    def __getattr__(self, name):
        return _Inert()

    def __call__(self, *args, **kwargs):
        return _Inert()

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False

    def __repr__(self):
        return "<not available while grading>"


def _transformer():
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # IPython missing: magics then fail as syntax errors, cell by cell
        return None
    return TransformerManager()


_TRANSFORMER = _transformer()


def to_python(source: str) -> str:
    """Plain Python for a cell that may use IPython syntax (asked only of cells that are not Python already:
    tokenising every cell took most of the time a notebook takes to load)."""
    if _TRANSFORMER is None or not any(ch in source for ch in "%!?"):
        return source
    try:
        return _TRANSFORMER.transform_cell(source)
    except Exception:
        return source


# --------------------------------------------------------------------------- running cells


def student_traceback(exc: BaseException, labels: set[str], limit: int = 6) -> str:
    """The traceback of ``exc`` restricted to the student's own cells."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in labels]
    lines = traceback.format_list(frames[-limit:]) + traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()[:4000]


def summary(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    return (text[-1] if text else type(exc).__name__)[:500]


def _remember(shown: dict[str, list[str]], label: str, source: str) -> None:
    """Give tracebacks the cell's lines; cells of one module share its file name and line numbers."""
    lines = shown.setdefault(label, [])
    for i, line in enumerate(source.splitlines(keepends=True)):
        if i >= len(lines):
            lines.append(line)
        elif line.strip():
            lines[i] = line
    linecache.cache[label] = (sum(map(len, lines)), None, lines, label)


def run_cells(cells: list[Cell], module_name: str, namespace: dict | None = None, on_cell=None) -> Loaded:
    """Execute ``cells`` in order in one namespace; an error stops only its own cell."""
    namespace = namespace if namespace is not None else {}
    namespace.setdefault("__name__", module_name)
    namespace.setdefault("__builtins__", __builtins__)
    namespace.setdefault("get_ipython", _Inert())
    namespace.setdefault("display", lambda *a, **k: None)
    loaded = Loaded(namespace)
    labels = {c.label for c in cells}
    shown: dict[str, list[str]] = {}
    for cell in cells:
        if on_cell is not None:
            on_cell(cell)
        source = cell.source
        try:
            try:
                code = compile(source, cell.label, "exec")
            except SyntaxError:
                source = to_python(source)
                code = compile(source, cell.label, "exec")
            finally:
                _remember(shown, cell.label, source)
            exec(code, namespace)  # noqa: S102 - this is the point; callers sandbox it
        except BaseException as exc:  # SystemExit and KeyboardInterrupt too: a cell cannot stop the run
            loaded.errors.append(CellError(cell.number, summary(exc), student_traceback(exc, labels)))
    return loaded


def load_file(path: Path, namespace: dict | None = None) -> Loaded:
    """Read and run a submission file in this process (for a student's own ``rnnkit check``)."""
    path = Path(path)
    cells = read_cells(path.read_bytes(), path.name)
    return run_cells(cells, "__main__" if path.suffix == ".ipynb" else path.stem, namespace)
