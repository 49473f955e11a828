"""The instructor's summary: each mistake seen in the class, with the students who made it (``mistakes.csv``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from .catalogue import CATALOGUE
from .model import Mistake

if TYPE_CHECKING:
    from ..results import StudentResult


@dataclass
class MistakeCount:
    mistake: Mistake
    functions: list[str]
    students: list[str]


def count_mistakes(students: Iterable["StudentResult"]) -> list[MistakeCount]:
    """Each mistake seen, with the students who made it (most frequent first, then catalogue order)."""
    seen: dict[str, MistakeCount] = {}
    elsewhere: dict[str, list[str]] = {}  # functions that only inherit the mistake (or make it unlike the catalogue's home)
    for student in students:
        for result in student.functions.values():
            for d in getattr(result, "diagnoses", []) or []:
                # A mistake named by the generated error models (rnnkit.mutants) is not in the catalogue.
                mistake = CATALOGUE.get(d.mistake) or Mistake(d.mistake, d.function, d.name, d.explanation)
                entry = seen.setdefault(d.mistake, MistakeCount(mistake, [], []))
                where = entry.functions if (mistake.general or result.function.name in mistake.homes) else elsewhere.setdefault(d.mistake, [])
                if result.function.name not in where:
                    where.append(result.function.name)
                if student.student not in entry.students:
                    entry.students.append(student.student)
    for entry in seen.values():
        entry.functions = entry.functions or elsewhere.get(entry.mistake.id, [])
    order = {m: i for i, m in enumerate(CATALOGUE)}
    return sorted(seen.values(), key=lambda c: (-len(c.students), order.get(c.mistake.id, len(order)), c.mistake.id))
