"""`rnnkit export otter` with the real otter-grader: `otter assign`, then `otter run` (no Docker).

Every part's master notebook is checked; one part (rnn_forward: `otter assign`
and `otter run` take several seconds each) goes through otter for real, and a
correct and a wrong submission of it are graded by `otter run` (both at once)
and by the kit: the scores must agree.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml
from click.testing import CliRunner

from rnnkit.build import render
from rnnkit.cases import DEFAULT_SEED
from rnnkit.cli import main
from rnnkit.grading import HiddenTests

from .ecosystem_helpers import BIN, kit_scores, mistakes, run, tool_env

PART = "rnn_forward"
RAISES = '\n\ndef cross_entropy_loss(o, y):\n    raise ValueError("my loss is broken: " + repr(o.shape))\n'


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("otter") / "masters"
    result = CliRunner().invoke(main, ["export", "otter", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def assigned(exported):
    dist = exported.parent / "dist" / PART
    run(["otter", "assign", f"{PART}.ipynb", str(dist)], cwd=exported / PART)
    return dist


def _config(cell) -> dict:
    return yaml.safe_load(cell.source.split("\n", 1)[1]) if "\n" in cell.source else {}


def test_every_part_is_a_master_notebook_with_a_question_per_function(exported, course):
    hidden = HiddenTests.draw(course, DEFAULT_SEED)
    for part in course.parts:
        notebook = nbformat.read(exported / part.name / f"{part.name}.ipynb", as_version=4)
        raw = [c for c in notebook.cells if c.cell_type == "raw"]
        assert raw[0].source.startswith("# ASSIGNMENT CONFIG") and _config(raw[0])["name"] == part.name
        questions = {_config(c)["name"]: _config(c)["points"] for c in raw if c.source.startswith("# BEGIN QUESTION")}
        assert questions == {f.name: f.points for f in part.functions}
        tests = [c.source for c in notebook.cells if c.cell_type == "code" and "BEGIN TEST CONFIG" in c.source]
        for function in part.functions:
            public = [t for t in tests if f"def test_{function.name}_public(" in t]
            secret = [t for t in tests if f"def test_{function.name}_hidden_" in t]
            assert len(public) == 1 and "points: 0" in public[0]
            assert len(secret) == len(hidden.cases[function.name]) and all("hidden: true" in t for t in secret)
        assert (exported / part.name / "public_checks.json").is_file() and (exported / part.name / "rnnkit" / "checks.py").is_file()


def test_otter_assign_gives_students_the_kits_notebook_with_grader_check(assigned, course):
    student = nbformat.read(assigned / "student" / f"{PART}.ipynb", as_version=4)
    kit = nbformat.reads(render(course)[f"{PART}.ipynb"], as_version=4)
    kit_code = [c.source for c in kit.cells if c.cell_type == "code" and "check" not in c.metadata.get("tags", [])]
    student_code = [c.source.strip() for c in student.cells if c.cell_type == "code"]
    for source in kit_code:
        assert source.strip() in student_code, f"the student notebook lacks:\n{source[:300]}"
    for function in course.part(PART).functions:
        assert f'grader.check("{function.name}")' in student_code
    assert "otter.Notebook" in student_code[0]
    notebook = (assigned / "student" / f"{PART}.ipynb").read_text()
    assert "otter_hidden_test" not in notebook and "BEGIN SOLUTION" not in notebook
    for path in (assigned / "student").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not re.search(r"[A-Za-z0-9+/=]{200,}", text), f"a packed hidden case in {path}"


def test_the_student_folder_says_otter_is_needed_and_lists_the_requirements(assigned, exported, course):
    from importlib.metadata import version

    for part in course.parts:
        requirements = (exported / part.name / "requirements.txt").read_text().splitlines()
        assert f"otter-grader=={version('otter-grader')}" in requirements and any(r.startswith("numpy") for r in requirements)
    student = assigned / "student"
    requirements = (student / "requirements.txt").read_text()
    assert f"otter-grader=={version('otter-grader')}" in requirements
    note = (student / "README.md").read_text()
    assert "otter-grader" in note and "pip install -r requirements.txt" in note and f"{PART}.ipynb" in note


def _otter_run(zip_path: Path, folders: list[Path]) -> list[dict]:
    """`otter run` on each folder's notebook, all at once (each takes several seconds, mostly imports)."""
    processes = [
        subprocess.Popen(
            [str(BIN / "otter"), "run", "-a", str(zip_path), f"{PART}.ipynb", "-o", str(folder), "--no-logo"],
            cwd=folder, env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for folder in folders
    ]
    for process in processes:
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output[-3000:]
    return [json.loads((folder / "results.json").read_text()) for folder in folders]


@pytest.fixture(scope="module")
def graded(assigned, course, tmp_path_factory):
    """A correct and a wrong submission, graded by `otter run` and by the kit."""
    work = tmp_path_factory.mktemp("otter-submissions")
    solution = nbformat.read(assigned / "autograder" / f"{PART}.ipynb", as_version=4)
    wrong = nbformat.read(assigned / "autograder" / f"{PART}.ipynb", as_version=4)
    answers = [c for c in wrong.cells if "otter_assign_solution_cell" in c.metadata.get("tags", [])]
    for old, new in mistakes(PART):
        cells = [c for c in answers if old in c.source]
        assert cells, f"{old!r} is in no solution cell of the otter notebook"
        for cell in cells:
            cell.source = cell.source.replace(old, new)
    answers[-1].source += RAISES
    folders = {}
    for name, notebook in (("alice", solution), ("bob", wrong)):
        folders[name] = work / name
        folders[name].mkdir()
        nbformat.write(notebook, folders[name] / f"{PART}.ipynb")
    (zip_path,) = (assigned / "autograder").glob("*.zip")
    results = dict(zip(folders, _otter_run(zip_path, list(folders.values()))))
    kit = kit_scores(course, {name: {PART: folder / f"{PART}.ipynb"} for name, folder in folders.items()})
    return {"otter": results, "kit": kit, "folders": folders}


def test_otter_run_scores_agree_with_rnnkit_grade(graded, course):
    functions = course.part(PART).functions
    for name, result in graded["otter"].items():
        otter = {t["name"]: t["score"] for t in result["tests"] if t["name"] != "Public Tests"}
        expected = {f.name: graded["kit"][name][f.name] for f in functions}
        assert otter.keys() == expected.keys()
        for function, score in expected.items():
            assert otter[function] == pytest.approx(score, abs=0.01), (name, function)
    assert all(graded["kit"]["alice"][f.name] == f.points for f in functions)
    assert any(0 < graded["kit"]["bob"][f.name] < f.points for f in functions), "a partial score by case"
    assert graded["kit"]["bob"]["cross_entropy_loss"] == 0


def test_no_hidden_test_detail_reaches_otters_output(graded):
    """Whatever fails (here, a function that raises), otter's results hold messages in words, never a packed case."""
    text = (graded["folders"]["bob"] / "results.json").read_text()
    assert "my loss is broken" in text
    assert "otter_hidden_test(env, 'cross_entropy_loss', case)" in text
    assert not re.search(r"[A-Za-z0-9+/=]{80,}", text), "a packed case reached the output"
