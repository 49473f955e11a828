"""A student's part notebooks, run quietly for the capstone (:mod:`.demo`).

:func:`run_part_file` runs the code cells of ``<part>.ipynb`` (else
``<part>.py``) in a folder, leaving out the check cells and the plot cells
(they would print and draw, and are not needed for the functions), with
output silenced, and returns the namespace the cells defined. A cell that
raises stops only itself (:func:`.worker.cells.run_cells`).
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from . import plots
from .probes import TookTooLong, time_limit
from .worker.cells import SubmissionError, read_cells, run_cells


_TAGS = re.compile(r"^# %%.*\btags\s*=\s*\[(?P<tags>[^\]]*)\]")
_CHECK_CALL = re.compile(r"^check\(.*\)$")


def _tags_of_notebook_cells(data: bytes) -> dict[int, list[str]]:
    try:
        cells = json.loads(data.decode("utf-8-sig")).get("cells", [])
        return {n: list(c.get("metadata", {}).get("tags", [])) for n, c in enumerate(cells, start=1) if isinstance(c, dict)}
    except (ValueError, AttributeError):
        return {}


def _left_out(source: str, tags: list[str]) -> bool:
    """Check cells and plot cells are not needed for the functions (and would print or draw)."""
    if "check" in tags or "plot" in tags:
        return True
    lines = [line.strip() for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]
    first = source.lstrip("\n").split("\n", 1)[0]
    match = _TAGS.match(first)
    if match and re.search(r"[\"'](check|plot)[\"']", match.group("tags")):
        return True
    return bool(lines) and (all(_CHECK_CALL.match(line) for line in lines) or any("make_check" in line for line in lines))


SECONDS = 60  # for running one part file (its functions are only defined, not used)


@dataclass
class PartFile:
    part: str
    path: Path | None
    namespace: dict
    problem: str = ""
    cell_errors: tuple[str, ...] = ()


def run_part_file(folder: Path, part: str) -> PartFile:
    """Run the code cells of ``<part>.ipynb`` (else ``<part>.py``) in ``folder``, quietly."""
    path = next((folder / f"{part}{s}" for s in (".ipynb", ".py") if (folder / f"{part}{s}").is_file()), None)
    if path is None:
        return PartFile(part, None, {}, f"cannot be found: there is no {part}.ipynb or {part}.py in this folder")
    data = path.read_bytes()
    try:
        cells = read_cells(data, path.name)
    except SubmissionError as exc:
        return PartFile(part, path, {}, f"cannot be read: {exc}")
    tags = _tags_of_notebook_cells(data) if path.suffix == ".ipynb" else {}
    kept = [c for c in cells if not _left_out(c.source, tags.get(c.number, []))]
    sink = io.StringIO()
    with plots.quiet(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with time_limit(SECONDS):  # a cell that never ends stops there; the later cells still run
            loaded = run_cells(kept, f"rnnkit_capstone_{part}")
    _close_figures()
    errors = tuple(
        f"cell {e.cell} was stopped after {SECONDS:g} s (an endless loop?)" if TookTooLong.__name__ + ":" in e.summary
        else f"cell {e.cell} raised {e.summary}"
        for e in loaded.errors
    )
    return PartFile(part, path, loaded.namespace, "", errors)


def _close_figures() -> None:
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
