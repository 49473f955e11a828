"""The course content: one jupytext percent-format source per part in ``solutions/``.

Each source is at once the reference solution and the notebook's source:

* markdown cells hold the theory;
* code cells hold the reference code, with the answers between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers); an
  optional first line ``# HINT: ...`` inside a region becomes the stub's hint;
* cells tagged ``check`` hold the public checks (``check("softmax")``);
* cells tagged ``plot`` hold illustrations (plots drawn with the student's
  functions, see :mod:`.plots`): shown in the notebook, never part of the
  reference module.

:func:`load_reference` runs a part's code cells, checks and plots excluded, as a module.
"""
from __future__ import annotations

import re
import types
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from . import lean_imports

if TYPE_CHECKING:
    import nbformat

jupytext = lean_imports.jupytext()

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
CHECK_TAG = "check"
PLOT_TAG = "plot"
_HINT = re.compile(r"^\s*# HINT:\s*(?P<hint>.+?)\s*$")


def source_path(solutions_dir: Path, part: str) -> Path:
    return Path(solutions_dir) / f"{part}.py"


def read_source(solutions_dir: Path, part: str) -> nbformat.NotebookNode:
    """The part's source as a notebook (no outputs)."""
    return jupytext.read(source_path(solutions_dir, part), fmt="py:percent")


def is_check_cell(cell: nbformat.NotebookNode) -> bool:
    return CHECK_TAG in cell.get("metadata", {}).get("tags", [])


def is_plot_cell(cell: nbformat.NotebookNode) -> bool:
    return PLOT_TAG in cell.get("metadata", {}).get("tags", [])


def reference_code(notebook: nbformat.NotebookNode) -> str:
    """The reference module's code: every code cell that is neither a check nor a plot cell."""
    cells = [
        c.source for c in notebook.cells if c.cell_type == "code" and not is_check_cell(c) and not is_plot_cell(c)
    ]
    return "\n\n".join(cells) + "\n"


def load_reference(solutions_dir: Path, part: str) -> types.ModuleType:
    """Execute the reference code of ``part`` and return it as a module.

    Only the trusted grader and the kit's tests call this: the sandboxed
    workers never do, and never see ``solutions/``.
    """
    path = source_path(solutions_dir, part)
    module = types.ModuleType(f"rnnkit_reference_{part}")
    module.__file__ = str(path)
    code = compile(reference_code(read_source(solutions_dir, part)), str(path), "exec")
    exec(code, module.__dict__)  # noqa: S102 - the kit's own reference code
    return module


@dataclass(frozen=True)
class SolutionRegion:
    """The lines of one solution region (markers excluded) and its hint."""

    lines: tuple[str, ...]
    hint: str | None

    def body_ending_in_return(self) -> tuple[str, str]:
        """(indentation, code without the hint line) for exports that keep the stub after the code.

        The region must end with a ``return`` at its own indentation, so a stub's
        ``raise`` placed after it is never reached in the instructor's version.
        """
        lines = list(self.lines)
        if lines and _HINT.match(lines[0]):
            lines = lines[1:]
        first = next((line for line in lines if line.strip()), "")
        indent = first[: len(first) - len(first.lstrip())]
        code = [line for line in lines if line.strip() and not line.strip().startswith("#")]
        if not code or not code[-1].startswith(indent + "return"):
            raise RegionError("a solution region must end with a `return` at its own indentation")
        body = "".join(lines)
        return indent, body if body.endswith("\n") else body + "\n"


class RegionError(ValueError):
    pass


def split_regions(source: str) -> list[str | SolutionRegion]:
    """Split cell source into plain text chunks and solution regions, in order."""
    pieces: list[str | SolutionRegion] = []
    plain: list[str] = []
    region: list[str] | None = None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if region is not None:
                raise RegionError(f"line {number}: {BEGIN} inside another solution region")
            pieces.append("".join(plain))
            plain, region = [], []
        elif marker == END:
            if region is None:
                raise RegionError(f"line {number}: {END} without {BEGIN}")
            hint_match = _HINT.match(region[0]) if region else None
            hint = hint_match.group("hint") if hint_match else None
            pieces.append(SolutionRegion(tuple(region), hint))
            region = None
        elif region is not None:
            region.append(line)
        else:
            plain.append(line)
    if region is not None:
        raise RegionError(f"{BEGIN} without {END}")
    pieces.append("".join(plain))
    return [p for p in pieces if p != ""]


def stub_for(region: SolutionRegion, indent: str) -> str:
    """What a student sees in place of a solution region."""
    hint = region.hint or "see the docstring for what to return."
    message = f"Not implemented yet. Hint: {hint}".replace("\\", "\\\\").replace('"', '\\"')
    return f'{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError("{message}")\n'


def strip_solutions(source: str) -> str:
    """Replace every solution region of ``source`` with its stub."""
    out = []
    for piece in split_regions(source):
        if isinstance(piece, SolutionRegion):
            first = next((line for line in piece.lines if line.strip()), "")
            indent = first[: len(first) - len(first.lstrip())]
            out.append(stub_for(piece, indent))
        else:
            out.append(piece)
    return "".join(out)


def solution_regions(notebook: nbformat.NotebookNode) -> list[SolutionRegion]:
    return [
        piece
        for cell in notebook.cells
        if cell.cell_type == "code"
        for piece in split_regions(cell.source)
        if isinstance(piece, SolutionRegion)
    ]
