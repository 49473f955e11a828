"""The hidden tests of a task: its cases, the reference's answers, and what the worker receives.

Only the grader (a trusted process) builds these. A worker receives the
*inputs* of its own task only (:meth:`CaseSet.inputs`), as plain data in a sealed
memory file; the answers never leave this process.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import content
from .cases import Case, cases_for
from .course import Course, Part
from .worker import calls

#: Slack over the expected size when capping a result: float64 for float32, a few extra items.
_CAP_FACTOR = 2
_CAP_FLOOR = 64 << 10


def _elements(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return int(value.size)
    if isinstance(value, dict):
        return sum(_elements(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return sum(_elements(v) for v in value)
    return 1


class References:
    """The reference module of every part, loaded once (thread-safe)."""

    def __init__(self, course: Course):
        self.course = course
        self._modules: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __getitem__(self, part: str):
        with self._lock:
            if part not in self._modules:
                self._modules[part] = content.load_reference(self.course.solutions_dir, part)
            return self._modules[part]

    def all(self) -> dict[str, Any]:
        return {p.name: self[p.name] for p in self.course.parts}


@dataclass
class CaseSet:
    """The hidden cases of one part drawn from one seed, with the reference's answers."""

    part: Part
    seed: int
    cases: dict[str, list[Case]]
    expected: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def draw(cls, part: Part, seed: int, references: References) -> "CaseSet":
        cases = {f.name: cases_for(f.name, seed) for f in part.functions}
        module = references[part.name]
        expected = {
            name: [getattr(module, name)(*calls.copy_value(case.call_args())) for case in function_cases]
            for name, function_cases in cases.items()
        }
        return cls(part, seed, cases, expected)

    def inputs(self) -> bytes:
        """What the worker receives: the arguments only."""
        return calls.to_bytes(*calls.encode({"cases": {name: [c.args for c in cs] for name, cs in self.cases.items()}}))

    def case_counts(self) -> dict[str, int]:
        return {name: len(cs) for name, cs in self.cases.items()}

    def caps(self) -> dict[str, int]:
        """Per function, the largest result payload accepted for one case: twice the answer and arguments, in float64."""
        caps = {}
        for name, function_cases in self.cases.items():
            sizes = [_elements(expected) + _elements(case.args) for case, expected in zip(function_cases, self.expected[name])]
            caps[name] = _CAP_FACTOR * 8 * max(sizes, default=0) + _CAP_FLOOR
        return caps


@dataclass
class HiddenTests:
    """Every function's cases drawn from one seed, and (once computed) the answers: for the exports and tests."""

    cases: dict[str, list[Case]]
    expected: dict[str, list[Any]] = field(default_factory=dict)
    references: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def draw(cls, course: Course, seed: int) -> "HiddenTests":
        return cls({f.name: cases_for(f.name, seed) for f in course.functions})

    def compute_answers(self, course: Course) -> None:
        for part in course.parts:
            reference = self.references[part.name] = content.load_reference(course.solutions_dir, part.name)
            for function in part.functions:
                fn = getattr(reference, function.name)
                self.expected[function.name] = [fn(*calls.copy_value(case.call_args())) for case in self.cases[function.name]]
