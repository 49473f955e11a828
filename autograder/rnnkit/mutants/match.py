"""Matching a failed function against the generated error models, on the probes every student runs.

Every task also runs each function on a few **probe** cases: inputs drawn from a
fixed seed, the same for every student, never scored (:mod:`rnnkit.hidden_tests`).
Because they are common, what each generated mutant returns on them is computed
once per class and cached; matching a student's failed function is then a few
comparisons. A mutant is named only when

* it agrees with the student's outputs on every probe (within the course tolerance)
  and differs from the reference on at least one, and
* it agrees with the student's outputs on the student's own scored cases too, and
* it is (nearly) the only explanation: when changes in several functions, or more than
  two different changes, fit, nothing is named (the feedback's value-free message still
  says where the outputs go wrong); two equivalent changes are both said.

A mutant of another function of the part (``rnn_step_forward`` used by
``rnn_forward``) explains a failure only when the student's own version of that
function failed with the same change: the feedback then says where it comes from.
"""
from __future__ import annotations

import threading
import warnings
from typing import Any, Callable

import numpy as np

from ..worker import calls
from .generate import Mutant, mutants, run

Close = Callable[[Any, Any], bool]


def _call(fn, args: tuple):
    args = calls.copy_value(args)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args)
        except Exception:  # noqa: BLE001 - a change that raises explains nothing
            return None


class GeneratedModels:
    """The mutants of every part, and their outputs on the probe cases (computed once, shared by the class)."""

    def __init__(self, sources: dict[str, str], part_functions: dict[str, list[str]], probes: dict[str, list], probe_answers: dict[str, list]):
        self.sources = sources  # part -> reference code
        self.part_functions = part_functions  # part -> its graded functions, in course order
        self.probes = probes  # function -> probe cases (Case)
        self.probe_answers = probe_answers  # function -> the reference's answers on them
        self._mutants: dict[str, list[Mutant]] = {}
        self._outputs: dict[tuple[str, str], list | None] = {}
        self._lock = threading.Lock()

    def mutants_of(self, part: str) -> list[Mutant]:
        with self._lock:
            if part not in self._mutants:
                self._mutants[part] = mutants(self.sources[part], self.part_functions[part], f"solutions/{part}.py")
            return self._mutants[part]

    def outputs(self, mutant: Mutant, function: str, close: Close) -> list | None:
        """What ``mutant`` returns for ``function`` on its probes; None when it raises or equals the reference."""
        key = (mutant.id, function)
        if key not in self._outputs:
            probes = self.probes.get(function, [])
            found = [run(mutant, function, case.call_args(), _call) for case in probes]
            useless = any(v is None for v in found) or all(close(v, e) for v, e in zip(found, self.probe_answers[function]))
            self._outputs[key] = None if useless or not probes else found
        return self._outputs[key]

    def explain(self, part: str, function: str, seen_probes: list, close: Close, failed: set[str]) -> list[Mutant]:
        """The mutants whose outputs on the probes are the student's (``seen_probes``: their values, in order)."""
        if not seen_probes or any(v is None for v in seen_probes):
            return []
        fitting = []
        for mutant in self.mutants_of(part):
            if mutant.function != function and mutant.function not in failed:
                continue
            produced = self.outputs(mutant, function, close)
            if produced is not None and all(close(s, p) for s, p in zip(seen_probes, produced)):
                fitting.append(mutant)
        return fitting


#: What each operator's change is called in a feedback heading.
OPERATOR_NAMES = {
    "transpose": "a transpose too many or too few",
    "swap": "two things swapped",
    "sign": "a sign flipped",
    "drop": "a term or factor missing",
    "nonlinearity": "the wrong nonlinearity",
    "reduction": "a sum and a mean mixed up",
    "axis": "a reduction over the wrong axis",
    "in_place": "an argument changed in place",
    "off_by_one": "a loop bound off by one",
    "order": "a loop in the wrong direction",
    "time_index": "a time index off by one",
    "neighbour": "a variable from the wrong step",
}


def _agrees_on_own_cases(mutant: Mutant, function: str, cases: list, outcomes: list, close: Close) -> bool:
    """The mutant gives what the student's function gave on every one of their scored cases that returned a value."""
    compared = 0
    for case, outcome in zip(cases, outcomes):
        if outcome.found is None and outcome.args_after is None:
            return False  # a case without a value (it raised, or timed out): this change does not explain it
        produced = run(mutant, function, case.call_args(), _call)
        if produced is None or not close(outcome.found, produced):
            return False
        compared += 1
    return compared > 0


def name_generated(results: dict, part, caseset, models: GeneratedModels, close: Close, is_specific, make, inherit) -> None:
    """Add a diagnosis from the generated models to each failed function of ``part`` that has no specific one.

    ``is_specific(diagnosis)``: whether a diagnosis already there is a specific, catalogued mistake (kept as it is);
    ``make(mutant, function, words, inherited)``: the diagnosis object to add; ``inherit(diagnosis, home)``: a copy of
    the catalogued ``diagnosis`` of the function ``home`` that the failure comes from. A general pattern gives way.
    """
    failed = {name for name, r in results.items() if r.cases and not r.passed and not r.problem and r.function.part == part.name}
    fits: dict[str, list[Mutant]] = {}
    for name in sorted(failed):
        result = results[name]
        candidates = models.explain(part.name, name, result.probes, close, failed)
        fits[name] = [m for m in candidates if _agrees_on_own_cases(m, name, caseset.cases[name], result.cases, close)]
    for name, fitting in fits.items():
        result = results[name]
        if any(is_specific(d) for d in result.diagnoses):
            continue
        own = [m for m in fitting if m.function == name]
        inherited = [m for m in fitting if m.function != name and any(h.id == m.id for h in fits.get(m.function, []))]
        homes = {m.function for m in inherited}
        if not own and len(homes) == 1:
            home = homes.pop()
            known = [d for d in results[home].diagnoses if is_specific(d)]
            if known:  # the change that explains this failure is a catalogued mistake of the function it comes from
                result.diagnoses = [inherit(d, home) for d in known]
                continue
        chosen = own or inherited
        words = list(dict.fromkeys(m.words for m in chosen))
        if not chosen or len({m.function for m in chosen}) != 1 or len(words) > 2:
            continue  # nothing fits, or too many different changes fit: never a wrong name
        result.diagnoses = [make(chosen[0], name, "; or, equally, ".join(words), chosen[0].function != name)]
