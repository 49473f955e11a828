"""What the class report is built from: the files ``rnnkit grade`` leaves in ``OUT_DIR``, read back.

* ``grades.csv``: the points of every student per function, total and possible
  (ids read back through :func:`~.outputs.safe.csv_uncell`);
* ``students/<id>/results.json``: per function, passed, partly passed, not
  implemented, or not handed in;
* ``mistakes.csv`` (when present): the most frequent mistakes;
* ``manifest.json`` (when present): whether the run that wrote the folder
  finished and the folders refused as ids;
* ``similarity/section.html`` (when present): the similarity report's section.

Nothing here trusts a file: a folder the report cannot be built from raises :class:`ReportError`.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .course import Course
from .outputs.safe import csv_uncell
from .outputs.store import read_manifest, student_folder

MISTAKES_FILE = "mistakes.csv"

#: status -> (label, colour)
STATUSES = {
    "passed": ("passed", "#2e7d32"),
    "partial": ("partly passed", "#f2a900"),
    "failed": ("failed", "#c62828"),
    "not_implemented": ("not implemented yet", "#9e9e9e"),
    "missing": ("not handed in", "#d9d9d9"),
}
_TEST_NAME = re.compile(r"^(?P<function>[A-Za-z_][A-Za-z0-9_]*)\s*\((?P<part>[A-Za-z_][A-Za-z0-9_]*)(?P<bonus>,\s*bonus)?\)")


@dataclass
class FunctionInfo:
    name: str
    part: str
    points: float
    bonus: bool = False


@dataclass
class StudentRow:
    student: str
    total: float
    possible: float
    scores: dict[str, float]
    statuses: dict[str, str] = field(default_factory=dict)
    has_feedback: bool = False

    @property
    def percent(self) -> float:
        return 100.0 * self.total / self.possible if self.possible else 0.0


@dataclass
class ClassData:
    title: str
    functions: list[FunctionInfo]
    students: list[StudentRow]
    mistakes: tuple[list[str], list[list[str]]] | None  # header, rows
    #: The manifest's word on the run: ``complete``, ``started``, ``refused`` (``{}`` when the folder has no manifest).
    state: dict = field(default_factory=dict)
    #: The similarity section (:mod:`rnnkit.similarity`, already escaped), when the run wrote one.
    similarity_html: str = ""


#: Where ``rnnkit grade`` leaves the similarity section for the report (written by :mod:`rnnkit.similarity`'s caller).
SIMILARITY_SECTION = "similarity/section.html"


class ReportError(ValueError):
    """An output folder the report cannot be built from (the message says why)."""


# --------------------------------------------------------------------------- reading OUT_DIR


def number(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0


def _status(test: dict) -> str:
    score, most = number(test.get("score")), number(test.get("max_score"))
    output = str(test.get("output", ""))
    if test.get("status") == "passed" or (most and score >= most):
        return "passed"
    if score > 0:
        return "partial"
    if output.startswith("Not implemented yet"):
        return "not_implemented"
    if output.startswith("No ") and "was handed in" in output.split("\n", 1)[0]:
        return "missing"
    return "failed"


def read_class(out_dir: Path, course: Course | None = None) -> ClassData:
    """Everything the report shows, from the files in ``out_dir``."""
    out_dir = Path(out_dir)
    grades = out_dir / "grades.csv"
    if not grades.is_file():
        raise ReportError(f"{grades} does not exist: run `rnnkit grade` first (its --out folder holds grades.csv)")
    with open(grades, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0][:1] != ["student"] or rows[0][-2:] != ["total", "possible"]:
        raise ReportError(f"{grades} is not a grades file of rnnkit (its header should be student,...,total,possible)")
    names = rows[0][1:-2]

    known = {f.name: f for f in course.functions} if course else {}
    functions = {n: FunctionInfo(n, known[n].part, known[n].points, known[n].bonus) if n in known else FunctionInfo(n, "", 0.0) for n in names}
    students = []
    for row in rows[1:]:
        if len(row) != len(names) + 3:
            continue
        scores = {n: number(v) for n, v in zip(names, row[1:-2])}
        name = csv_uncell(row[0])
        student = StudentRow(name, number(row[-2]), number(row[-1]), scores)
        folder = student_folder(out_dir, name)
        student.has_feedback = (folder / "feedback.md").is_file()
        results = folder / "results.json"
        try:
            tests = json.loads(results.read_text(encoding="utf-8")).get("tests", []) if results.is_file() else []
        except (OSError, ValueError, AttributeError):
            tests = []
        for test in tests if isinstance(tests, list) else []:
            match = _TEST_NAME.match(str(test.get("name", ""))) if isinstance(test, dict) else None
            if not match or match.group("function") not in functions:
                continue
            info = functions[match.group("function")]
            info.part = info.part or match.group("part")
            info.bonus = info.bonus or bool(match.group("bonus"))
            info.points = info.points or number(test.get("max_score"))
            student.statuses[info.name] = _status(test)
        for name in names:  # no results.json: judge by points alone
            if name not in student.statuses:
                most = functions[name].points
                score = scores[name]
                student.statuses[name] = "passed" if most and score >= most else "partial" if score > 0 else "failed"
        students.append(student)

    mistakes = None
    path = out_dir / MISTAKES_FILE
    if path.is_file():
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            table = [r for r in csv.reader(f) if r]
        if table:
            mistakes = (table[0], table[1:])
    title = course.title if course else "rnnkit"
    section = out_dir / SIMILARITY_SECTION
    similarity = section.read_text(encoding="utf-8") if section.is_file() else ""
    return ClassData(title, list(functions.values()), students, mistakes, read_manifest(out_dir) or {}, similarity)
