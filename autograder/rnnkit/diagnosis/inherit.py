"""Inherited failures: does a failed function fail only because a helper of the student's does?

``lstm_step_forward`` calls the student's own ``input_gate``; when that gate is wrong, the step is
wrong too, however right its own lines are. To tell the two apart the grader needs the student's
gate *at the points the step calls it*. Those points are known in advance wherever a call's
arguments come from the function's own arguments (a gate inside a step, a step inside a
sequence of length 1): the reference, run here on each probe of the function with its helpers
wrapped, records them, and they become **dependency probes** of the helper (extra hidden cases,
the same for every student, never scored).

After grading, the reference function is run again on its probes with each *failed* helper
replaced by the student's own outputs on those points (a table; a call at any other point makes
the probe unknown) and each passed helper left as the reference. When the student's function
agrees with that on every probe it can be checked on, and the helper's error shows there, the
failure is inherited. The helpers of a function are found in the reference's code: the graded
functions of the same part that it calls.

No student code runs here: the table holds values the sandbox returned.
"""
from __future__ import annotations

import ast
import types
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..cases import Case
from ..worker import calls

#: A probe of a function is used for tracing only when it calls each helper at most this often
#: (a step inside a sequence is called T times; only the T = 1 probe qualifies).
MAX_CALLS = 4


def helpers_of(source: str, functions: list[str]) -> dict[str, tuple[str, ...]]:
    """function -> the graded functions of the same part that the reference of ``function`` calls."""
    tree = ast.parse(source)
    out: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in functions:
            called = {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
            helpers = tuple(f for f in functions if f in called and f != node.name)
            if helpers:
                out[node.name] = helpers
    return out


class Unknown(Exception):
    """A helper was called at a point no dependency probe recorded."""


@dataclass
class Layout:
    """Which dependency probe of which helper each probe of a function calls, in call order."""

    helpers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: function -> probe index -> [(helper, index of the helper's probe), ...] in call order
    calls: dict[str, dict[int, list[tuple[str, int]]]] = field(default_factory=dict)


def _namespace(module: types.ModuleType) -> dict:
    """A copy of ``module``'s namespace whose functions look up globals in the copy."""
    space = dict(vars(module))
    for name, value in vars(module).items():
        if isinstance(value, types.FunctionType) and value.__globals__ is vars(module):
            space[name] = types.FunctionType(value.__code__, space, value.__name__, value.__defaults__, value.__closure__)
    return space


def _quiet(fn: Callable, args: tuple) -> Any:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*calls.copy_value(args))


def record_calls(module: types.ModuleType, function: str, helpers: tuple[str, ...], args: tuple) -> list[tuple[str, tuple, Any]]:
    """(helper, arguments, what the reference helper returned) for every helper call the reference ``function`` makes on ``args``."""
    space = _namespace(module)
    made: list[tuple[str, tuple, Any]] = []
    for helper in helpers:
        def wrapped(*a, original=space[helper], helper=helper):
            given = calls.copy_value(a)
            value = original(*a)
            made.append((helper, given, calls.copy_value(value)))
            return value

        space[helper] = wrapped
    _quiet(space[function], args)
    return made


def add_dependency_probes(module: types.ModuleType, source: str, probes: dict[str, list[Case]]) -> Layout:
    """Record the helper calls of each probe of each function of the part, and append them to the helpers' probes."""
    layout = Layout(helpers_of(source, list(probes)))
    for function, helpers in layout.helpers.items():
        for index, case in enumerate(list(probes[function])):
            try:
                made = record_calls(module, function, helpers, case.call_args())
            except Exception:  # noqa: BLE001 - a probe the reference cannot run traces nothing
                continue
            if not made or any(sum(h == name for h, _, _ in made) > MAX_CALLS for name in helpers):
                continue
            order = []
            for helper, args, _ in made:
                probes[helper].append(Case(helper, args, f"dependency probe (called by {function})", case.dims))
                order.append((helper, len(probes[helper]) - 1))
            layout.calls.setdefault(function, {})[index] = order
    return layout


def _stand_in(module, function: str, failed: dict[str, list[tuple[tuple, Any]]]) -> Callable:
    """The reference ``function`` with each failed helper replaced by a table of the student's outputs (in call order)."""
    space = _namespace(module)
    for helper, table in failed.items():
        queue = list(table)

        def lookup(*args, queue=queue):
            if not queue:
                raise Unknown
            recorded, value = queue.pop(0)
            if value is None or len(recorded) != len(args) or not all(_same(a, b) for a, b in zip(args, recorded)):
                raise Unknown
            return calls.copy_value(value)

        space[helper] = lookup
    return space[function]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and np.allclose(a, b, rtol=1e-12, atol=1e-12)
    return a == b


def inherited_from(function: str, results: dict, probes: dict[str, list[Case]], answers: dict[str, list], layout: Layout,
                   module, close: Callable[[Any, Any], bool]) -> list[str]:
    """The failed helpers whose errors alone explain the failure of ``function`` (empty when they do not)."""
    helpers = [h for h in layout.helpers.get(function, ()) if h in results and not results[h].passed]
    seen = results[function].probes
    if not helpers or not seen:
        return []
    checked, shows = 0, set()
    for index, order in layout.calls.get(function, {}).items():
        if index >= len(seen) or seen[index] is None:
            continue
        tables: dict[str, list] = {h: [] for h in helpers}
        for helper, k in order:
            if helper in tables:
                mine = results[helper].probes
                tables[helper].append((probes[helper][k].args, mine[k] if k < len(mine) else None))
        try:
            value = _quiet(_stand_in(module, function, tables), probes[function][index].call_args())
        except Exception:  # noqa: BLE001 - Unknown, or the student's values do not fit the reference's next lines
            continue
        if not close(seen[index], value):
            return []  # the student's function does something else than the reference would with these helpers
        checked += 1
        if not close(value, answers[function][index]):
            for helper, k in order:
                mine = results[helper].probes if helper in tables else []
                if k < len(mine) and mine[k] is not None and not close(mine[k], answers[helper][k]):
                    shows.add(helper)
    return [h for h in helpers if h in shows] if checked else []
