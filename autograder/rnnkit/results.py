"""What grading finds: per case, per function, per part and per student.

Plain data, filled by :mod:`.scoring` and :mod:`.diagnosis`, read by the
outputs (feedback, results.json, the class files). A case's decoded output is
kept only until the function's mistake has been named.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .course import Function
from .hints import hint_for


@dataclass
class CaseOutcome:
    about: str
    passed: bool
    message: str = ""
    #: The student's decoded result (plain arrays and numbers), when there was one.
    found: Any = field(default=None, repr=False)
    #: The arguments as the call left them (functions left out), when there was a result.
    args_after: Any = field(default=None, repr=False)


@dataclass
class FunctionResult:
    function: Function
    cases: list[CaseOutcome] = field(default_factory=list)
    #: Why the function could not be tested at all (missing, not implemented, file unreadable...).
    problem: str = ""
    not_implemented: bool = False
    #: Known mistakes recognised in the outputs (:class:`rnnkit.diagnosis.Diagnosis`), filled after scoring.
    diagnoses: list = field(default_factory=list)
    #: Where the outputs go wrong, in words (:mod:`rnnkit.diagnosis.further`), when no mistake is named.
    where: list = field(default_factory=list)
    #: The outputs on the probes (common, never scored), kept for the diagnosis of a function that lost credit.
    probes: list = field(default_factory=list, repr=False)

    @property
    def passed_cases(self) -> int:
        return sum(c.passed for c in self.cases)

    @property
    def score(self) -> float:
        if self.problem or not self.cases:
            return 0.0
        return round(self.function.points * self.passed_cases / len(self.cases), 2)

    @property
    def passed(self) -> bool:
        return not self.problem and bool(self.cases) and self.passed_cases == len(self.cases)

    @property
    def hint(self) -> str:
        return hint_for(self.function.name)


@dataclass
class PartNotes:
    """What happened while a part's file was loaded."""

    filename: str | None = None
    cell_errors: list[dict] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


@dataclass
class StudentResult:
    student: str
    functions: dict[str, FunctionResult]
    parts: dict[str, PartNotes]
    ignored_files: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(r.score for r in self.functions.values()), 2)
