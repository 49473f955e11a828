"""Behavioural evidence only a grader has: the same named mistakes in several functions.

Hidden inputs differ per student, so raw outputs cannot be compared between
students; the mistakes the grader names (:class:`rnnkit.diagnosis.Diagnosis`)
can. Each ``(function, mistake)`` a student makes (inherited ones excluded: they
repeat a mistake made elsewhere) is weighed by its rarity in the class,
``log2(N / n)`` bits for a mistake ``n`` of the ``N`` graded students make. A
mistake half the class makes is worth 1 bit; one only the two of them make,
in a class of 60, almost 5. Independent students rarely share several rare
mistakes; a copy shares them all.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from ..results import StudentResult


@dataclass(frozen=True)
class SharedMistake:
    function: str
    part: str
    mistake: str
    name: str
    students: int  # how many students of the class make it
    bits: float


def mistakes_of(student: StudentResult) -> dict[tuple[str, str], tuple[str, str]]:
    """``(function, mistake) -> (part, name)`` for every mistake named in ``student``'s functions."""
    found = {}
    for fname, result in student.functions.items():
        for d in getattr(result, "diagnoses", None) or []:
            if getattr(d, "inherited", False):
                continue
            mistake = getattr(d, "mistake", None)
            if mistake:
                found[(fname, mistake)] = (result.function.part, getattr(d, "name", mistake) or mistake)
    return found


class MistakeIndex:
    def __init__(self, students: list[StudentResult]):
        self.by_student = {s.student: mistakes_of(s) for s in students}
        self.graded = max(1, len(students))
        self.counts: Counter = Counter()
        for found in self.by_student.values():
            self.counts.update(found.keys())

    def shared(self, a: str, b: str) -> list[SharedMistake]:
        ma, mb = self.by_student.get(a, {}), self.by_student.get(b, {})
        out = []
        for key in ma.keys() & mb.keys():
            n = self.counts[key]
            part, name = ma[key]
            out.append(SharedMistake(key[0], part, key[1], name, n, math.log2(self.graded / n) if n else 0.0))
        return sorted(out, key=lambda m: (-m.bits, m.function))

    @staticmethod
    def evidence(shared: list[SharedMistake], settings: dict) -> float:
        """0..1: how strongly the shared mistakes say "not independent" (0 below ``min_shared_mistakes``)."""
        functions = {m.function for m in shared}
        if len(functions) < int(settings["min_shared_mistakes"]):
            return 0.0
        bits = sum(m.bits for m in shared)
        return min(1.0, bits / float(settings["mistake_bits"]))


def results_from_mistakes_csv(path, course) -> list[StudentResult]:
    """StudentResults carrying only the named mistakes, read back from a graded folder's ``mistakes.csv``.

    For ``rnnkit report`` (which has no StudentResults): each row's mistake is
    given to every listed student in every listed function (``student_ids`` and
    ``function`` are space-separated). Students with no mistake are not listed
    in that file; pass their submissions to :func:`write_similarity` all the same.
    """
    import csv
    from pathlib import Path

    from ..diagnosis import Diagnosis
    from ..results import FunctionResult

    by_name = {f.name: f for f in course.functions}
    students: dict[str, StudentResult] = {}
    with open(Path(path), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for sid in (row.get("student_ids") or "").split():
                student = students.setdefault(sid, StudentResult(sid, {}, {}))
                for fname in (row.get("function") or "").split():
                    if fname in by_name:
                        result = student.functions.setdefault(fname, FunctionResult(by_name[fname]))
                        result.diagnoses.append(Diagnosis(row["mistake"], fname, row["mistake"], row.get("explanation", "")))
    return list(students.values())
