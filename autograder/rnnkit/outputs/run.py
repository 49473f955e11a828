"""One grading run into an output folder: complete, consistent, one writer, re-grading only what changed.

The order of writes (each file whole: temporary file, then rename):

1. take the folder's lock (:class:`~.files.OutputLock`), or stop naming the run that holds it;
2. ``manifest.json`` marked incomplete, and ``report.html`` rebuilt to say a run is under way (only when the folder
   already holds a ``grades.csv``): a run killed from here on leaves a folder that says so;
3. per student graded, as soon as all their files are graded: ``students/<id>/feedback.md`` and ``results.json``,
   then ``grade.json`` (the record a later run trusts);
4. ``students/<id>/`` of students no longer in the class removed;
5. ``grades.csv``, ``mistakes.csv``, ``report.html``, from every student's grade (fresh or kept);
6. ``manifest.json`` marked complete: the commit point.

A student is kept, not re-graded, when their ``grade.json`` has the same content digest (:func:`~.store.submission_digest`)
and the same fingerprint (kit version, ``course.yml``, seed mode), and their feedback files are whole. ``full=True``
re-grades everyone.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..course import Course
from .files import OutputLock, now, remove_temporaries, sync, write_atomic
from .safe import id_problem, shown_name
from .store import (
    RECORD, STUDENTS, fingerprint, load_kept, read_manifest, record_of, student_folder, submission_digest,
    write_manifest,
)


@dataclass
class RunSummary:
    """What a run did: the class files written, and who was graded, kept, removed or refused."""

    written: list[Path]
    students: list = field(default_factory=list)
    graded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    #: The previous run into this folder had not finished (its manifest said so, or there was none beside old files).
    repaired: bool = False


def refused_ids(submissions: list) -> tuple[list, list[dict]]:
    """``(accepted, refused)``: submissions whose folder name is a student id, and notes on the others."""
    accepted, refused = [], []
    for sub in submissions:
        problem = id_problem(sub.student)
        if problem:
            refused.append({"name": shown_name(sub.student), "reason": f"The folder {shown_name(sub.student)} was not graded: {problem}."})
        else:
            accepted.append(sub)
    return accepted, refused


def _write_one(student, course: Course, out_dir: Path, digest: str, finger: str) -> None:
    """``students/<id>/feedback.md``, ``results.json``, then ``grade.json``, each whole."""
    from ..feedback import write_student

    folder = student_folder(out_dir, student.student)
    files = write_student(student, course, folder)
    write_atomic(folder / RECORD, json.dumps(record_of(student, digest, finger, files), indent=1, ensure_ascii=False) + "\n", durable=False)


def _class_files(students: list, course: Course, out_dir: Path, state: dict) -> list[Path]:
    from ..report import write_grades_csv, write_mistakes_csv
    from ..report_html import write_report

    grades = write_grades_csv(students, course, out_dir / "grades.csv")
    mistakes = write_mistakes_csv(students, out_dir / "mistakes.csv")
    return [grades, mistakes, write_report(out_dir, course, state=state)]


def _remove_stale(out_dir: Path, keep: set[str]) -> list[str]:
    """Delete ``students/<id>/`` folders the kit wrote (they hold ``grade.json``) for ids no longer in the class."""
    removed = []
    root = out_dir / STUDENTS
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.name not in keep and folder.is_dir() and not folder.is_symlink() and (folder / RECORD).is_file():
            shutil.rmtree(folder)
            removed.append(folder.name)
    return removed


def _mark_started(out_dir: Path, course: Course, seed, started: str, refused: list[dict]) -> None:
    previous = read_manifest(out_dir) or {}
    write_manifest(out_dir, course, seed, started=started, complete=False, students=previous.get("students", []), refused=refused)
    if (out_dir / "grades.csv").is_file():
        from ..report_data import ReportError
        from ..report_html import write_report

        try:
            write_report(out_dir, course)
        except ReportError:
            pass


def grade_into(
    out_dir: Path,
    submissions: list,
    course: Course,
    grade: Callable[[list, Callable], list],
    *,
    seed: int | None,
    full: bool = False,
    on_plan: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Grade ``submissions`` into ``out_dir`` with ``grade(submissions, on_student_done) -> [StudentResult]``.

    ``grade`` calls ``on_student_done(student)`` as each student is finished, so their files are written
    then (see the module docstring); any student it did not announce is written when it returns.

    ``on_plan(to_grade, kept)`` is called once the students to re-grade are known. Raises
    :class:`~.files.OutputLocked` when another run holds the folder.
    """
    out_dir = Path(out_dir)
    with OutputLock(out_dir):
        previous = read_manifest(out_dir)
        repaired = bool(previous and not previous.get("complete")) or (previous is None and (out_dir / "grades.csv").exists())
        for folder in [out_dir, *((out_dir / STUDENTS).glob("*/"))]:
            remove_temporaries(folder)
        accepted, refused = refused_ids(submissions)
        finger = fingerprint(course, seed)
        digests = {s.student: submission_digest(s) for s in accepted}
        kept = {} if full else {s.student: load_kept(out_dir, s.student, digests[s.student], finger, course) for s in accepted}
        kept = {k: v for k, v in kept.items() if v is not None}
        to_grade = [s for s in accepted if s.student not in kept]
        if on_plan is not None:
            on_plan(len(to_grade), len(kept))

        started = now()
        _mark_started(out_dir, course, seed, started, refused)
        fresh = {}

        def finished(student) -> None:  # as each student's last file is graded
            _write_one(student, course, out_dir, digests[student.student], finger)
            fresh[student.student] = student

        for student in grade(to_grade, finished) if to_grade else []:
            if student.student not in fresh:
                finished(student)
        removed = _remove_stale(out_dir, {s.student for s in accepted})
        everyone = [fresh.get(s.student) or kept[s.student] for s in accepted if s.student in fresh or s.student in kept]
        ids = [s.student for s in everyone]
        state = {"complete": True, "started": started, "refused": refused, "seed": seed}
        sync()  # every student's files are on disk before the run says it is complete
        written = _class_files(everyone, course, out_dir, state)
        write_manifest(out_dir, course, seed, started=started, complete=True, students=ids, refused=refused)
    return RunSummary(written, everyone, list(fresh), list(kept), removed, refused, repaired)


def write_all(students: list, course: Course, out_dir: Path, *, seed) -> list[Path]:
    """Write a whole output folder for ``students`` graded elsewhere (nbgrader): every student, then the class files."""
    out_dir = Path(out_dir)
    with OutputLock(out_dir):
        started = now()
        _mark_started(out_dir, course, seed, started, [])
        finger = fingerprint(course, seed)
        for student in students:
            _write_one(student, course, out_dir, "", finger)
        _remove_stale(out_dir, {s.student for s in students})
        sync()
        written = _class_files(students, course, out_dir, {"complete": True, "started": started, "refused": [], "seed": seed})
        write_manifest(out_dir, course, seed, started=started, complete=True, students=[s.student for s in students], refused=[])
    return written
