"""Comparison: float32 and equal reorderings pass, errors of 1e-3 relative fail, messages say what differs."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.compare import agrees, changed_arguments, compare
from rnnkit.course import Tolerance

TOL = Tolerance(rtol=1e-4, atol=1e-5)
DIMS = {"T": 6, "D": 4, "H": 5, "K": 3}


@pytest.fixture
def expected():
    return np.random.default_rng(0).normal(size=(6, 5)) * np.logspace(-3, 2, 5)


def test_float32_and_another_order_of_operations_pass(expected):
    assert compare(expected.astype(np.float32), expected, TOL).passed
    assert compare((expected * 3.0) / 3.0 + 0.0, expected, TOL).passed


@pytest.mark.parametrize("relative", [1e-3, 1e-2, 1.0])
def test_an_error_of_1e_3_relative_fails(expected, relative):
    wrong = expected.copy()
    wrong[2, 4] *= 1 + relative  # the largest-scale column
    verdict = compare(wrong, expected, TOL, DIMS)
    assert not verdict.passed
    assert "1 of 30 entries are wrong" in verdict.message and "at `[2, 4]`" in verdict.message
    assert "at [2, 4]" in compare(wrong, expected, TOL, DIMS, exact=True).message


def test_shapes_are_named_by_axis(expected):
    verdict = compare(expected.T, expected, TOL, DIMS)
    assert verdict.message == "expected shape (6, 5) [T, H]; found shape (5, 6) [H, T]."


def test_structure_messages():
    s, o = np.zeros((6, 5)), np.full((6, 3), 1 / 3)
    assert compare([s, o], (s, o), TOL).passed  # a list unpacks like a tuple
    assert "expected a tuple of 2 items; found 3 items" in compare((s, o, o), (s, o), TOL).message
    assert "`o` (item 1)" in compare((s, o * 2), (s, o), TOL, item_names=("s", "o")).message
    assert "has no key(s) 'W'" in compare({"U": s}, {"U": s, "W": s}, TOL).message
    assert compare({"U": s, "extra": 1}, {"U": s}, TOL).passed


def test_numbers_and_types():
    assert compare(np.array(2.0), 2.0, TOL).passed and compare(np.float32(2.0), 2.0, TOL).passed and compare(2, 2.0, TOL).passed
    assert "booleans" in compare(np.array([True, False]), np.array([1.0, 0.0]), TOL).message
    assert "expected a single number (a float); found an array of shape (1,)" in compare(np.array([2.0]), 2.0, TOL).message
    nan = compare(np.array([1.0, np.nan, np.inf]), np.ones(3), TOL).message
    assert "non-finite values (inf and nan) at 2 of 3 entries, first at [1]" in nan


def test_changed_arguments_are_named_and_one_ulp_is_forgiven():
    x = np.linspace(-1, 1, 5)
    drift = x + np.spacing(x)  # restoring x[i] by adding and subtracting eps can leave this
    assert changed_arguments("numerical_gradient", (print, x, 1e-5), (drift, 1e-5)) == []
    moved = x.copy()
    moved[2] += 1e-5
    assert changed_arguments("numerical_gradient", (print, x, 1e-5), (moved, 1e-5)) == ["`x`"]
    params = {"Wf": np.eye(2), "bf": np.zeros(2)}
    after = {"Wf": np.eye(2) * 2, "bf": np.zeros(2)}
    assert changed_arguments("lstm_forward", (np.zeros((3, 2)), params), (np.zeros((3, 2)), after)) == ["`params['Wf']`"]


# --------------------------------------------------------------------------- the quick predicate

_SHAPES = st.sampled_from([(), (3,), (2, 3), (3, 2)])


@st.composite
def _answer_pairs(draw):
    """(found, expected): an answer and another near it, off by a little or a lot, or of another kind."""
    shape = draw(_SHAPES)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    expected = rng.normal(size=shape) * 10.0 ** draw(st.integers(-6, 3))
    change = draw(st.sampled_from(["same", "float32", "tiny", "edge", "large", "nan", "inf", "shape", "bool", "int", "scalar", "list", "none"]))
    found = {
        "same": lambda: expected.copy(),
        "float32": lambda: expected.astype(np.float32),
        "tiny": lambda: expected * (1 + 1e-6 * rng.normal(size=shape)),
        "edge": lambda: expected + (TOL.rtol * np.abs(expected) + TOL.atol * max(1.0, float(np.max(np.abs(expected), initial=0)))) * rng.choice([0.99, 1.01]),
        "large": lambda: expected * (1 + 1e-2 * rng.normal(size=shape)),
        "nan": lambda: np.where(rng.random(shape) < 0.5, np.nan, expected),
        "inf": lambda: np.full(shape, np.inf),
        "shape": lambda: np.zeros(shape + (1,)),
        "bool": lambda: np.ones(shape, dtype=bool),
        "int": lambda: np.round(expected).astype(int),
        "scalar": lambda: float(np.sum(expected)),
        "list": lambda: np.asarray(expected).tolist(),
        "none": lambda: None,
    }[change]()
    wrap = draw(st.sampled_from(["plain", "tuple", "dict"]))
    if wrap == "tuple":
        return (found, 1.0), (expected, 1.0)
    if wrap == "dict":
        return {"a": found, "extra": 0}, {"a": expected}
    return found, expected


@settings(max_examples=400, deadline=None)
@given(_answer_pairs())
def test_the_quick_predicate_agrees_with_compare(pair):
    found, expected = pair
    assert agrees(found, expected, TOL) == compare(found, expected, TOL).passed


def test_one_row_too_many_reads_as_t_plus_1_even_when_it_equals_another_size():
    dims = {"T": 8, "D": 4, "H": 3, "K": 9}
    extra_row = compare(np.zeros((9, 3)), np.zeros((8, 3)) + 1.0, TOL, dims)
    assert extra_row.message == "expected shape (8, 3) [T, H]; found shape (9, 3) [T + 1, H]."
    assert compare(np.zeros((7, 3)), np.ones((8, 3)), TOL, dims).message.endswith("found shape (7, 3) [T - 1, H].")
    assert compare(np.zeros((8, 4)), np.ones((8, 3)), TOL, dims).message.endswith("found shape (8, 4) [T, D].")  # D, not H + 1
