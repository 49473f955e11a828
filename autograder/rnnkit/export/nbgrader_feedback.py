"""Notebooks for ``nbgrader generate_feedback`` after ``rnnkit grade --nbgrader``.

nbgrader builds its feedback (``feedback/<student>/<assignment>/<part>.html``)
from ``autograded/<student>/<assignment>/<part>.ipynb``, which only ``nbgrader
autograde`` writes. When the kit grades instead, :func:`write_autograded` writes
those notebooks itself, so that the usual ``nbgrader generate_feedback`` (and
``nbgrader release_feedback``) work and show the kit's scores and words:

* the cells are the *released* notebook's (what ``nbgrader generate_assignment``
  wrote: locked cells and test cells as the instructor made them, no hidden
  tests, no reference), with the student's code put into the solution cells
  (matched by nbgrader's ``grade_id``; a cell the student deleted keeps its stub);
* the outputs are the kit's, not the student's: under each test cell, the
  function's score and feedback in words, exactly as in ``feedback.md``.

nbgrader's ``GetGrades`` then adds the scores and comments the kit wrote into
the gradebook (:func:`..nbgrader._write_gradebook`).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

TEST_PREFIX = "test_"


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _student_solutions(path: Path) -> dict[str, str]:
    """grade_id -> source of the student's solution cells; empty when the notebook cannot be read."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception:  # a corrupt notebook: the kit's feedback already says why it scored 0
        return {}
    found = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("solution") and isinstance(meta.get("grade_id"), str):
            found.setdefault(meta["grade_id"], cell.get("source", ""))
    return found


def feedback_notebook(released: nbformat.NotebookNode, submitted: Path, student) -> nbformat.NotebookNode:
    """The released notebook with the student's solutions and the kit's verdicts as the test cells' outputs."""
    from ..feedback import function_status, function_text

    notebook = nbformat.from_dict(released)  # a copy
    solutions = _student_solutions(submitted)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        grade_id = _grade_id(cell) or ""
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and grade_id in solutions:
            cell.source = solutions[grade_id]
        if meta.get("grade") and grade_id.startswith(TEST_PREFIX):
            result = student.functions.get(grade_id[len(TEST_PREFIX):])
            if result is not None:
                text = (
                    f"rnnkit: {result.score:g} / {result.function.points:g} points ({function_status(result)})\n\n"
                    f"{function_text(result)}\n"
                )
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return notebook


#: What nbgrader's exchange puts beside a collected submission, and nbgrader autograde copies on:
#: ``nbgrader release_feedback`` needs both (the time, and the secret it names the feedback by).
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")


def write_autograded(coursedir, assignment: str, parts: list[str], students, folders: dict[str, Path]) -> list[str]:
    """Write ``autograded/<student>/<assignment>/<part>.ipynb`` for every part a student handed in.

    Returns the parts whose released notebook is missing (run ``nbgrader
    generate_assignment`` to make it): no feedback notebook can be written for them.
    """
    release = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
    released = {}
    for part in parts:
        path = release / f"{part}.ipynb"
        if path.is_file():
            released[part] = nbformat.read(path, as_version=4)
    for student in students:
        submitted = folders[student.student]
        target = Path(coursedir.format_path(coursedir.autograded_directory, student.student, assignment))
        for part, notebook in released.items():
            source = submitted / f"{part}.ipynb"
            if not source.is_file() or source.is_symlink():
                continue
            target.mkdir(parents=True, exist_ok=True)
            nbformat.write(feedback_notebook(notebook, source, student), target / f"{part}.ipynb")
        for name in EXCHANGE_FILES:
            kept = submitted / name
            if target.is_dir() and kept.is_file() and not kept.is_symlink():
                shutil.copyfile(kept, target / name)
    return [part for part in parts if part not in released]
