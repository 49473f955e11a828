"""`rnnkit grade` end to end, as `make grade` runs it: the bundled example class."""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys

import pytest

from .conftest import ROOT

RNNKIT = [sys.executable, "-m", "rnnkit.cli"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("grades")
    run = subprocess.run([*RNNKIT, "grade", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    return run, out


def test_grading_the_example_class_succeeds_and_prints_the_summary(graded):
    run, _ = graded
    assert run.returncode == 0, run.stderr[-2000:]
    assert "4 students, mean" in run.stdout
    assert "full marks" in run.stdout and "rnn_backward" in run.stdout


def test_grades_csv_has_the_interface_columns(graded, course):
    _, out = graded
    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student", *(fn.name for fn in course.functions), "total", "possible"]
    by_student = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert set(by_student) == {"alice", "bob", "carol", "mallory"}
    bonus = sum(f.points for f in course.functions if f.bonus)
    assert float(by_student["alice"]["total"]) == course.possible + bonus
    assert float(by_student["carol"]["total"]) == 0
    assert float(by_student["alice"]["possible"]) == course.possible
    assert float(by_student["bob"]["rnn_step_forward"]) == 0 and float(by_student["bob"]["softmax"]) == 2
    assert float(by_student["mallory"]["total"]) < 5


def test_results_json_follows_gradescope_schema(graded, course):
    _, out = graded
    for student in ("alice", "bob", "carol", "mallory"):
        data = json.loads((out / "students" / student / "results.json").read_text())
        assert isinstance(data["score"], (int, float))
        assert len(data["tests"]) == len(course.functions)
        for test, fn in zip(data["tests"], course.functions):
            assert test["name"].startswith(fn.name)
            assert test["max_score"] == fn.points and 0 <= test["score"] <= fn.points
            assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))


def test_feedback_explains_without_revealing_values(graded):
    _, out = graded
    carol = (out / "students" / "carol" / "feedback.md").read_text()
    assert "Not implemented yet" in carol
    bob = (out / "students" / "bob" / "feedback.md").read_text()
    assert "entries are wrong; the largest error is" in bob
    mallory = (out / "students" / "mallory" / "feedback.md").read_text()
    for words in ("did not finish within", "is not a valid notebook", "is not UTF-8", "SyntaxError", "Files ignored"):
        assert words in mallory
    for text in (bob, mallory):
        # Only rounded error sizes are printed, never raw values of answers or inputs.
        assert not re.search(r"\d\.\d{5,}", text)


def test_a_broken_sandbox_setting_is_a_clear_non_zero_exit(tmp_path):
    env = {**os.environ, "RNNKIT_SANDBOX": "bogus"}
    run = subprocess.run([*RNNKIT, "grade", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode != 0
    assert "choose one of bwrap, uid, none" in run.stderr
    assert "Traceback" not in run.stderr


def test_grade_also_writes_the_class_report(graded):
    run, out = graded
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "report.html" in run.stdout
    for student in ("alice", "bob", "carol", "mallory"):
        assert f'href="students/{student}/feedback.md"' in page
    assert 'id="histogram"' in page and 'id="pass-rates"' in page


def test_grade_writes_mistakes_csv_and_names_bobs_mistakes(graded):
    run, out = graded
    with open(out / "mistakes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {row["mistake"] for row in rows} == {
        "step_W_transposed", "loss_mean_over_time", "jacobian_diagonal_only", "bptt_dW_uses_current_state",
        "numgrad_missing_factor_two", "lstm_concat_x_first", "gru_update_convention_swapped",
    }
    assert all(row["students"] == "1" and row["student_ids"] == "bob" for row in rows)
    assert "Most frequent mistakes" in run.stdout and "mistakes.csv" in run.stdout
    bob = (out / "students" / "bob" / "feedback.md").read_text()
    assert "**Likely mistake: W transposed.**" in bob
    for student in ("alice", "carol", "mallory"):
        assert "Likely mistake" not in (out / "students" / student / "feedback.md").read_text()
