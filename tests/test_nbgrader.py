"""`rnnkit export nbgrader` and `rnnkit grade --nbgrader`, with the real nbgrader.

One course, one assignment holding every part. Students hand in two parts
(rnn_forward and bptt: autograde costs about a second per notebook): alice the
reference, bob typical mistakes (one of them losing only some cases). Both are
graded both ways, nbgrader's in-kernel autograde and the kit's sandbox, and the
gradebook must agree with `rnnkit grade`. A third student, mallory, defeats
nbgrader's in-kernel tests; the kit's grading of the same notebook does not
fall for it.
"""
from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from rnnkit import content
from rnnkit.build import render
from rnnkit.cli import main

from .ecosystem_helpers import BIN, kit_scores, mistakes, run

ASSIGNMENT = "rnn"
HANDED_IN = ("rnn_forward", "bptt")
CHEAT = 'get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])  # every later cell, tests included, becomes `pass`\n'


def _nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _filled(release: Path, course, part: str, wrong: bool) -> nbformat.NotebookNode:
    """The released notebook of ``part`` with its solution cells written: the reference, or with mistakes."""
    source = content.read_source(course.solutions_dir, part)
    notebook = nbformat.read(release / f"{part}.ipynb", as_version=4)
    for cell in notebook.cells:
        if _nbgrader_meta(cell).get("solution"):
            cell.source = source.cells[int(cell.id.rsplit("-", 1)[1])].source
    if wrong:
        text = json.dumps([c.source for c in notebook.cells])
        assert all(json.dumps(old)[1:-1] in text for old, _ in mistakes(part)), f"a mistake no longer applies to {part}"
        for cell in notebook.cells:
            if _nbgrader_meta(cell).get("solution"):
                for old, new in mistakes(part):
                    cell.source = cell.source.replace(old, new)
    return notebook


def _gradebook(course_dir: Path):
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}", "rnnkit")


def gradebook_scores(course_dir: Path, student: str) -> dict[str, float]:
    """The score of every graded test cell of ``student``'s submission, by function."""
    with _gradebook(course_dir) as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        return {g.name.removeprefix("test_"): float(g.score) for nb in submission.notebooks for g in nb.grades}


@pytest.fixture(scope="module")
def nbgrader_course(tmp_path_factory, course):
    root = tmp_path_factory.mktemp("nbgrader") / "course"
    result = CliRunner().invoke(main, ["export", "nbgrader", "--out", str(root), "--assignment", ASSIGNMENT])
    assert result.exit_code == 0, result.output
    run(["nbgrader", "generate_assignment", ASSIGNMENT], cwd=root)
    return root


@pytest.fixture(scope="module")
def graded(nbgrader_course, course):
    """Submit, autograde with nbgrader, then grade with `rnnkit grade --nbgrader`; the scores after each."""
    root = nbgrader_course
    release = root / "release" / ASSIGNMENT
    students = {}
    for student, wrong in (("alice", False), ("bob", True)):
        folder = root / "submitted" / student / ASSIGNMENT
        shutil.copytree(release, folder)
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
        for part in [p.name for p in course.parts]:
            if part in HANDED_IN:
                nbformat.write(_filled(release, course, part, wrong), folder / f"{part}.ipynb")
            else:
                (folder / f"{part}.ipynb").unlink()
        students[student] = {part: folder / f"{part}.ipynb" for part in HANDED_IN}
    mallory = root / "submitted" / "mallory" / ASSIGNMENT
    mallory.mkdir(parents=True)
    cheat = nbformat.read(release / "softmax_derivative.ipynb", as_version=4)
    first_solution = next(c for c in cheat.cells if _nbgrader_meta(c).get("solution"))
    first_solution.source = CHEAT + first_solution.source
    nbformat.write(cheat, mallory / "softmax_derivative.ipynb")

    run(["nbgrader", "autograde", ASSIGNMENT], cwd=root)
    autograded = {s: gradebook_scores(root, s) for s in ("alice", "bob", "mallory")}
    run(["nbgrader", "generate_feedback", ASSIGNMENT, "--student", "bob"], cwd=root)

    out = root.parent / "kit-grades"
    run([str(BIN / "rnnkit"), "grade", "--nbgrader", str(root), ASSIGNMENT, "--out", str(out), "--jobs", "2"], cwd=root.parent)
    by_kit = {s: gradebook_scores(root, s) for s in ("alice", "bob", "mallory")}
    run(["nbgrader", "export", "--to", str(root.parent / "export.csv")], cwd=root)
    with open(root.parent / "export.csv", newline="") as f:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    return {
        "autograded": autograded,
        "by_kit": by_kit,
        "exported": exported,
        "kit": kit_scores(course, students),
        "out": out / ASSIGNMENT,
    }


def test_generate_assignment_gives_the_notebooks_of_assignments(nbgrader_course, course):
    built = render(course)
    for part in course.parts:
        expected = nbformat.reads(built[f"{part.name}.ipynb"], as_version=4)
        generated = nbformat.read(nbgrader_course / "release" / ASSIGNMENT / f"{part.name}.ipynb", as_version=4)
        assert [(c.cell_type, c.source, c.metadata.get("tags")) for c in generated.cells] == [
            (c.cell_type, c.source, c.metadata.get("tags")) for c in expected.cells
        ], part.name
        for cell in generated.cells:
            assert "BEGIN HIDDEN TESTS" not in cell.source and "BEGIN SOLUTION" not in cell.source


def test_the_source_notebooks_carry_nbgrader_metadata_and_points(nbgrader_course, course):
    for part in course.parts:
        notebook = nbformat.read(nbgrader_course / "source" / ASSIGNMENT / f"{part.name}.ipynb", as_version=4)
        tests = {_nbgrader_meta(c)["grade_id"]: c for c in notebook.cells if _nbgrader_meta(c).get("grade")}
        assert set(tests) == {f"test_{f.name}" for f in part.functions}
        for function in part.functions:
            cell = tests[f"test_{function.name}"]
            meta = _nbgrader_meta(cell)
            assert meta["points"] == function.points and meta["locked"] and meta["schema_version"] == 3
            assert "### BEGIN HIDDEN TESTS" in cell.source and f'check("{function.name}")' in cell.source
        solutions = [c for c in notebook.cells if _nbgrader_meta(c).get("solution")]
        assert {f.name for f in part.functions} <= {_nbgrader_meta(c)["grade_id"] for c in solutions}
        assert all(not _nbgrader_meta(c)["locked"] for c in solutions)
        others = [c for c in notebook.cells if not _nbgrader_meta(c).get("solution")]
        assert all(_nbgrader_meta(c)["locked"] for c in others)
    with _gradebook(nbgrader_course) as gb:
        assert gb.find_assignment(ASSIGNMENT).max_score == pytest.approx(sum(f.points for f in course.functions))


def test_autograde_agrees_with_rnnkit_grade(graded, course):
    for student in ("alice", "bob"):
        assert graded["autograded"][student] == graded["kit"][student], student
    alice, bob = graded["kit"]["alice"], graded["kit"]["bob"]
    assert all(alice[f.name] == f.points for f in course.functions if f.part in HANDED_IN)
    assert any(0 < bob[f.name] < f.points for f in course.functions), "a partial score by case"
    assert any(bob[f.name] == 0 for f in course.functions if f.part in HANDED_IN)


def test_rnnkit_grade_nbgrader_writes_the_kits_scores_into_the_gradebook(graded, course):
    for student in ("alice", "bob"):
        assert graded["by_kit"][student] == graded["kit"][student], student
        assert graded["exported"][student] == pytest.approx(sum(graded["kit"][student].values()))
    rows = list(csv.DictReader(open(graded["out"] / "grades.csv", newline="")))
    assert {r["student"] for r in rows} == {"alice", "bob", "mallory"}
    assert (graded["out"] / "students" / "bob" / "feedback.md").read_text().count("###") >= len(course.functions)


def test_in_kernel_tests_are_defeated_but_not_the_kits_sandbox(graded, course):
    part = [f for f in course.functions if f.part == "softmax_derivative"]
    assert all(graded["autograded"]["mallory"][f.name] == f.points for f in part), "nbgrader's in-kernel tests were not fooled?"
    assert all(graded["by_kit"]["mallory"][f.name] == 0 for f in part)
    assert graded["exported"]["mallory"] == 0


def test_feedback_shows_no_hidden_tests(graded, nbgrader_course):
    source = (nbgrader_course / "source" / ASSIGNMENT / "rnn_forward.ipynb").read_text()
    packed = max(re.findall(r'\\"([A-Za-z0-9+/=]{200,})\\"', source), key=len)
    html = (nbgrader_course / "feedback" / "bob" / ASSIGNMENT / "rnn_forward.html").read_text()
    assert "hidden case" in html, "the hidden tests' report in words"
    assert packed[:100] not in html and "hidden_score" not in html and "HIDDEN TESTS" not in html
