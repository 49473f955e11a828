"""What the instructor receives: ``grades.csv``, ``mistakes.csv`` and the summary tables."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .course import Course
from .grading import StudentResult
from .diagnosis import count_mistakes
from .outputs.files import write_atomic
from .outputs.safe import csv_cell


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def grades_csv_text(students: list, course: Course) -> str:
    """The text of ``grades.csv``: ``student,<every function in course order>,total,possible``.

    Points per function (bonus included in total). The student id goes through :func:`~.outputs.safe.csv_cell`:
    an id starting with ``= + - @ ' tab CR`` is written with a ``'`` in front, so no spreadsheet runs it.
    """
    rows = [["student", *(fn.name for fn in course.functions), "total", "possible"]]
    for student in students:
        scores = [student.functions[fn.name].score for fn in course.functions]
        rows.append([csv_cell(student.student), *(f"{x:g}" for x in scores), f"{student.total:g}", f"{course.possible:g}"])
    return _csv_text(rows)


def write_grades_csv(students: list, course: Course, path: Path) -> Path:
    """Write ``grades.csv`` (:func:`grades_csv_text`) whole: temporary file, then rename."""
    return write_atomic(Path(path), grades_csv_text(students, course))


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


def mistakes_csv_text(students: list) -> str:
    """The text of ``mistakes.csv``: ``mistake,function,explanation,students,student_ids``, most frequent first.

    ``function`` is where the mistake is made (for a general pattern, every function it was seen in, space-separated);
    ``students`` counts the students who made it; ``student_ids`` lists them one per line inside the one quoted cell
    (ids never hold a line break: such names are refused), each id neutralised like in ``grades.csv``.
    """
    rows = [["mistake", "function", "explanation", "students", "student_ids"]]
    for entry in count_mistakes(students):
        ids = "\n".join(csv_cell(s) for s in entry.students)
        rows.append([entry.mistake.id, " ".join(entry.functions), entry.mistake.explanation, str(len(entry.students)), ids])
    return _csv_text(rows)


def write_mistakes_csv(students: list, path: Path) -> Path:
    """Write ``mistakes.csv`` (:func:`mistakes_csv_text`) whole: temporary file, then rename."""
    return write_atomic(Path(path), mistakes_csv_text(students))


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


def print_tables(students: list, course: Course, mode_words: str, console: Console) -> None:
    """Print the summary table and the most frequent mistakes (nothing for an empty class)."""
    if students:
        console.print(summary_table(students, course, mode_words))
        frequent = mistakes_table(students)
        if frequent is not None:
            console.print(frequent)


def write_class(students: list[StudentResult], course: Course, out_dir: Path, mode_words: str, console: Console,
                seed: int | None | str = "unrecorded") -> list[Path]:
    """Write a whole output folder for ``students`` (already graded), under the folder's lock, and print the tables.

    Per student ``students/<id>/feedback.md``, ``results.json`` and ``grade.json``; then ``grades.csv``,
    ``mistakes.csv``, ``report.html``, and last ``manifest.json`` (see :mod:`.outputs.run`). Returns the paths of
    ``grades.csv``, ``mistakes.csv`` and ``report.html``.
    """
    from .outputs.run import write_all

    written = write_all(students, course, Path(out_dir), seed=seed)
    print_tables(students, course, mode_words, console)
    return written
