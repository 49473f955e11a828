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
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from rnnkit import content
from rnnkit.build import render
from rnnkit.cli import main

from .ecosystem_helpers import BIN, kit_scores, mistakes, run

#: A PATH without this venv's bin/: the README's commands must work without activating the venv.
BARE_PATH = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p).resolve() != BIN.resolve()) or "/usr/bin:/bin"


def run_bare(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run one of the venv's commands by its path, with the venv's bin/ not on PATH."""
    result = subprocess.run(command, cwd=cwd, env={**os.environ, "PATH": BARE_PATH}, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{command} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result

ASSIGNMENT = "rnn"
SUBMISSION_SECRET = {"alice": "a1" * 64, "bob": "b2" * 64}
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
    run_bare([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT], cwd=root)
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
        # What `nbgrader collect` keeps beside a submission (release_feedback needs both).
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
        (folder / "submission_secret.txt").write_text(SUBMISSION_SECRET[student])
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

    # dana hands in bob's notebooks late: never autograded by nbgrader, graded by the kit only.
    shutil.copytree(root / "submitted" / "bob", root / "submitted" / "dana")
    out = root.parent / "kit-grades"
    kit_run = run_bare([str(BIN / "rnnkit"), "grade", "--nbgrader", str(root), ASSIGNMENT, "--out", str(out), "--jobs", "2"], cwd=root.parent)
    by_kit = {s: gradebook_scores(root, s) for s in ("alice", "bob", "mallory", "dana")}
    run_bare([str(BIN / "nbgrader"), "generate_feedback", ASSIGNMENT, "--student", "dana"], cwd=root)
    run(["nbgrader", "export", "--to", str(root.parent / "export.csv")], cwd=root)
    with open(root.parent / "export.csv", newline="") as f:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    return {
        "autograded": autograded,
        "by_kit": by_kit,
        "exported": exported,
        "kit": kit_scores(course, students),
        "out": out / ASSIGNMENT,
        "kit_output": kit_run.stdout + kit_run.stderr,
    }


def test_generate_assignment_gives_the_notebooks_of_assignments(nbgrader_course, course):
    built = render(course)
    for part in course.parts:
        expected = nbformat.reads(built[f"{part.name}.ipynb"], as_version=4)
        generated = nbformat.read(nbgrader_course / "release" / ASSIGNMENT / f"{part.name}.ipynb", as_version=4)
        setup = f'check = make_check("{part.name}", globals())'
        assert sum(setup in c.source for c in expected.cells) == 1, part.name
        strict = [c.source.replace(setup, setup[:-1] + ", raise_on_failure=True)") for c in expected.cells]
        assert [(c.cell_type, c.source, c.metadata.get("tags")) for c in generated.cells] == [
            (c.cell_type, source, c.metadata.get("tags")) for c, source in zip(expected.cells, strict)
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
    assert graded["by_kit"]["dana"] == graded["kit"]["bob"], "a submission nbgrader never autograded"
    rows = list(csv.DictReader(open(graded["out"] / "grades.csv", newline="")))
    assert {r["student"] for r in rows} == {"alice", "bob", "mallory", "dana"}
    assert (graded["out"] / "students" / "bob" / "feedback.md").read_text().count("###") >= len(course.functions)
    # The exported notebooks' check cells (make_check(..., raise_on_failure=True)) run quietly in the sandbox too.
    honest = (graded["out"] / "students" / "alice" / "feedback.md").read_text()
    assert " raised " not in honest, honest[:3000]


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


def test_validate_fails_on_an_untouched_notebook_and_passes_a_solved_one(graded, nbgrader_course):
    untouched = run_bare([str(BIN / "nbgrader"), "validate", str(nbgrader_course / "release" / ASSIGNMENT / "rnn_forward.ipynb")], cwd=nbgrader_course)
    assert "Success!" not in untouched.stdout and "VALIDATION FAILED" in untouched.stdout, untouched.stdout[-2000:]
    assert "does not pass its public checks yet" in untouched.stdout
    solved = nbgrader_course / "submitted" / "alice" / ASSIGNMENT / "rnn_forward.ipynb"
    passed = run_bare([str(BIN / "nbgrader"), "validate", str(solved)], cwd=nbgrader_course)
    assert "Success!" in passed.stdout, passed.stdout[-2000:]


def test_generate_feedback_after_rnnkit_grade_shows_the_kits_scores_and_words(graded, nbgrader_course, course):
    folder = nbgrader_course / "feedback" / "dana" / ASSIGNMENT
    html = (folder / "rnn_forward.html").read_text()
    scores = graded["kit"]["bob"]
    for function in course.part("rnn_forward").functions:
        assert f"rnnkit: {scores[function.name]:g} / {function.points:g} points" in html, function.name
    assert "Likely mistake" in html and "Hint" in html, "the kit's words"
    source = (nbgrader_course / "source" / ASSIGNMENT / "rnn_forward.ipynb").read_text()
    packed = max(re.findall(r'\\"([A-Za-z0-9+/=]{200,})\\"', source), key=len)
    assert packed[:100] not in html and "hidden_score" not in html and "HIDDEN TESTS" not in html
    assert not (folder / "softmax_derivative.html").exists(), "a part dana did not hand in"


def test_rnnkit_grade_nbgrader_prints_no_sqlalchemy_warnings(graded):
    assert "SAWarning" not in graded["kit_output"], graded["kit_output"][-2000:]


def test_release_feedback_after_rnnkit_grade_reaches_the_exchange(graded, nbgrader_course, tmp_path):
    from nbgrader.utils import notebook_hash

    exchange = tmp_path / "exchange"
    exchange.mkdir()
    run_bare([str(BIN / "nbgrader"), "release_feedback", ASSIGNMENT, "--student", "dana", f"--Exchange.root={exchange}"], cwd=nbgrader_course)
    released = {p.name for p in (exchange / "rnnkit" / "feedback").iterdir()}
    # dana's files are bob's: his secret names the feedback students fetch.
    assert released == {f"{notebook_hash(secret=SUBMISSION_SECRET['bob'], notebook_id=part)}.html" for part in HANDED_IN}
