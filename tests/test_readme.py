"""Every command of README.md's shell blocks, run as written, or listed with the reason it is not.

Each test below runs the README's own lines (found by their key, see
tests/readme_shell.py) in a fresh copy of the kit whose ``.venv`` is this one, one
terminal per test, and checks what the README says each line does: its exit code,
the files it writes, the words it prints. What the README asks the reader to supply
(a class folder for ``CLASS_DIR``, a notebook at ``path/to/my/bptt.py``, a roster, a
submission) the test writes first. A command not run here is a row of ``NOT_RUN``,
with the reason and where it is covered instead. A README command in neither table
fails ``test_every_readme_command_is_run_here_or_listed``.
"""
from __future__ import annotations

import csv
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT, make_class, reference_source
from .ecosystem_helpers import wrong_source
from .readme_shell import Shell, copy_of_the_kit, readme_commands

CANVAS = 'rnnkit export lms --grades grades/grades.csv --roster roster.csv --format canvas --out canvas.csv --assignment "RNN kit (4711)"'
MOODLE = 'rnnkit export lms --grades grades/grades.csv --roster roster.csv --format moodle --out moodle.csv --assignment "RNN kit"'

#: README commands each test of this file runs, in order.
RUN_HERE = {
    "test_quick_start_grades_the_example_class": ["make grade"],
    "test_student_checks_from_a_terminal": [".venv/bin/rnnkit check bptt", ".venv/bin/rnnkit check bptt path/to/my/bptt.py"],
    "test_instructor_commands": [
        ".venv/bin/rnnkit validate",
        ".venv/bin/rnnkit build",
        "make build",
        ".venv/bin/rnnkit grade CLASS_DIR --out grades",
        ".venv/bin/rnnkit report grades",
        ".venv/bin/rnnkit demo",
        CANVAS,
        MOODLE,
        "rnnkit export gradescope --out autograder.zip",
    ],
    "test_nbgrader_flow": [
        ". .venv/bin/activate",
        "rnnkit export nbgrader --out nbgrader-course",
        "cd nbgrader-course",
        "nbgrader generate_assignment rnn",
        "rnnkit grade --nbgrader . rnn --out grades",
        "nbgrader generate_feedback rnn",
        "nbgrader release_feedback rnn",
        "nbgrader export",
    ],
    "test_otter_flow": [
        "rnnkit export otter --out masters",
        "otter assign masters/rnn_forward/rnn_forward.ipynb dist/rnn_forward",
        "otter run -a dist/rnn_forward/autograder/rnn_forward-autograder_*.zip submission.ipynb",
    ],
}

#: README commands not run here: (why not, where it is covered instead: a file, or file::a name in it).
NOT_RUN = {
    "make test": ("it runs the whole suite, this file included", ".ci/run::make test"),
    "make bench": ("about 20 minutes; a measurement, not a check", "Makefile::bench-quick"),
    "make bench-scale": ("grades up to 1000 students; a measurement", "Makefile::bench-quick"),
    "RNNKIT_CLEAN_ROOT=1 .venv/bin/python -m pytest -q tests/test_gradescope_clean_root.py": (
        "needs root, the Debian package registry and minutes; opt-in",
        "tests/test_gradescope_clean_root.py::test_the_export_grades_in_a_clean_debian_root",
    ),
}

#: The demo at a size that takes a second (the capstone's own tests use the same variables).
SMALL_DEMO = {"RNNKIT_DEMO_STEPS": "6", "RNNKIT_DEMO_HIDDEN": "8", "RNNKIT_DEMO_SAMPLE_LENGTH": "30"}


@pytest.fixture
def shell(request, tmp_path):
    """A terminal in a fresh copy of the kit, for the commands of this test's row of RUN_HERE."""
    terminal = Shell(copy_of_the_kit(tmp_path / "kit"), tmp_path / "shell-state", RUN_HERE[request.node.name], **SMALL_DEMO)
    yield terminal
    assert terminal.ran == RUN_HERE[request.node.name], "every command of the row, in order"


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_readme_command_is_run_here_or_listed():
    readme = set(readme_commands())
    run_here = [command for commands in RUN_HERE.values() for command in commands]
    assert len(run_here) == len(set(run_here)), "a command run by two tests"
    assert not set(run_here) & set(NOT_RUN), "a command both run and listed as not run"
    missing = readme - set(run_here) - set(NOT_RUN)
    assert not missing, f"README commands neither run by tests/test_readme.py nor listed in its NOT_RUN: {sorted(missing)}"
    stale = (set(run_here) | set(NOT_RUN)) - readme
    assert not stale, f"rows for commands the README no longer has: {sorted(stale)}"


@pytest.mark.parametrize("command", sorted(NOT_RUN))
def test_what_covers_a_command_not_run_here_exists(command):
    reason, covered_by = NOT_RUN[command]
    path, _, name = covered_by.partition("::")
    assert reason and (ROOT / path).is_file(), f"{command}: {path} does not exist"
    assert name in (ROOT / path).read_text(encoding="utf-8"), f"{command}: {path} has no {name!r}"


def test_a_new_shell_block_is_found_with_its_commands():
    text = "```console\n$ rnnkit new-thing \\\n    --flag  # a comment\noutput\n```\n\n```python\nnot_a_command()\n```\n\n```bash\n# only a comment\nmake  other\n```\n"
    assert readme_commands(text) == {"rnnkit new-thing --flag": "rnnkit new-thing --flag  # a comment", "make  other": "make  other"}


def test_quick_start_grades_the_example_class(shell, course):
    result = shell.run("make grade")
    grades = shell.home / "grades"
    rows = {row["student"]: row for row in _csv_rows(grades / "grades.csv")}
    assert set(rows) == {"alice", "bob", "carol", "mallory"}
    assert float(rows["alice"]["total"]) == sum(f.points for f in course.functions), "alice hands in the reference: every point, bonus too"
    assert (grades / "report.html").is_file() and (grades / "students" / "bob" / "feedback.md").is_file()
    assert sorted(p.name for p in (grades / "example-class").iterdir()) == ["alice", "bob", "carol", "mallory"]
    assert "example-class" in result.stderr and "open its notebooks" in result.stderr, "where the example class is kept"


def test_student_checks_from_a_terminal(shell, course):
    functions = len(course.part("bptt").functions)
    untouched = shell.run(".venv/bin/rnnkit check bptt", expect=1)
    assert f"0 of {functions} functions of bptt pass their public checks." in untouched.stdout
    assert "NOT IMPLEMENTED YET" in untouched.stdout
    mine = shell.home / "path" / "to" / "my" / "bptt.py"
    mine.parent.mkdir(parents=True)
    mine.write_text(reference_source(course, "bptt"), encoding="utf-8")
    solved = shell.run(".venv/bin/rnnkit check bptt path/to/my/bptt.py")
    assert f"{functions} of {functions} functions of bptt pass their public checks." in solved.stdout


def test_instructor_commands(shell, course):
    kit = shell.home
    assert re.search(rf"course.yml is valid: {len(course.parts)} parts", shell.run(".venv/bin/rnnkit validate").stdout)
    for command in (".venv/bin/rnnkit build", "make build"):
        (kit / "assignments" / "bptt.ipynb").unlink()
        assert "assignments/bptt.ipynb" in shell.run(command).stdout
        assert (kit / "assignments" / "bptt.ipynb").read_bytes() == (ROOT / "assignments" / "bptt.ipynb").read_bytes()

    make_class(kit / "CLASS_DIR", {
        "ann": {"rnn_forward.py": reference_source(course, "rnn_forward")},
        "ben": {"rnn_forward.py": wrong_source(course, "rnn_forward")},
    })
    shell.run(".venv/bin/rnnkit grade CLASS_DIR --out grades")
    rows = {row["student"]: row for row in _csv_rows(kit / "grades" / "grades.csv")}
    full = sum(f.points for f in course.part("rnn_forward").functions)
    assert set(rows) == {"ann", "ben"} and float(rows["ann"]["total"]) == full > float(rows["ben"]["total"])
    report = kit / "grades" / "report.html"
    assert report.is_file()
    report.unlink()
    assert "report.html" in shell.run(".venv/bin/rnnkit report grades").stdout and report.is_file()

    assert "char_rnn_loss.png" in shell.run(".venv/bin/rnnkit demo").stdout
    assert (kit / "demo" / "char_rnn_loss.png").stat().st_size > 0

    # The platform commands call rnnkit by name, in the venv the README says to activate.
    shell.prepare(". .venv/bin/activate")
    (kit / "roster.csv").write_text(
        "student,name,sis_user_id,first_name,last_name,email\n"
        "ann,Ann Lee,S1,Ann,Lee,ann@example.org\nben,Ben Okafor,S2,Ben,Okafor,ben@example.org\n",
        encoding="utf-8",
    )
    shell.run(CANVAS)
    canvas = list(csv.reader(open(kit / "canvas.csv", newline="", encoding="utf-8")))
    assert canvas[0][:3] == ["Student", "ID", "SIS User ID"] and canvas[0][-1] == "RNN kit (4711)"
    assert canvas[1][0].strip() == "Points Possible" and {row[2]: row[-1] for row in canvas[2:]} == {"S1": f"{full:g}", "S2": rows["ben"]["total"]}
    shell.run(MOODLE)
    moodle = _csv_rows(kit / "moodle.csv")
    assert {row["Email address"]: row["RNN kit"] for row in moodle} == {"ann@example.org": f"{full:g}", "ben@example.org": rows["ben"]["total"]}

    shell.run("rnnkit export gradescope --out autograder.zip")
    with zipfile.ZipFile(kit / "autograder.zip") as archive:
        assert {"setup.sh", "run_autograder", "requirements.txt"} <= set(archive.namelist())


def test_nbgrader_flow(shell, course):
    from nbgrader.utils import notebook_hash

    parts = [part.name for part in course.parts]
    shell.run(". .venv/bin/activate")
    assert shell.env["VIRTUAL_ENV"], "the venv is active"
    shell.run("rnnkit export nbgrader --out nbgrader-course")
    shell.run("cd nbgrader-course")
    home = shell.home / "nbgrader-course"
    assert shell.cwd == home
    shell.run("nbgrader generate_assignment rnn")
    release = home / "release" / "rnn"
    assert sorted(p.stem for p in release.glob("*.ipynb")) == sorted(parts)

    # "collect as usual": what nbgrader collect leaves, for one student handing in an untouched notebook.
    submitted = home / "submitted" / "ann" / "rnn"
    submitted.mkdir(parents=True)
    shutil.copy(release / "rnn_forward.ipynb", submitted)
    (submitted / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    (submitted / "submission_secret.txt").write_text("c3" * 64)
    exchange = shell.home.parent / "exchange"
    exchange.mkdir()
    with open(home / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(f"c.Exchange.root = {str(exchange)!r}  # the course's exchange\n")

    shell.run("rnnkit grade --nbgrader . rnn --out grades")
    assert [row["student"] for row in _csv_rows(home / "grades" / "rnn" / "grades.csv")] == ["ann"]
    shell.run("nbgrader generate_feedback rnn")
    html = (home / "feedback" / "ann" / "rnn" / "rnn_forward.html").read_text(encoding="utf-8")
    assert "rnnkit: 0 / " in html and "not implemented yet" in html, "the kit's scores and words"
    shell.run("nbgrader release_feedback rnn")
    released = [p.name for p in (exchange / "rnnkit" / "feedback").iterdir()]
    assert released == [f"{notebook_hash(secret='c3' * 64, notebook_id='rnn_forward')}.html"], "named by ann's secret, as fetch_feedback expects"
    shell.run("nbgrader export")
    exported = _csv_rows(home / "grades.csv")
    assert [(row["assignment"], row["student_id"], float(row["score"])) for row in exported] == [("rnn", "ann", 0.0)]


def test_otter_flow(shell, course):
    shell.prepare(". .venv/bin/activate")
    shell.run("rnnkit export otter --out masters")
    assert (shell.home / "masters" / "rnn_forward" / "rnn_forward.ipynb").is_file()
    shell.run("otter assign masters/rnn_forward/rnn_forward.ipynb dist/rnn_forward")
    dist = shell.home / "dist" / "rnn_forward"
    assert len(list((dist / "autograder").glob("rnn_forward-autograder_*.zip"))) == 1
    shutil.copy(dist / "student" / "rnn_forward.ipynb", shell.home / "submission.ipynb")
    shell.run("otter run -a dist/rnn_forward/autograder/rnn_forward-autograder_*.zip submission.ipynb")
    results = json.loads((shell.home / "results.json").read_text())
    scored = [test for test in results["tests"] if test.get("max_score")]
    assert scored and sum(test["score"] for test in scored) == 0, "the untouched notebook scores 0"
