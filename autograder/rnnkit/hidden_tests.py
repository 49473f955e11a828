"""The hidden tests of a task: its cases, the reference's answers, and what the worker receives.

Only the grader (a trusted process) builds these. A worker receives the
*inputs* of its own task only (:meth:`CaseSet.inputs`), as plain data in a sealed
memory file; the answers never leave this process.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from . import content
from .cases import PROBE_SEED, PROBES_PER_FUNCTION, Case, cases_for
from .course import Course, Part
from .worker import calls

#: Slack over the expected size when capping a result: float64 for float32, a few extra items.
_CAP_FACTOR = 2
_CAP_FLOOR = 64 << 10


def _encoded_cases(cases: dict[str, list[Case]]) -> bytes:
    return calls.to_bytes(*calls.encode({"cases": {name: [c.args for c in function_cases] for name, function_cases in cases.items()}}))


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


def _answers(module, cases: dict[str, list[Case]]) -> dict[str, list[Any]]:
    return {name: [getattr(module, name)(*calls.copy_value(case.call_args())) for case in function_cases] for name, function_cases in cases.items()}


class Probes:
    """Diagnostic cases every student's functions also run (the same for all, never scored), and their answers.

    Common inputs make students' outputs comparable: what each generated error model
    (:mod:`rnnkit.mutants`) returns on them is computed once per class.
    """

    def __init__(self, references: References):
        self.references = references
        self._parts: dict[str, tuple[dict, dict]] = {}
        self._layouts: dict[str, Any] = {}
        self._inputs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def of(self, part: Part) -> tuple[dict[str, list[Case]], dict[str, list[Any]]]:
        """Per function: its ordinary probes, then its controlled probes, then its dependency probes (:mod:`.diagnosis`)."""
        with self._lock:
            if part.name not in self._parts:
                from .diagnosis.controls import control_cases
                from .diagnosis.inherit import add_dependency_probes

                cases = {f.name: cases_for(f.name, PROBE_SEED)[:PROBES_PER_FUNCTION] + control_cases(f.name) for f in part.functions}
                module = self.references[part.name]
                source = content.reference_code(content.read_source(self.references.course.solutions_dir, part.name))
                self._layouts[part.name] = add_dependency_probes(module, source, cases)
                self._parts[part.name] = (cases, _answers(module, cases))
            return self._parts[part.name]

    def inputs(self, part: Part) -> bytes:
        """The probes' arguments as a worker receives them (:func:`rnnkit.worker.calls.pack_inputs`), encoded once per part."""
        cases, _ = self.of(part)
        with self._lock:
            if part.name not in self._inputs:
                self._inputs[part.name] = _encoded_cases(cases)
            return self._inputs[part.name]

    def layout(self, part: Part):
        """Which dependency probes each probe of a function calls (:class:`rnnkit.diagnosis.inherit.Layout`)."""
        self.of(part)
        return self._layouts[part.name]


@dataclass
class CaseSet:
    """The hidden cases of one part drawn from one seed, with the reference's answers, and the part's probes."""

    part: Part
    seed: int
    cases: dict[str, list[Case]]
    expected: dict[str, list[Any]] = field(default_factory=dict)
    probes: dict[str, list[Case]] = field(default_factory=dict)
    probe_answers: dict[str, list[Any]] = field(default_factory=dict)
    #: The probes' arguments, encoded (:meth:`Probes.inputs`); None: encoded here from ``probes``.
    probe_inputs: bytes | None = field(default=None, repr=False)

    @classmethod
    def draw(cls, part: Part, seed: int, references: References, probes: Probes | None = None) -> "CaseSet":
        cases = {f.name: cases_for(f.name, seed) for f in part.functions}
        if probes is None:
            return cls(part, seed, cases, _answers(references[part.name], cases))
        probe_cases, probe_answers = probes.of(part)
        return cls(part, seed, cases, _answers(references[part.name], cases), probe_cases, probe_answers, probes.inputs(part))

    def all_cases(self, name: str) -> list[Case]:
        """The scored cases of ``name``, then its probes: the order the worker calls them in."""
        return self.cases[name] + self.probes.get(name, [])

    @cached_property
    def inputs(self) -> bytes:
        """What the worker receives: the arguments only, scored cases first, then the probes."""
        probes = self.probe_inputs if self.probe_inputs is not None else _encoded_cases(self.probes)
        return calls.pack_inputs(_encoded_cases(self.cases), probes)

    @cached_property
    def case_counts(self) -> dict[str, int]:
        return {name: len(self.all_cases(name)) for name in self.cases}

    @cached_property
    def caps(self) -> dict[str, int]:
        """Per function, the largest result payload accepted for one case: twice the answer and arguments, in float64."""
        caps = {}
        for name, function_cases in self.cases.items():
            pairs = [*zip(function_cases, self.expected[name]), *zip(self.probes.get(name, []), self.probe_answers.get(name, []))]
            sizes = [_elements(expected) + _elements(case.args) for case, expected in pairs]
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
            self.expected.update(_answers(reference, {f.name: self.cases[f.name] for f in part.functions}))
