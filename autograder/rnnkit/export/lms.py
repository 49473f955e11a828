"""``rnnkit export lms``: the kit's ``grades.csv`` as a gradebook import file for Canvas or Moodle.

The kit knows a student by the name of their folder; an LMS knows them by its own
identity. The instructor provides a *roster*, a CSV file with one row per
student: the column ``student`` (the kit's id, the folder name) and the LMS
identity columns of the chosen format:

* ``canvas``: ``name``, ``id`` (Canvas's user id), ``sis_user_id``,
  ``sis_login_id``, ``section``; each row needs at least one of ``id``,
  ``sis_user_id``, ``sis_login_id`` (the columns Canvas matches students by).
  The file written has Canvas's identity columns ``Student``, ``ID``,
  ``SIS User ID``, ``SIS Login ID``, ``Section``, then one assignment column
  with the student's total, after a ``Points Possible`` row;
* ``moodle``: ``first_name``, ``last_name``, ``id_number``, ``email``; each row
  needs ``id_number`` or ``email`` (map one of them to Moodle's user field when
  importing). The file written has ``First name``, ``Last name``, ``ID number``,
  ``Email address``, then the grade item's column.

Roster headers are matched without regard to case, spaces or underscores
(``SIS User ID`` is ``sis_user_id``). Every cell that a spreadsheet would read
as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) is written with a leading ``'``, so an imported or opened file never runs
anything. A roster student with no grade gets an empty cell (the LMS leaves the
grade as it is); a graded student missing from the roster is reported.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..outputs.safe import csv_uncell
from . import ExportError

FORMATS = ("canvas", "moodle")

#: The roster columns of each format, and those of which each row needs at least one.
ROSTER_COLUMNS = {
    "canvas": ("name", "id", "sis_user_id", "sis_login_id", "section"),
    "moodle": ("first_name", "last_name", "id_number", "email"),
}
IDENTITY_NEEDED = {
    "canvas": ("id", "sis_user_id", "sis_login_id"),
    "moodle": ("id_number", "email"),
}
HEADERS = {
    "canvas": ("Student", "ID", "SIS User ID", "SIS Login ID", "Section"),
    "moodle": ("First name", "Last name", "ID number", "Email address"),
}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will not run: a leading ``'`` before ``= + - @``, a tab or a carriage return."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _key(header: str) -> str:
    return re.sub(r"[\s_]+", "_", header.strip().lower())


def _read_csv(path: Path, what: str, exact: tuple[str, ...] = ("student",)) -> tuple[list[str], list[dict[str, str]]]:
    """The headers (normalised) and rows of a CSV file; every cell stripped but those of the ``exact`` columns:
    a student id is a folder name, and ``bob`` and ``bob `` are two students."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ExportError(f"the {what} {path} could not be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ExportError(f"the {what} {path} is not UTF-8 text: save it again as CSV UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    headers = [_key(h) for h in reader.fieldnames or []]
    rows = [{_key(k): (v or "") if _key(k) in exact else (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    return headers, rows


@dataclass(frozen=True)
class Grades:
    """``grades.csv`` of ``rnnkit grade``: each student's total, and the points possible."""

    totals: dict[str, str]
    possible: str

    @classmethod
    def read(cls, path: Path) -> "Grades":
        headers, rows = _read_csv(path, "grades file")
        missing = [c for c in ("student", "total", "possible") if c not in headers]
        if missing:
            raise ExportError(
                f"{path} has no column {', '.join(missing)}: expected the grades.csv that `rnnkit grade` writes "
                "(student, one column per function, total, possible)"
            )
        totals = {}
        for row in rows:
            try:
                float(row["total"])
            except ValueError:
                raise ExportError(f"{path}: the total of {row['student']!r} is {row['total']!r}, not a number") from None
            totals[csv_uncell(row["student"])] = row["total"]  # grades.csv puts a ' before an id a spreadsheet would run
        possible = rows[0]["possible"] if rows else ""
        return cls(totals, possible)


def read_roster(path: Path, fmt: str) -> list[dict[str, str]]:
    """The roster's rows, checked: a ``student`` column, and for each row an identity the LMS can match."""
    headers, rows = _read_csv(path, "roster")
    if "student" not in headers:
        raise ExportError(
            f"the roster {path} has no column 'student'; found {', '.join(headers) or 'no header'}. "
            f"Expected: student (the kit's id, the folder name), then {', '.join(ROSTER_COLUMNS[fmt])}"
        )
    needed = IDENTITY_NEEDED[fmt]
    if not any(column in headers for column in needed):
        raise ExportError(f"the roster {path} has none of the columns {', '.join(needed)}: {fmt} needs one to find each student")
    seen = set()
    for number, row in enumerate(rows, start=2):
        if not row.get("student"):
            raise ExportError(f"the roster {path}, line {number}: the 'student' cell is empty")
        if row["student"] in seen:
            raise ExportError(f"the roster {path}, line {number}: student {row['student']!r} is listed twice")
        seen.add(row["student"])
        if not any(row.get(column) for column in needed):
            raise ExportError(f"the roster {path}, line {number} ({row['student']}): fill in one of {', '.join(needed)}")
    return rows


@dataclass
class LmsFile:
    text: str
    written: int
    #: Graded students that the roster does not list (not in the file).
    not_in_roster: list[str]
    #: Roster students with no grade (an empty cell in the file).
    without_grade: list[str]


def lms_csv(grades: Grades, roster: list[dict[str, str]], fmt: str, assignment: str) -> LmsFile:
    """The import file's text for ``fmt``: identity columns, then one column with each student's total."""
    if fmt not in FORMATS:
        raise ExportError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in (*HEADERS[fmt], assignment)])
    if fmt == "canvas":
        writer.writerow(["    Points Possible", "", "", "", "", neutralise(grades.possible)])
    without = []
    for row in roster:
        identity = [row.get(column, "") for column in ROSTER_COLUMNS[fmt]]
        total = grades.totals.get(row["student"], "")
        if not total:
            without.append(row["student"])
        writer.writerow([neutralise(cell) for cell in (*identity, total)])
    listed = {row["student"] for row in roster}
    return LmsFile(out.getvalue(), len(roster), sorted(set(grades.totals) - listed), without)


def export_lms(grades_file: Path, roster_file: Path, fmt: str, out_file: Path, assignment: str) -> LmsFile:
    """Read ``grades_file`` and ``roster_file``, write the ``fmt`` import file to ``out_file``."""
    if fmt not in FORMATS:
        raise ExportError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    result = lms_csv(Grades.read(grades_file), read_roster(roster_file, fmt), fmt, assignment)
    Path(out_file).parent.mkdir(parents=True, exist_ok=True)
    Path(out_file).write_text(result.text, encoding="utf-8", newline="")
    return result
