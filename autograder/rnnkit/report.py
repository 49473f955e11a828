"""What the instructor receives: ``grades.csv`` and the summary table."""
from __future__ import annotations

import csv
from pathlib import Path

from rich.table import Table

from .course import Course
from .grading import StudentResult


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
