"""Part rnn_forward: the reference checked by hand-computed cases, identities and properties."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays


@pytest.fixture(scope="module")
def ref(references):
    return references["rnn_forward"]


def test_softmax_hand_computed(ref):
    # e^0 : e^{ln 2} : e^{ln 3} = 1 : 2 : 3
    np.testing.assert_allclose(ref.softmax(np.array([0.0, math.log(2), math.log(3)])), [1 / 6, 2 / 6, 3 / 6], rtol=1e-14)
    np.testing.assert_allclose(ref.softmax(np.array([1000.0, 1000.0])), [0.5, 0.5], rtol=1e-15)
    np.testing.assert_allclose(ref.softmax(np.array([-1000.0, 0.0])), [0.0, 1.0], atol=1e-300)


logits = arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 7)), elements=st.floats(-1000, 1000))


@settings(max_examples=60, deadline=None)
@given(z=logits)
def test_softmax_rows_are_distributions_even_at_1000(ref, z):
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        p = ref.softmax(z)
    assert p.shape == z.shape and np.all(np.isfinite(p)) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    # each row is its own distribution: the same as the softmax of that row alone
    for row, expected in zip(z, p):
        np.testing.assert_allclose(ref.softmax(row), expected, rtol=1e-12, atol=1e-300)


@settings(max_examples=40, deadline=None)
@given(z=arrays(np.float64, st.integers(1, 8), elements=st.floats(-50, 50)), c=st.floats(-500, 500))
def test_softmax_ignores_a_constant_shift(ref, z, c):
    np.testing.assert_allclose(ref.softmax(z + c), ref.softmax(z), rtol=1e-9, atol=1e-300)


def test_rnn_step_hand_computed(ref):
    U = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])  # H=3, D=2
    W = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.5, 0.0, 0.0]])
    x = np.array([0.5, -0.25])
    s_prev = np.array([0.2, -1.0, 0.4])
    # U x = [0.5, -0.5, 0.25]; W s_prev = [-1.0, 0, 0.1]
    np.testing.assert_allclose(ref.rnn_step_forward(x, s_prev, U, W), np.tanh([-0.5, -0.5, 0.35]), rtol=1e-15)


def test_rnn_forward_iterates_the_step_from_s0(ref):
    rng = np.random.default_rng(0)
    T, D, H, K = 5, 3, 4, 6
    x, U, W, V = rng.normal(size=(T, D)), rng.normal(size=(H, D)), rng.normal(size=(H, H)), rng.normal(size=(K, H))
    s0 = rng.normal(size=H)
    s, o = ref.rnn_forward(x, U, W, V, s0)
    assert s.shape == (T, H) and o.shape == (T, K)
    prev = s0
    for t in range(T):
        prev = np.tanh(U @ x[t] + W @ prev)
        np.testing.assert_allclose(s[t], prev, rtol=1e-14)
        z = V @ prev
        np.testing.assert_allclose(o[t], np.exp(z) / np.exp(z).sum(), rtol=1e-12)
    s_none, _ = ref.rnn_forward(x, U, W, V)
    np.testing.assert_array_equal(s_none, ref.rnn_forward(x, U, W, V, np.zeros(H))[0])
    assert not np.allclose(s_none, s)


def test_cross_entropy_is_a_sum_over_time(ref):
    o = np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    y = np.array([0, 1, 2])
    loss = ref.cross_entropy_loss(o, y)
    assert isinstance(loss, float)
    assert loss == pytest.approx(-(math.log(0.5) + math.log(0.8) + math.log(0.6)), rel=1e-15)
    # a uniform guess costs T log K
    assert ref.cross_entropy_loss(np.full((4, 5), 0.2), np.array([0, 1, 2, 3])) == pytest.approx(4 * math.log(5))


def test_no_function_modifies_its_arguments(ref):
    rng = np.random.default_rng(1)
    args = [rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), rng.normal(size=(5, 5)), rng.normal(size=(6, 5)), rng.normal(size=5)]
    copies = [a.copy() for a in args]
    s, o = ref.rnn_forward(*args)
    ref.softmax(args[0])
    ref.cross_entropy_loss(o, np.array([0, 1, 2, 3]))
    for a, c in zip(args, copies):
        np.testing.assert_array_equal(a, c)
