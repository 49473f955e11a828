"""`rnnkit export lms`: grades.csv and a roster become a Canvas or Moodle gradebook import file."""
from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from rnnkit.cli import main
from rnnkit.export import ExportError
from rnnkit.export.lms import neutralise, read_roster

GRADES = """student,softmax,rnn_forward,total,possible
alice,2,4,65,55
bob,0,1.5,12.5,55
eve,1,0,3,55
"""

CANVAS_ROSTER = """student,Name,ID,SIS User ID,SIS Login ID,Section
alice,"Liddell, Alice",101,S-1,alice@uni.example,Lab A
bob,=HYPERLINK("http://evil"),102,+33,@bob,Lab B
carol,Carol,103,,,Lab A
"""

MOODLE_ROSTER = """student,first_name,last_name,id_number,email
alice,Alice,Liddell,1001,alice@uni.example
bob,-Bob,@Tables,1002,bob@uni.example
"""


def _export(tmp_path, roster: str, fmt: str, *extra: str):
    (tmp_path / "grades.csv").write_text(GRADES)
    (tmp_path / "roster.csv").write_text(roster)
    out = tmp_path / f"{fmt}.csv"
    result = CliRunner().invoke(
        main,
        ["export", "lms", "--grades", str(tmp_path / "grades.csv"), "--roster", str(tmp_path / "roster.csv"),
         "--format", fmt, "--out", str(out), *extra],
    )
    return result, out


def test_canvas_import_file_has_canvas_identity_columns_and_the_total(tmp_path):
    result, out = _export(tmp_path, CANVAS_ROSTER, "canvas", "--assignment", "RNN kit (4711)")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "RNN kit (4711)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "55"]
    assert rows[2] == ["Liddell, Alice", "101", "S-1", "alice@uni.example", "Lab A", "65"], "bonus points included"
    assert rows[3] == ["'=HYPERLINK(\"http://evil\")", "102", "'+33", "'@bob", "Lab B", "12.5"]
    assert rows[4] == ["Carol", "103", "", "", "Lab A", ""], "no grade: an empty cell, not 0"
    assert "eve" in result.output and "not in the roster" in result.output
    assert "no grade for carol" in result.output


def test_moodle_import_file_has_moodle_columns(tmp_path):
    result, out = _export(tmp_path, MOODLE_ROSTER, "moodle")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == ["First name", "Last name", "ID number", "Email address", "rnnkit"]
    assert rows[1] == ["Alice", "Liddell", "1001", "alice@uni.example", "65"]
    assert rows[2] == ["'-Bob", "'@Tables", "1002", "bob@uni.example", "12.5"]
    assert len(rows) == 3


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_is_neutralised(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Alice", "12.5", "a=b", ""])
def test_other_cells_are_left_alone(cell):
    assert neutralise(cell) == cell


def test_a_roster_without_the_student_column_says_what_is_expected(tmp_path):
    result, _ = _export(tmp_path, "name,id\nAlice,101\n", "canvas")
    assert result.exit_code != 0
    assert "no column 'student'" in result.output and "found name, id" in result.output and "sis_user_id" in result.output


def test_a_roster_row_without_an_identity_is_refused(tmp_path):
    (tmp_path / "r.csv").write_text("student,name,id,sis_user_id\nalice,Alice,,\n")
    with pytest.raises(ExportError, match=r"line 2 \(alice\): fill in one of id, sis_user_id, sis_login_id"):
        read_roster(tmp_path / "r.csv", "canvas")


def test_a_file_that_is_not_grades_csv_is_refused(tmp_path):
    (tmp_path / "roster.csv").write_text(CANVAS_ROSTER)
    (tmp_path / "g.csv").write_text("student,score\nalice,3\n")
    result = CliRunner().invoke(
        main, ["export", "lms", "--grades", str(tmp_path / "g.csv"), "--roster", str(tmp_path / "roster.csv"),
               "--format", "canvas", "--out", str(tmp_path / "o.csv")],
    )
    assert result.exit_code != 0 and "no column total, possible" in result.output and "rnnkit grade" in result.output


def test_each_student_gets_their_own_grade_whatever_their_id(tmp_path):
    """grades.csv as `rnnkit grade` writes it (ids a spreadsheet would run get a ', ids keep their spaces), read back
    exactly: nobody receives another student's total."""
    from rnnkit.outputs.safe import csv_cell

    ids = {"=cmd": "65", "'=cmd": "0", "-1": "7", "'-1": "1", "'x": "2", "''x": "3", "bob": "0", "bob ": "60"}
    with open(tmp_path / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "total", "possible"])
        for student, total in ids.items():
            writer.writerow([csv_cell(student), total, "55"])
    with open(tmp_path / "roster.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "id_number"])
        for number, student in enumerate(ids):
            writer.writerow([student, str(1000 + number)])
    out = tmp_path / "moodle.csv"
    result = CliRunner().invoke(main, ["export", "lms", "--grades", str(tmp_path / "grades.csv"), "--roster",
                                       str(tmp_path / "roster.csv"), "--format", "moodle", "--out", str(out)])
    assert result.exit_code == 0, result.output
    totals = {row["ID number"]: row["rnnkit"] for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))}
    assert {student: totals[str(1000 + number)] for number, student in enumerate(ids)} == ids
