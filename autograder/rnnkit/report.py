"""What the instructor receives: ``grades.csv``, ``mistakes.csv`` and the summary tables."""
from __future__ import annotations

import csv
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .course import Course
from .grading import StudentResult
from .mistakes import count_mistakes


def write_grades_csv(students: list[StudentResult], course: Course, path: Path) -> None:
    """``student,<every function in course order>,total,possible`` (points; bonus included in total)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", *(fn.name for fn in course.functions), "total", "possible"])
        for student in students:
            row = [student.functions[fn.name].score for fn in course.functions]
            writer.writerow([student.student, *(f"{x:g}" for x in row), f"{student.total:g}", f"{course.possible:g}"])


def summary_table(students: list[StudentResult], course: Course, mode_words: str) -> Table:
    """Students, mean score, and per function the share of students with full marks."""
    count = len(students)
    mean = sum(s.total for s in students) / count if count else 0.0
    table = Table(title=f"{course.title}: {count} student{'s' if count != 1 else ''}, mean {mean:.1f} / {course.possible:g}")
    table.add_column("function")
    table.add_column("part")
    table.add_column("points", justify="right")
    table.add_column("full marks", justify="right")
    table.add_column("mean", justify="right")
    for fn in course.functions:
        full = sum(s.functions[fn.name].passed for s in students)
        avg = sum(s.functions[fn.name].score for s in students) / count if count else 0.0
        table.add_row(
            fn.name + (" (bonus)" if fn.bonus else ""),
            fn.part,
            f"{fn.points:g}",
            f"{full}/{count} ({100 * full / count:.0f}%)" if count else "-",
            f"{avg:.2f}",
        )
    table.caption = f"sandbox: {mode_words}"
    return table


def write_mistakes_csv(students: list[StudentResult], path: Path) -> None:
    """``mistake,function,explanation,students,student_ids``: each recognised mistake, most frequent first.

    ``function`` is where the mistake is made (for a general pattern, every function it was seen in);
    ``students`` counts the students who made it, ``student_ids`` lists them (space-separated).
    """
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["mistake", "function", "explanation", "students", "student_ids"])
        for entry in count_mistakes(students):
            writer.writerow([entry.mistake.id, " ".join(entry.functions), entry.mistake.explanation, len(entry.students), " ".join(entry.students)])


def mistakes_table(students: list[StudentResult], top: int = 10) -> Table | None:
    """The most frequent recognised mistakes (None when no mistake was recognised)."""
    counts = count_mistakes(students)
    if not counts:
        return None
    table = Table(title=f"Most frequent mistakes ({len(counts)} recognised; all in mistakes.csv)")
    table.add_column("mistake")
    table.add_column("function")
    table.add_column("students", justify="right")
    for entry in counts[:top]:
        table.add_row(escape(f"{entry.mistake.name} ({entry.mistake.id})"), " ".join(entry.functions), str(len(entry.students)))
    return table


def write_class(students: list[StudentResult], course: Course, out_dir: Path, mode_words: str, console: Console) -> list[Path]:
    """Everything a grading run leaves in ``out_dir``, and the tables it prints.

    Per student ``feedback.md`` and ``results.json``; for the class ``grades.csv``,
    ``mistakes.csv`` and ``report.html``.
    """
    from .feedback import write_student
    from .report_html import write_report

    out_dir.mkdir(parents=True, exist_ok=True)
    for student in students:
        write_student(student, course, out_dir)
    written = [out_dir / "grades.csv", out_dir / "mistakes.csv"]
    write_grades_csv(students, course, written[0])
    write_mistakes_csv(students, written[1])
    written.append(write_report(out_dir, course))
    if students:
        console.print(summary_table(students, course, mode_words))
        frequent = mistakes_table(students)
        if frequent is not None:
            console.print(frequent)
    return written
