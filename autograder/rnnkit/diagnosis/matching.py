"""Matching: which catalogued mistakes a student's outputs agree with, and which one is named.

:class:`Diagnoser` runs the variants (trusted code only) on the hidden cases
once per class and compares what the student produced (:class:`Seen`) with
them; the general patterns look at the shape of the error. Only functions that
lost credit are diagnosed.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from ..exception_hints import RAISED
from ..mutants.cache import TableCache
from ..mutants.match import OutputTable, flatten  # the generated models' tables serve the catalogue's too
from ..worker import calls
from .catalogue import recognisers_for
from .model import _EXACT, Diagnosis, Mistake, Pattern, Variant, _close, _data_args

if TYPE_CHECKING:  # grading imports this package; no import cycle at run time
    from ..course import Course
    from ..hidden_tests import HiddenTests
    from ..results import CaseOutcome, StudentResult


@dataclass
class Seen:
    """What one call produced: a value (and the arguments after the call), an exception, or nothing usable."""

    kind: str  # "value", "raised" or "none"
    result: Any = None
    args_after: tuple = ()
    raised: str = ""
    passed: bool = False


def seen_from_outcome(outcome: "CaseOutcome") -> Seen:
    args_after = getattr(outcome, "args_after", None)
    if args_after is not None:
        return Seen("value", outcome.found, tuple(args_after), passed=outcome.passed)
    if outcome.message.startswith(RAISED):
        kind = outcome.message[len(RAISED):].split(":", 1)[0].split()[0] if outcome.message[len(RAISED):].strip() else ""
        return Seen("raised", raised=kind)
    return Seen("none")


class _Ref:
    """The part's reference functions as attributes, with the case's answer and sizes."""

    def __init__(self, module, expected, dims):
        self._module = module
        self.expected = expected
        self.dims = dims

    def __getattr__(self, name):
        return getattr(self._module, name)


class _VariantRun:
    """Per hidden case, lazily: (what a variant produces, whether that differs from the reference).

    An exception is an outcome to match only for a variant declared to raise; otherwise it is
    a broken variant (kind "none", which nothing matches).
    """

    def __init__(self, module, fn: Callable, aspects: tuple[str, ...], raises: bool, cases, expected, tol):
        self._module, self._fn, self._aspects, self._raises = module, fn, aspects, raises
        self._cases, self._expected, self._tol = cases, expected, tol
        self._done: list[tuple[Seen, bool]] = []

    def __len__(self) -> int:
        return len(self._cases)

    def __iter__(self):
        for number in range(len(self._cases)):
            if number == len(self._done):
                self._done.append(self._compute(number))
            yield self._done[number]

    def _compute(self, number: int) -> tuple[Seen, bool]:
        case, expected = self._cases[number], self._expected[number]
        args = calls.copy_value(case.call_args())
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                value = self._fn(_Ref(self._module, expected, case.dims), *args)
            except Exception as exc:  # noqa: BLE001 - the mistake raises, as the student's code would
                return (Seen("raised", raised=type(exc).__name__) if self._raises else Seen("none")), True
        after = _data_args(args)
        differs = ("result" in self._aspects and not _close(value, expected, self._tol)) or (
            "args" in self._aspects and not _close(after, _data_args(case.args), _EXACT)
        )
        return Seen("value", value, after), differs


#: The catalogue's code: a change in it changes what a kept table of variant outputs holds.
_CATALOGUE_CODE = "".join(
    path.read_text(encoding="utf-8") for path in sorted([*Path(__file__).with_name("parts").glob("*.py"), Path(__file__).with_name("model.py")])
)


class _Variant:
    """One alternative of a catalogued variant, as a row of an :class:`OutputTable` (``id``: what the cache keeps)."""

    def __init__(self, key: tuple[str, str, int]):
        self.key = key
        self.id = f"{key[0]}|{key[2]}"


class VariantProbes:
    """What each catalogued variant returns on the probes (the same for every student): computed once per class.

    A variant whose probe outputs are not the student's cannot be their mistake, so most variants
    are ruled out by a comparison, without running them on the student's own cases.
    """

    def __init__(self, cache_dir=None, sources: dict[str, str] | None = None, tolerance=None):
        """``cache_dir``: where the tables are kept between runs (None: built in every run), keyed by the part's
        reference code (``sources``), the catalogue's code, the probes and ``tolerance``."""
        self._outputs: dict[tuple[str, str, int], list[Seen]] = {}
        self._tables: dict[str, OutputTable] = {}
        self._sources = sources or {}
        self._cache = TableCache(cache_dir, tolerance.rtol, tolerance.atol) if cache_dir is not None and tolerance is not None else None

    def outputs(self, key: tuple[str, str, int], run: Callable[[], "_VariantRun"]) -> list[Seen]:
        if key not in self._outputs:
            self._outputs[key] = [seen for seen, _ in run()]
        return self._outputs[key]

    def _table(self, part: str, function: str, variants: dict, probes: list, answers: list) -> OutputTable:
        """The variants' outputs on the probes, one row each: from the cache, or run and kept."""
        path = None
        if self._cache is not None and part in self._sources:
            path = self._cache.path(f"catalogue.{part}", function, self._sources[part] + _CATALOGUE_CODE, probes, answers)
            kept = self._cache.load(path, {row.id: row for row in map(_Variant, variants)})
            if kept is not None:
                return OutputTable.from_kept(kept)
        table = OutputTable()
        for key, run in variants.items():
            outputs = self.outputs(key, run)
            flat = flatten([o.result for o in outputs]) if all(o.kind == "value" for o in outputs) else None
            if flat is not None:
                table.add(_Variant(key), *flat)
        table.freeze()
        if path is not None:
            self._cache.save(path, table.kept())
        return table

    def agreeing(self, function: str, variants: Callable[[], dict], probe_values: list, tol, part: str = "", probes: list = (), answers: list = ()) -> set | None:
        """The keys of ``variants()`` (key -> its run; asked only to build the table) whose probe outputs are within
        ``tol`` of ``probe_values``, all compared at once; None when the student's values cannot be compared so (the
        caller then compares one by one).

        Each variant's outputs are scaled by their own largest entry, never by one item's: a little more lenient
        than the grader's rule, so this rules out only what one-by-one comparison would (own cases decide the rest;
        but a variant kept here counts towards which mistakes fit, so no slack is added beyond that).
        """
        seen = flatten(probe_values)
        if seen is None or not np.isfinite(seen[1]).all():
            return None
        if function not in self._tables:
            self._tables[function] = self._table(part, function, variants(), list(probes), list(answers))
        return {row.key for row in self._tables[function].near(*seen, tol.rtol, tol.atol, slack=0.0)}


class Diagnoser:
    """Recognises catalogued mistakes in graded results; variant outputs are computed once per class."""

    def __init__(self, course: "Course", hidden: "HiddenTests", references: dict[str, Any], variant_probes: VariantProbes | None = None):
        self.course = course
        self.hidden = hidden
        self.references = references
        self.variant_probes = variant_probes  # with the hidden cases' probes, rules most variants out at once
        self.tol = course.tolerance
        self._runs: dict[tuple[str, str, int], _VariantRun] = {}
        self._part_of = {f.name: f.part for f in course.functions}

    # -- variants

    def _run(self, mistake: Mistake, function: str, index: int, fn: Callable, aspects: tuple[str, ...], raises: bool = False) -> "_VariantRun":
        """What one alternative of a variant produces on the hidden cases, computed case by case as asked.

        Most variants disagree with a student at the first case, so the rest are never run.
        """
        key = (mistake.id, function, index)
        if key not in self._runs:
            module = self.references[self._part_of[function]]
            self._runs[key] = _VariantRun(module, fn, aspects, raises, self.hidden.cases[function], self.hidden.expected[function], self.tol)
        return self._runs[key]

    def variant_outputs(self, mistake: Mistake, function: str) -> list[list[tuple[Seen, bool]]]:
        """Per alternative of ``mistake``'s variant for ``function``, per hidden case: (what it produces, differs from the reference)."""
        variant = mistake.recognisers[function]
        assert isinstance(variant, Variant)
        return [list(self._run(mistake, function, i, fn, variant.aspects, variant.raises)) for i, fn in enumerate(variant.alternatives)]

    def _probe_run(self, function: str, fn: Callable, variant: Variant) -> Callable[[], "_VariantRun"]:
        module = self.references[self._part_of[function]]
        probes, answers = self.hidden.probes.get(function, []), self.hidden.probe_answers.get(function, [])
        return lambda: _VariantRun(module, fn, variant.aspects, variant.raises, probes, answers, self.tol)

    def _comparable_probes(self, function: str, variant: Variant, probe_values: list | None) -> bool:
        """Whether the probes can rule this variant out: it returns a result, and the student's probes all returned."""
        probes = getattr(self.hidden, "probes", {}).get(function, [])
        if self.variant_probes is None or not probes or variant.raises or "result" not in variant.aspects:
            return False
        return bool(probe_values) and len(probe_values) == len(probes) and all(v is not None for v in probe_values)

    def _agreeing_on_probes(self, function: str, probe_values: list | None) -> set | None:
        """The (mistake, function, alternative) keys whose probe outputs are the student's, all at once (None: unknown)."""
        comparable = [
            (mistake, recogniser) for mistake, recogniser in recognisers_for(function)
            if isinstance(recogniser, Variant) and self._comparable_probes(function, recogniser, probe_values)
        ]
        if not comparable:
            return None

        def variants() -> dict:
            return {
                (mistake.id, function, index): self._probe_run(function, fn, recogniser)
                for mistake, recogniser in comparable
                for index, fn in enumerate(recogniser.alternatives)
            }

        probes, answers = self.hidden.probes.get(function, []), self.hidden.probe_answers.get(function, [])
        return self.variant_probes.agreeing(function, variants, probe_values, self.tol, self._part_of[function], probes, answers)

    def build_probe_table(self, function: str) -> None:
        """Build ``function``'s table of the catalogue's variants on the probes (or read it from the cache), as the
        first failure of ``function`` in a run would."""
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._agreeing_on_probes(function, list(self.hidden.probe_answers.get(function, [])))

    def _ruled_out_on_probes(self, mistake: Mistake, function: str, index: int, fn: Callable, variant: Variant, probe_values: list | None, agreeing: set | None = None) -> bool:
        """Whether the variant's result on the probes differs from the student's (so it is not their mistake)."""
        if not self._comparable_probes(function, variant, probe_values):
            return False  # the student's probes raised or were not kept: decide on their own cases
        if agreeing is not None:
            return (mistake.id, function, index) not in agreeing
        outputs = self.variant_probes.outputs((mistake.id, function, index), self._probe_run(function, fn, variant))
        return any(out.kind != "value" or not _close(value, out.result, self.tol) for value, out in zip(probe_values, outputs))

    def _variant_matches(self, mistake: Mistake, function: str, variant: Variant, seen: list[Seen], probe_values: list | None = None, agreeing: set | None = None) -> bool:
        for index, fn in enumerate(variant.alternatives):
            if self._ruled_out_on_probes(mistake, function, index, fn, variant, probe_values, agreeing):
                continue
            runs = self._run(mistake, function, index, fn, variant.aspects, variant.raises)
            if len(runs) != len(seen):
                continue
            distinguishing = False
            for student, (mine, differs) in zip(seen, runs):
                if mine.kind == "none":
                    break
                if mine.kind == "raised":
                    if student.kind != "raised" or student.raised != mine.raised:
                        break
                elif student.kind != "value":
                    break
                elif "result" in variant.aspects and not _close(student.result, mine.result, self.tol):
                    break
                elif "args" in variant.aspects and not _close(student.args_after, mine.args_after, self.tol):
                    break
                distinguishing = distinguishing or differs
            else:
                if distinguishing:
                    return True
        return False

    def matches(self, function: str, seen: list[Seen], probe_values: list | None = None) -> list[tuple[Mistake, Variant | Pattern, str]]:
        """Every catalogued mistake whose recogniser for ``function`` agrees with ``seen`` (and ``probe_values``,
        the student's outputs on the probes, when known)."""
        out = []
        cases, expected = self.hidden.cases[function], self.hidden.expected[function]
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                agreeing = self._agreeing_on_probes(function, probe_values)
        except Exception:  # noqa: BLE001 - then each variant is compared on its own
            agreeing = None
        for mistake, recogniser in recognisers_for(function):
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if isinstance(recogniser, Variant):
                        ok, detail = self._variant_matches(mistake, function, recogniser, seen, probe_values, agreeing), ""
                    else:
                        ok, detail = recogniser.check(seen, cases, expected, self.tol)
            except Exception:  # noqa: BLE001 - a recogniser must never stop grading
                ok, detail = False, ""
            if ok:
                out.append((mistake, recogniser, detail))
        return out

    # -- students

    def diagnose(self, student: "StudentResult") -> None:
        """Fill ``diagnoses`` of every function of ``student`` that lost credit."""
        for part in self.course.parts:
            self.diagnose_part(student.functions, part)

    def diagnose_part(self, results: dict, part) -> None:
        """Fill ``diagnoses`` of the functions of ``part`` in ``results`` (name -> FunctionResult) that lost credit."""
        found: dict[str, list[tuple[Mistake, Variant | Pattern, str]]] = {}
        for function in part.functions:
            result = results.get(function.name)
            if result is None or result.passed or result.problem or not result.cases:
                continue
            found[function.name] = self.matches(function.name, [seen_from_outcome(c) for c in result.cases], list(result.probes or []))
        # mistake id -> the functions that make it themselves, for this student
        at_home: dict[str, list[str]] = {}
        for name, hits in found.items():
            for m, _, _ in hits:
                if name in m.homes:
                    at_home.setdefault(m.id, []).append(name)
        for name, hits in found.items():
            results[name].diagnoses = [_diagnosis(m, name, detail, at_home.get(m.id, [])) for m, _, detail in _choose(name, hits, at_home)]


def _choose(function: str, hits, at_home: dict[str, list[str]]):
    """Specific mistakes before general patterns (the first that matches); a mistake made in this function, or
    inherited from one that makes it, before one that is not."""
    specific = [h for h in hits if not h[0].general and not (isinstance(h[1], Variant) and h[1].needs_home and h[0].id not in at_home)]
    if specific:
        explained = [h for h in specific if function in h[0].homes or h[0].id in at_home]
        return explained or specific
    return [h for h in hits if h[0].general][:1]


def _diagnosis(m: Mistake, function: str, detail: str, homes_seen: list[str]) -> Diagnosis:
    inherited = function not in m.homes and not m.general and bool(homes_seen)
    text = m.explanation + (f" {detail}" if detail else "")
    if inherited:
        text += f" (It comes from your {', '.join(f'`{h}`' for h in homes_seen)}.)"
    return Diagnosis(m.id, m.function, m.name, text, detail, inherited)


def diagnose_class(students: Iterable["StudentResult"], course: "Course", hidden: "HiddenTests", references: dict[str, Any]) -> None:
    """Name the recognised mistakes in every student's results (``FunctionResult.diagnoses``).

    Naming a mistake is a courtesy: whatever goes wrong here, grading goes on (without a diagnosis).
    """
    diagnoser = Diagnoser(course, hidden, references)
    for student in students:
        try:
            diagnoser.diagnose(student)
        except Exception:  # noqa: BLE001
            for result in student.functions.values():
                result.diagnoses = []
