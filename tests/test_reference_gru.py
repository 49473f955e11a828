"""The reference solution of part `gru`, checked by routes independent of it.

Hand-worked numbers, limiting cases of the update gate, a forward pass written
here in another way (split weight halves instead of concatenation), and centred
finite differences (written here, not the reference's) for every gradient of
the bonus backward pass.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.content import load_reference
from rnnkit.course import find_root

ref = load_reference(find_root() / "solutions", "gru")

PARAM_KEYS = ("Wz", "bz", "Wr", "br", "Wh", "bh")
GATES = ("z", "r", "h")
LN3 = math.log(3.0)  # sigmoid(ln 3) = 1 / (1 + 1/3) = 3/4 exactly

FEW = settings(max_examples=10, deadline=None)


# --------------------------------------------------------------------------- helpers


def logistic(a):
    """Textbook sigmoid; only for moderate arguments (|a| < 700)."""
    return 1.0 / (1.0 + np.exp(-a))


def make_problem(seed, T=4, D=3, H=5, scale=0.6):
    """Random inputs with non-zero biases and initial state; D != H on purpose."""
    rng = np.random.default_rng(seed)
    params = {}
    for g in GATES:
        params["W" + g] = scale * rng.standard_normal((H, H + D))
        params["b" + g] = scale * rng.standard_normal(H)
    x = rng.standard_normal((T, D))
    h0 = 0.8 * rng.standard_normal(H)
    dh = rng.standard_normal((T, H))
    return x, params, h0, dh


def forward_by_halves(x, params, h0):
    """A GRU written without concatenation: W[:, :H] acts on h, W[:, H:] on x."""
    H = h0.shape[0]

    def halves(g):
        W = params["W" + g]
        return W[:, :H], W[:, H:]

    (Uz, Vz), (Ur, Vr), (Uh, Vh) = halves("z"), halves("r"), halves("h")
    h_prev = h0
    hs = []
    for x_t in x:
        z = logistic(Uz @ h_prev + Vz @ x_t + params["bz"])
        r = logistic(Ur @ h_prev + Vr @ x_t + params["br"])
        cand = np.tanh(Uh @ (r * h_prev) + Vh @ x_t + params["bh"])
        h_prev = h_prev + z * (cand - h_prev)
        hs.append(h_prev)
    return np.array(hs)


def centred_differences(x, params, h0, dh, eps=1e-6):
    """dL/d(every input) for L = sum(dh * h), one entry at a time."""
    inputs = {"x": x, "h0": h0, **params}

    def loss(values):
        p = {k: values[k] for k in PARAM_KEYS}
        return float(np.sum(dh * forward_by_halves(values["x"], p, values["h0"])))

    grads = {}
    for name, value in inputs.items():
        grad = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            plus = {k: v.copy() for k, v in inputs.items()}
            minus = {k: v.copy() for k, v in inputs.items()}
            plus[name][idx] += eps
            minus[name][idx] -= eps
            grad[idx] = (loss(plus) - loss(minus)) / (2 * eps)
        grads[name] = grad
    return grads


def assert_gradients_match(analytic, numeric):
    assert set(analytic) == set(numeric)
    for name, expected in numeric.items():
        found = np.asarray(analytic[name])
        assert found.shape == expected.shape, name
        np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-7, err_msg=name)


# Distinct sizes: D != H, T >= 3.
shapes = st.tuples(st.integers(3, 5), st.integers(1, 5), st.integers(1, 5)).filter(lambda s: s[1] != s[2])


# --------------------------------------------------------------------------- the pasted sigmoid


def test_pasted_sigmoid_is_safe():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ref.sigmoid(np.array([-1000.0, -LN3, 0.0, LN3, 1000.0]))
    np.testing.assert_allclose(out, [0.0, 0.25, 0.5, 0.75, 1.0], rtol=1e-14, atol=0)


# --------------------------------------------------------------------------- gates

# Hand case, H = 2, D = 1:
#   h_prev = [1, -2], x_t = [0.5], [h; x] = [1, -2, 0.5]
#   W = [[1, 0, 2], [0, 1, -4]], b = [0, 1]
#   a = W [h; x] + b = [1 + 0 + 1 + 0, 0 - 2 - 2 + 1] = [2, -3]
# so both gates are [sigma(2), sigma(-3)].
# (Swapped, [x; h] = [0.5, 1, -2] would give a = [0.5 - 4, 1 + 8 + 1] = [-3.5, 10].)
HAND_H = np.array([1.0, -2.0])
HAND_X = np.array([0.5])
HAND_W = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -4.0]])
HAND_B = np.array([0.0, 1.0])


@pytest.mark.parametrize("name", ["update_gate", "reset_gate"])
def test_gates_by_hand(name):
    out = getattr(ref, name)(HAND_H, HAND_X, HAND_W, HAND_B)
    assert out.shape == (2,)
    np.testing.assert_allclose(out, [1 / (1 + math.exp(-2)), 1 / (1 + math.exp(3))], rtol=1e-14)


def test_candidate_by_hand():
    # H = 2, D = 1, h_prev = [1, -2], x_t = [0.5], r_t = [0.5, 1]
    #   [r * h; x] = [0.5, -2, 0.5]
    #   Wh = [[1, 1, 2], [0, 1, -4]], bh = [0, 1]
    #   a = [0.5 - 2 + 1 + 0, 0 - 2 - 2 + 1] = [-0.5, -3]  ->  h~ = [tanh(-0.5), tanh(-3)]
    # (Resetting after the product, PyTorch-style, would give
    #   a_0 = 0.5 * (1 - 2) + 1 = 0.5 instead of -0.5.)
    Wh = np.array([[1.0, 1.0, 2.0], [0.0, 1.0, -4.0]])
    out = ref.candidate_hidden(HAND_H, HAND_X, np.array([0.5, 1.0]), Wh, HAND_B)
    assert out.shape == (2,)
    np.testing.assert_allclose(out, [math.tanh(-0.5), math.tanh(-3.0)], rtol=1e-14)


@pytest.mark.parametrize("name", ["update_gate", "reset_gate"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gates_read_h_first(name, seed):
    """The test inputs tell [h; x] from [x; h], and the gate uses [h; x]."""
    rng = np.random.default_rng(seed)
    H, D = 4, 3
    h, x = rng.standard_normal(H), rng.standard_normal(D)
    W, b = rng.standard_normal((H, H + D)), rng.standard_normal(H)
    right = logistic(W[:, :H] @ h + W[:, H:] @ x + b)
    swapped = logistic(W @ np.concatenate([x, h]) + b)
    assert np.max(np.abs(right - swapped)) > 1e-2  # the inputs genuinely distinguish the halves
    out = getattr(ref, name)(h, x, W, b)
    assert out.shape == (H,)
    np.testing.assert_allclose(out, right, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_candidate_reads_reset_h_first_and_resets_before_the_product(seed):
    rng = np.random.default_rng(seed)
    H, D = 4, 3
    h, x = rng.standard_normal(H), rng.standard_normal(D)
    r = rng.uniform(0.1, 0.9, H)
    W, b = rng.standard_normal((H, H + D)), rng.standard_normal(H)
    right = np.tanh(W[:, :H] @ (r * h) + W[:, H:] @ x + b)
    swapped = np.tanh(W @ np.concatenate([x, r * h]) + b)
    reset_after = np.tanh(r * (W[:, :H] @ h) + W[:, H:] @ x + b)
    assert np.max(np.abs(right - swapped)) > 1e-2
    assert np.max(np.abs(right - reset_after)) > 1e-2
    out = ref.candidate_hidden(h, x, r, W, b)
    assert out.shape == (H,)
    np.testing.assert_allclose(out, right, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------- one step


def test_step_by_hand_update_gate():
    # H = D = 1. Wz = 0, bz = ln 3  ->  z = 3/4. Wh = [[0, 1]] (reads x only), bh = 0
    #   ->  h~ = tanh(0.5) whatever r is. h_prev = 2:
    #   h = (1 - 3/4) * 2 + 3/4 * tanh(0.5) = 0.5 + 0.75 * tanh(0.5)
    # (PyTorch's convention would give 3/4 * 2 + 1/4 * tanh(0.5).)
    params = {
        "Wz": np.zeros((1, 2)), "bz": np.array([LN3]),
        "Wr": np.array([[0.7, -0.2]]), "br": np.array([0.1]),
        "Wh": np.array([[0.0, 1.0]]), "bh": np.array([0.0]),
    }
    h_t = ref.gru_step_forward(np.array([0.5]), np.array([2.0]), params)
    assert h_t.shape == (1,)
    np.testing.assert_allclose(h_t, [0.5 + 0.75 * math.tanh(0.5)], rtol=1e-14)


def test_step_by_hand_reset_gate():
    # H = D = 1. Wz = 0, bz = 0 -> z = 1/2. Wr = 0, br = -ln 3 -> r = 1/4.
    # Wh = [[1, 0]] (reads the reset h only), bh = 0, h_prev = 2:
    #   h~ = tanh(1/4 * 2) = tanh(0.5),  h = 1/2 * 2 + 1/2 * tanh(0.5) = 1 + tanh(0.5) / 2
    params = {
        "Wz": np.zeros((1, 2)), "bz": np.array([0.0]),
        "Wr": np.zeros((1, 2)), "br": np.array([-LN3]),
        "Wh": np.array([[1.0, 0.0]]), "bh": np.array([0.0]),
    }
    h_t = ref.gru_step_forward(np.array([-1.3]), np.array([2.0]), params)
    np.testing.assert_allclose(h_t, [1.0 + math.tanh(0.5) / 2], rtol=1e-14)


# --------------------------------------------------------------------------- forward


@FEW
@given(shapes, st.integers(0, 2**32 - 1))
def test_forward_is_the_iterated_step(shape, seed):
    T, D, H = shape
    x, params, h0, _ = make_problem(seed, T, D, H)
    h = ref.gru_forward(x, params, h0)
    assert h.shape == (T, H)
    h_prev = h0
    for t in range(T):
        h_prev = ref.gru_step_forward(x[t], h_prev, params)
        np.testing.assert_allclose(h[t], h_prev, rtol=1e-12, atol=1e-14)


@FEW
@given(shapes, st.integers(0, 2**32 - 1))
def test_forward_matches_an_independent_implementation(shape, seed):
    T, D, H = shape
    x, params, h0, _ = make_problem(seed, T, D, H)
    np.testing.assert_allclose(ref.gru_forward(x, params, h0), forward_by_halves(x, params, h0),
                               rtol=1e-12, atol=1e-14)


def test_forward_none_means_zeros():
    x, params, _, _ = make_problem(4)
    np.testing.assert_allclose(ref.gru_forward(x, params), forward_by_halves(x, params, np.zeros(5)),
                               rtol=1e-12, atol=1e-14)


def test_small_update_gate_keeps_the_state():
    """z = 0 (very negative bz): h_t = h_{t-1}, so every state is h0."""
    x, params, h0, _ = make_problem(5, T=20)
    params = dict(params, bz=np.full(5, -60.0))
    h = ref.gru_forward(x, params, h0)
    np.testing.assert_allclose(h, np.tile(h0, (20, 1)), rtol=1e-14, atol=1e-15)


def test_large_update_gate_follows_the_candidate():
    """z = 1 (very positive bz): h_t = tanh(Wh [r_t * h_{t-1}; x_t] + bh)."""
    x, params, h0, _ = make_problem(6, T=6)
    params = dict(params, bz=np.full(5, 60.0))
    h = ref.gru_forward(x, params, h0)
    h_prev = h0
    for t in range(6):
        r = logistic(params["Wr"] @ np.concatenate([h_prev, x[t]]) + params["br"])
        expected = np.tanh(params["Wh"] @ np.concatenate([r * h_prev, x[t]]) + params["bh"])
        np.testing.assert_allclose(h[t], expected, rtol=1e-12, atol=1e-14)
        h_prev = expected


def test_saturated_gates_raise_no_warnings():
    x, params, h0, dh = make_problem(7)
    params = {k: (v * 1000 if k[0] == "b" else v) for k, v in params.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = ref.gru_forward(x, params, h0)
        grads = ref.gru_backward(x, params, dh, h0)
    assert np.all(np.isfinite(h))
    assert all(np.all(np.isfinite(g)) for g in grads.values())


# --------------------------------------------------------------------------- backward (bonus)


def test_backward_against_centred_differences():
    x, params, h0, dh = make_problem(8, T=4, D=3, H=5)
    grads = ref.gru_backward(x, params, dh, h0)
    assert_gradients_match(grads, centred_differences(x, params, h0, dh))


@FEW
@given(shapes, st.integers(0, 2**32 - 1))
def test_backward_against_centred_differences_random_shapes(shape, seed):
    T, D, H = shape
    x, params, h0, dh = make_problem(seed, T, D, H)
    grads = ref.gru_backward(x, params, dh, h0)
    assert_gradients_match(grads, centred_differences(x, params, h0, dh))


def test_backward_with_none_initial_state():
    x, params, _, dh = make_problem(9, T=3, D=2, H=4)
    grads = ref.gru_backward(x, params, dh)
    assert_gradients_match(grads, centred_differences(x, params, np.zeros(4), dh))


def test_backward_returns_the_spec_keys_and_shapes():
    x, params, h0, dh = make_problem(10, T=3, D=2, H=4)
    grads = ref.gru_backward(x, params, dh, h0)
    assert isinstance(grads, dict)
    assert set(grads) == {*PARAM_KEYS, "x", "h0"}
    for k in PARAM_KEYS:
        assert np.shape(grads[k]) == params[k].shape, k
    assert np.shape(grads["x"]) == (3, 2)
    assert np.shape(grads["h0"]) == (4,)


def test_gradient_passes_unchanged_when_the_update_gate_is_closed():
    """z = 0 over 50 steps: h_t = h0 for every t, so dL/dh0 = sum_t dh_t exactly."""
    T, H = 50, 5
    x, params, h0, dh = make_problem(11, T=T, D=3, H=H)
    params = dict(params, bz=np.full(H, -60.0))
    grads = ref.gru_backward(x, params, dh, h0)
    np.testing.assert_allclose(grads["h0"], dh.sum(axis=0), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- purity


def test_no_function_modifies_its_arguments():
    x, params, h0, dh = make_problem(12)
    originals = {"x": x.copy(), "h0": h0.copy(), "dh": dh.copy()}
    param_copies = {k: v.copy() for k, v in params.items()}
    param_ids = {k: id(v) for k, v in params.items()}
    r = np.full(5, 0.3)

    ref.update_gate(h0, x[0], params["Wz"], params["bz"])
    ref.reset_gate(h0, x[0], params["Wr"], params["br"])
    ref.candidate_hidden(h0, x[0], r, params["Wh"], params["bh"])
    ref.gru_step_forward(x[0], h0, params)
    ref.gru_forward(x, params, h0)
    ref.gru_forward(x, params)
    ref.gru_backward(x, params, dh, h0)
    ref.gru_backward(x, params, dh)

    np.testing.assert_array_equal(r, np.full(5, 0.3))
    for name, value in {"x": x, "h0": h0, "dh": dh}.items():
        np.testing.assert_array_equal(value, originals[name], err_msg=name)
    assert set(params) == set(PARAM_KEYS)
    for k in PARAM_KEYS:
        assert id(params[k]) == param_ids[k], k
        np.testing.assert_array_equal(params[k], param_copies[k], err_msg=k)


def test_returned_arrays_are_not_the_inputs():
    """Results must not alias the arguments (mutating a result must not change an input)."""
    x, params, h0, dh = make_problem(13, T=3)
    grads = ref.gru_backward(x, params, dh, h0)
    for k in PARAM_KEYS:
        assert not np.shares_memory(grads[k], params[k])
    assert not np.shares_memory(ref.gru_forward(x, params, h0), h0)
