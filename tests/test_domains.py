"""The hidden cases cover each function's whole input domain, and arrays returned in place of copies are caught."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnnkit.cases import DEFAULT_SEED, cases_for
from rnnkit.spec import API, DOMAINS
from rnnkit.worker import calls

from .conftest import reference_source

ALL_FUNCTIONS = [f for part in API.values() for f in part]


@pytest.mark.parametrize("function", sorted(DOMAINS))
@pytest.mark.parametrize("seed", [DEFAULT_SEED, 1, 987654321])
def test_the_hidden_cases_cover_every_combination_of_the_domain(function, seed):
    axes = DOMAINS[function]
    covered = {tuple(case.point.get(axis, "missing") for axis in axes) for case in cases_for(function, seed)}
    wanted = set(itertools.product(*axes.values()))
    assert wanted <= covered, f"{function}: not covered {sorted(map(str, wanted - covered))}"


@pytest.mark.parametrize("function", sorted(DOMAINS))
def test_each_case_states_its_point_truthfully(function):
    """The point a case claims is what its arguments are (an argument given or None, the rank of x)."""
    names = API[next(p for p, fns in API.items() if function in fns)][function]
    for case in cases_for(function, DEFAULT_SEED):
        args = dict(zip(names, case.args))
        for axis, value in case.point.items():
            if axis in ("s0", "h0", "c0"):
                assert (args.get(axis) is not None) == (value == "given"), (function, case.about)
            elif axis == "rank":
                array = args.get("x", args.get("z"))
                assert np.ndim(array) == value, (function, case.about)
            elif axis == "eps":
                assert ("eps" in args) == (value == "given"), (function, case.about)
            elif axis == "bptt_truncate":
                truncate = args.get("bptt_truncate")
                expected = None if truncate is None else 0 if truncate == 0 else ">= T" if truncate >= len(args["x"]) else "small"
                assert expected == value, (function, case.about)


def _leaves(value, path=""):
    if isinstance(value, dict):
        for key in value:
            yield from _leaves(value[key], f"{path}[{key!r}]")
    elif isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    else:
        yield path, np.asarray(value, dtype=float)


@pytest.mark.parametrize("seed", [DEFAULT_SEED, 1, 2, 3, 987654321])
def test_every_hidden_answer_stands_far_above_the_absolute_tolerance(seed, course, references):
    """An answer whose entries are all within atol of 0 is passed by any output near 0 (a sign flip, a dropped term)."""
    floor = 100 * course.tolerance.atol
    for part in course.parts:
        for function in part.functions:
            for number, case in enumerate(cases_for(function.name, seed), start=1):
                answer = getattr(references[part.name], function.name)(*calls.copy_value(case.call_args()))
                for path, array in _leaves(answer):
                    largest = float(np.max(np.abs(array), initial=0.0))
                    assert largest > floor, f"{function.name} case {number} ({case.about}){path}: largest |entry| {largest:.2g}"


def test_aliases_name_the_returned_arrays_that_are_arguments():
    grads = {"U": np.ones((2, 3)), "W": np.ones((2, 2))}
    assert calls.aliases({"U": grads["U"], "W": grads["W"].copy()}, (grads, 1.0)) == ["['U']=[0]['U']"]
    assert calls.aliases({"U": grads["U"][:1]}, (grads, 1.0)) == ["['U']=[0]['U']"]  # a view is the caller's memory too
    assert calls.aliases({k: v * 1.0 for k, v in grads.items()}, (grads, 1.0)) == []


def test_clip_returning_the_callers_own_arrays_loses_credit(grade, course):
    source = reference_source(course, "bptt")
    aliasing = source + (
        "\n\ndef clip_gradient_norm(grads, max_norm):\n"
        "    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))\n"
        "    if norm <= max_norm:\n"
        "        return dict(grads)  # a new dict, but the caller's own arrays\n"
        "    return {k: g * (max_norm / norm) for k, g in grads.items()}\n"
    )
    results = grade({"copies": {"bptt.py": source}, "aliases": {"bptt.py": aliasing}}, seed=3)
    assert results["copies"].functions["clip_gradient_norm"].passed
    clip = results["aliases"].functions["clip_gradient_norm"]
    assert 0 < clip.score < clip.function.points
    assert any("returned the array it was given (`grads['U']`" in c.message for c in clip.cases)


def test_a_shape_error_is_said_in_the_functions_own_sizes(grade, course):
    """Exceptions explained: the sizes an error mentions are named (T, D, H, K) for the case that raised it."""
    row_vector = (
        "import numpy as np\n\n"
        "def rnn_step_forward(x_t, s_prev, U, W):\n"
        "    return np.tanh(x_t @ U + s_prev @ W)\n"
    )
    result = grade({"s": {"rnn_forward.py": row_vector}}, seed=4)["s"].functions["rnn_step_forward"]
    message = result.cases[0].message
    assert "in this case T = " in message and " is D" in message, message
