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
from .cache import TableCache
from .generate import Mutant, mutants, reached, run

Close = Callable[[Any, Any], bool]


def _call(fn, args: tuple):
    args = calls.copy_value(args)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args)
        except Exception:  # noqa: BLE001 - a change that raises explains nothing
            return None


def flatten(value: Any) -> tuple[tuple, np.ndarray] | None:
    """(structure, every number as one float64 vector): dict keys sorted, items in order; None for anything else."""
    parts: list[np.ndarray] = []

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return ("d", tuple((k, walk(v[k])) for k in sorted(v)))
        if isinstance(v, (tuple, list)):
            return ("t", tuple(walk(x) for x in v))
        array = np.asarray(v)
        if array.dtype.kind not in "biuf":
            raise TypeError
        parts.append(array.astype(float).ravel())
        return ("a", array.shape)

    try:
        structure = walk(value)
    except (TypeError, ValueError):
        return None
    return structure, (np.concatenate(parts) if parts else np.zeros(0))


class OutputTable:
    """Alternatives to the reference (generated mutants, catalogued variants), their outputs on a function's probes
    flattened and stacked as rows, one matrix per structure: matched against a student's all at once.

    Each item has an ``id`` (what :class:`~.cache.TableCache` keeps of it).
    """

    def __init__(self):
        self.rows: dict[tuple, tuple[list, list[np.ndarray]]] = {}

    @classmethod
    def from_kept(cls, kept: list) -> "OutputTable":
        """The table :meth:`kept` gave, read back by :meth:`~.cache.TableCache.load`."""
        table = cls()
        table.rows = {structure: (items, matrix) for structure, items, matrix in kept}
        return table

    def kept(self) -> list:
        """``[(structure, items, matrix)]``, as :meth:`~.cache.TableCache.save` keeps it."""
        return [(structure, items, matrix) for structure, (items, matrix) in self.rows.items()]

    def add(self, item, structure: tuple, flat: np.ndarray) -> None:
        items, vectors = self.rows.setdefault(structure, ([], []))
        items.append(item)
        vectors.append(flat)

    def freeze(self) -> None:
        self.rows = {k: (m, np.vstack(v)) for k, (m, v) in self.rows.items()}  # type: ignore[misc]

    def near(self, structure: tuple, flat: np.ndarray, rtol: float, atol: float, slack: float = 1e-12) -> list:
        """The items whose outputs are within the course tolerance of ``flat`` (a quick first pass), plus ``slack``
        (the catalogue's variants are matched with none: their probe match is evidence, not only a filter)."""
        if structure not in self.rows:
            return []
        mutants_, matrix = self.rows[structure]
        if not np.isfinite(flat).all():
            return []
        magnitude = np.abs(matrix)
        scale = np.maximum(1.0, magnitude.max(axis=1, initial=0.0))[:, None]  # each mutant's own, as the grader's rule
        with np.errstate(over="ignore", invalid="ignore"):
            ok = np.all(np.abs(matrix - flat) <= rtol * magnitude + atol * scale + slack, axis=1)
        return [m for m, good in zip(mutants_, ok) if good]


class GeneratedModels:
    """The mutants of every part, and their outputs on the probe cases (computed once, shared by the class)."""

    def __init__(
        self,
        sources: dict[str, str],
        part_functions: dict[str, list[str]],
        probes: dict[str, list],
        probe_answers: dict[str, list],
        tolerance=None,
        cache_dir=None,
    ):
        self.sources = sources  # part -> reference code
        self.part_functions = part_functions  # part -> its graded functions, in course order
        self.probes = probes  # function -> probe cases (Case)
        self.probe_answers = probe_answers  # function -> the reference's answers on them
        self.rtol, self.atol = (tolerance.rtol, tolerance.atol) if tolerance is not None else (1e-4, 1e-5)
        self._mutants: dict[str, list[Mutant]] = {}
        self._reached = {part: reached(source) for part, source in sources.items()}
        self._tables: dict[str, OutputTable] = {}
        self._lock = threading.Lock()
        self._cache = TableCache(cache_dir, self.rtol, self.atol)  # ``cache_dir`` None: built in every run

    def mutants_of(self, part: str) -> list[Mutant]:
        with self._lock:
            if part not in self._mutants:
                self._mutants[part] = mutants(self.sources[part], self.part_functions[part], f"solutions/{part}.py", part)
            return self._mutants[part]

    def table(self, part: str, function: str, close: Close) -> OutputTable:
        """Every mutant of ``part`` that changes what ``function`` returns on its probes (built once)."""
        candidates = self.mutants_of(part)
        with self._lock:
            if function not in self._tables:
                probes, answers = self.probes.get(function, []), self.probe_answers.get(function, [])
                path = self._cache.path(part, function, self.sources[part], probes, answers)
                kept = self._cache.load(path, {m.id: m for m in candidates})
                if kept is not None:
                    table = OutputTable.from_kept(kept)
                else:
                    table = OutputTable()
                    used = self._reached[part].get(function, {function})
                    for mutant in (m for m in candidates if m.function in used) if probes else []:
                        found = [run(mutant, function, case.call_args(), _call) for case in probes]
                        if any(v is None for v in found) or all(close(v, e) for v, e in zip(found, answers)):
                            continue  # it raises, or it changes nothing here
                        flat = flatten(found)
                        if flat is not None:
                            table.add(mutant, *flat)
                    table.freeze()
                    self._cache.save(path, table.kept())
                self._tables[function] = table
            return self._tables[function]

    def explain(self, part: str, function: str, seen_probes: list, close: Close, failed: set[str]) -> list[Mutant]:
        """The mutants whose outputs on the probes are the student's (``seen_probes``: their values, in order)."""
        seen_probes = seen_probes[: len(self.probes.get(function, []))]  # the ordinary probes (controlled ones follow)
        if not seen_probes or any(v is None for v in seen_probes):
            return []
        flat = flatten(seen_probes)
        if flat is None:
            return []
        near = self.table(part, function, close).near(*flat, self.rtol, self.atol)
        return [m for m in near if m.function == function or m.function in failed]


#: What each operator's change is called in a feedback heading.
OPERATOR_NAMES = {
    "transpose": "a transpose too many or too few",
    "swap": "two things swapped",
    "sign": "a sign flipped",
    "drop": "a term or factor missing",
    "nonlinearity": "the wrong nonlinearity",
    "squashed_twice": "a nonlinearity applied twice",
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
    Only the functions that need it are examined (and the functions their candidates come from).
    """
    failed = {name for name, r in results.items() if r.cases and not r.passed and not r.problem and r.function.part == part.name}
    targets = sorted(name for name in failed if not any(is_specific(d) for d in results[name].diagnoses))
    fits: dict[str, list[Mutant]] = {}

    def fitting(name: str) -> list[Mutant]:
        if name not in fits:
            result = results[name]
            candidates = models.explain(part.name, name, result.probes, close, failed)
            fits[name] = [m for m in candidates if _agrees_on_own_cases(m, name, caseset.cases[name], result.cases, close)]
        return fits[name]

    for name in targets:
        result = results[name]
        found = fitting(name)
        own = [m for m in found if m.function == name]
        inherited = [] if own else [m for m in found if m.function != name and any(h.id == m.id for h in fitting(m.function))]
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
