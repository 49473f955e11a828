"""The reference solution of part `lstm`, checked by routes independent of it.

Hand-worked numbers, identities, a forward pass written here in another way
(split weight halves instead of concatenation), and centred finite differences
(written here, not the reference's) for every gradient of the bonus backward pass.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnnkit.content import load_reference
from rnnkit.course import find_root

ref = load_reference(find_root() / "solutions", "lstm")

PARAM_KEYS = ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")
GATES = ("f", "i", "c", "o")
LN3 = math.log(3.0)  # sigmoid(ln 3) = 1 / (1 + 1/3) = 3/4 exactly

FEW = settings(max_examples=10, deadline=None)


# --------------------------------------------------------------------------- helpers


def logistic(a):
    """Textbook sigmoid; only for moderate arguments (|a| < 700)."""
    return 1.0 / (1.0 + np.exp(-a))


def make_problem(seed, T=4, D=3, H=5, scale=0.6):
    """Random inputs with non-zero biases and initial states; D != H on purpose."""
    rng = np.random.default_rng(seed)
    params = {}
    for g in GATES:
        params["W" + g] = scale * rng.standard_normal((H, H + D))
        params["b" + g] = scale * rng.standard_normal(H)
    x = rng.standard_normal((T, D))
    h0 = 0.8 * rng.standard_normal(H)
    c0 = rng.standard_normal(H)
    dh = rng.standard_normal((T, H))
    return x, params, h0, c0, dh


def forward_by_halves(x, params, h0, c0):
    """An LSTM written without concatenation: W[:, :H] acts on h, W[:, H:] on x."""
    H = h0.shape[0]

    def pre(g, h, x_t):
        W = params["W" + g]
        return W[:, :H] @ h + W[:, H:] @ x_t + params["b" + g]

    h_prev, c_prev = h0, c0
    hs, cs = [], []
    for x_t in x:
        f = logistic(pre("f", h_prev, x_t))
        i = logistic(pre("i", h_prev, x_t))
        g = np.tanh(pre("c", h_prev, x_t))
        o = logistic(pre("o", h_prev, x_t))
        c_prev = f * c_prev + i * g
        h_prev = o * np.tanh(c_prev)
        hs.append(h_prev)
        cs.append(c_prev)
    return np.array(hs), np.array(cs)


def centred_differences(x, params, h0, c0, dh, eps=1e-6):
    """dL/d(every input) for L = sum(dh * h), one entry at a time."""
    inputs = {"x": x, "h0": h0, "c0": c0, **params}

    def loss(values):
        p = {k: values[k] for k in PARAM_KEYS}
        h, _ = forward_by_halves(values["x"], p, values["h0"], values["c0"])
        return float(np.sum(dh * h))

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


# --------------------------------------------------------------------------- sigmoid


def test_sigmoid_hand_values():
    assert float(ref.sigmoid(0.0)) == 0.5
    assert math.isclose(float(ref.sigmoid(LN3)), 0.75, rel_tol=1e-14)
    assert math.isclose(float(ref.sigmoid(-LN3)), 0.25, rel_tol=1e-14)
    # 1 / (1 + e^-2) = 0.8807970779778823
    assert math.isclose(float(ref.sigmoid(2.0)), 0.8807970779778823, rel_tol=1e-14)


def test_sigmoid_keeps_shape():
    z = np.arange(-6.0, 6.0).reshape(3, 4)
    out = ref.sigmoid(z)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, logistic(z), rtol=1e-14)


def test_sigmoid_extremes_are_finite_and_exact_without_warnings():
    z = np.array([-1000.0, -745.0, -700.0, 0.0, 700.0, 745.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ref.sigmoid(z)
        lo, hi = float(ref.sigmoid(-1000.0)), float(ref.sigmoid(1000.0))
    assert np.all(np.isfinite(out))
    assert hi == 1.0 and lo == 0.0  # e^-1000 underflows float64: 0 is the exact rounding
    assert out[-1] == 1.0 and out[0] == 0.0
    # sigma(-700) = e^-700 / (1 + e^-700) = e^-700 to double precision
    assert math.isclose(out[2], math.exp(-700.0), rel_tol=1e-12)
    assert out[3] == 0.5


@FEW
@given(hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-1000, 1000)))
def test_sigmoid_symmetry(z):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(ref.sigmoid(-z), 1.0 - ref.sigmoid(z), rtol=0, atol=1e-15)


@FEW
@given(st.lists(st.floats(-700, 700), min_size=1, max_size=8))
def test_sigmoid_matches_the_definition(values):
    expected = [1.0 / (1.0 + math.exp(-v)) for v in values]  # math.exp is exact and finite here
    np.testing.assert_allclose(ref.sigmoid(np.array(values)), expected, rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- gates

# Hand case, H = 2, D = 1:
#   h_prev = [1, -2], x_t = [0.5], [h; x] = [1, -2, 0.5]
#   W = [[1, 0, 2], [0, 1, -4]], b = [0, 1]
#   a = W [h; x] + b = [1 + 0 + 1 + 0, 0 - 2 - 2 + 1] = [2, -3]
# so a sigmoid gate is [sigma(2), sigma(-3)] and the candidate [tanh(2), tanh(-3)].
# (Swapped, [x; h] = [0.5, 1, -2] would give a = [0.5 - 4, 1 + 8 + 1] = [-3.5, 10].)
HAND_H = np.array([1.0, -2.0])
HAND_X = np.array([0.5])
HAND_W = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -4.0]])
HAND_B = np.array([0.0, 1.0])
SIG_2, SIG_M3 = 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(3))

GATE_FUNCTIONS = [
    ("forget_gate", (SIG_2, SIG_M3)),
    ("input_gate", (SIG_2, SIG_M3)),
    ("candidate_cell", (math.tanh(2), math.tanh(-3))),
    ("output_gate", (SIG_2, SIG_M3)),
]


@pytest.mark.parametrize("name, expected", GATE_FUNCTIONS)
def test_gates_by_hand(name, expected):
    out = getattr(ref, name)(HAND_H, HAND_X, HAND_W, HAND_B)
    assert out.shape == (2,)
    np.testing.assert_allclose(out, expected, rtol=1e-14)


@pytest.mark.parametrize("name, squash", [
    ("forget_gate", logistic), ("input_gate", logistic), ("candidate_cell", np.tanh), ("output_gate", logistic),
])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gates_read_h_first(name, squash, seed):
    """The test inputs tell [h; x] from [x; h], and the gate uses [h; x]."""
    rng = np.random.default_rng(seed)
    H, D = 4, 3
    h, x = rng.standard_normal(H), rng.standard_normal(D)
    W, b = rng.standard_normal((H, H + D)), rng.standard_normal(H)
    right = squash(W[:, :H] @ h + W[:, H:] @ x + b)
    swapped = squash(W @ np.concatenate([x, h]) + b)
    assert np.max(np.abs(right - swapped)) > 1e-2  # the inputs genuinely distinguish the halves
    out = getattr(ref, name)(h, x, W, b)
    assert out.shape == (H,)
    np.testing.assert_allclose(out, right, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------- one step


def test_step_by_hand():
    # H = D = 1. All weights zero except Wc = [[0, 1]] (reads x only):
    #   f = sigma(ln 3) = 3/4, i = sigma(0) = 1/2, C~ = tanh(0.5), o = sigma(-ln 3) = 1/4
    #   c = 3/4 * 2 + 1/2 * tanh(0.5) = 1.5 + tanh(0.5) / 2
    #   h = 1/4 * tanh(c)
    zero = np.zeros((1, 2))
    params = {
        "Wf": zero, "bf": np.array([LN3]),
        "Wi": zero, "bi": np.array([0.0]),
        "Wc": np.array([[0.0, 1.0]]), "bc": np.array([0.0]),
        "Wo": zero, "bo": np.array([-LN3]),
    }
    h_t, c_t = ref.lstm_step_forward(np.array([0.5]), np.array([-0.3]), np.array([2.0]), params)
    c_expected = 1.5 + math.tanh(0.5) / 2
    np.testing.assert_allclose(c_t, [c_expected], rtol=1e-14)
    np.testing.assert_allclose(h_t, [0.25 * math.tanh(c_expected)], rtol=1e-14)


def test_step_by_hand_with_h_and_x():
    # H = 1, D = 1, every weight [[1, -1]] acting on [h; x] = [0.8, 0.3], every bias 0:
    #   every pre-activation is 0.8 - 0.3 = 0.5 (swapped, [x; h] would give -0.5), so
    #   f = i = o = sigma(0.5), C~ = tanh(0.5),
    #   c = sigma(0.5) * (-2) + sigma(0.5) * tanh(0.5), h = sigma(0.5) * tanh(c).
    W = np.array([[1.0, -1.0]])
    params = {k: (W if k[0] == "W" else np.zeros(1)) for k in PARAM_KEYS}
    h_t, c_t = ref.lstm_step_forward(np.array([0.3]), np.array([0.8]), np.array([-2.0]), params)
    s = 1 / (1 + math.exp(-0.5))
    c_expected = s * -2.0 + s * math.tanh(0.5)
    np.testing.assert_allclose(c_t, [c_expected], rtol=1e-14)
    np.testing.assert_allclose(h_t, [s * math.tanh(c_expected)], rtol=1e-14)


def test_step_returns_two_vectors():
    x, params, h0, c0, _ = make_problem(3)
    out = ref.lstm_step_forward(x[0], h0, c0, params)
    assert isinstance(out, tuple) and len(out) == 2
    assert out[0].shape == (5,) and out[1].shape == (5,)


# --------------------------------------------------------------------------- forward


@FEW
@given(shapes, st.integers(0, 2**32 - 1))
def test_forward_is_the_iterated_step(shape, seed):
    T, D, H = shape
    x, params, h0, c0, _ = make_problem(seed, T, D, H)
    h, c = ref.lstm_forward(x, params, h0, c0)
    assert h.shape == (T, H) and c.shape == (T, H)
    h_prev, c_prev = h0, c0
    for t in range(T):
        h_prev, c_prev = ref.lstm_step_forward(x[t], h_prev, c_prev, params)
        np.testing.assert_allclose(h[t], h_prev, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(c[t], c_prev, rtol=1e-12, atol=1e-14)


@FEW
@given(shapes, st.integers(0, 2**32 - 1))
def test_forward_matches_an_independent_implementation(shape, seed):
    T, D, H = shape
    x, params, h0, c0, _ = make_problem(seed, T, D, H)
    h, c = ref.lstm_forward(x, params, h0, c0)
    h_expected, c_expected = forward_by_halves(x, params, h0, c0)
    np.testing.assert_allclose(h, h_expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c, c_expected, rtol=1e-12, atol=1e-14)


def test_forward_none_means_zeros():
    x, params, h0, c0, _ = make_problem(4)
    zeros = np.zeros(5)
    for given_h0, given_c0, h_init, c_init in [
        (None, None, zeros, zeros), (h0, None, h0, zeros), (None, c0, zeros, c0),
    ]:
        h, c = ref.lstm_forward(x, params, given_h0, given_c0)
        h_expected, c_expected = forward_by_halves(x, params, h_init, c_init)
        np.testing.assert_allclose(h, h_expected, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(c, c_expected, rtol=1e-12, atol=1e-14)


def test_open_forget_gate_and_closed_input_gate_carry_the_cell():
    """f = 1, i = 0: the conveyor belt carries c0 unchanged through every step."""
    x, params, h0, c0, _ = make_problem(5, T=20)
    params = dict(params, bf=np.full(5, 60.0), bi=np.full(5, -60.0))
    h, c = ref.lstm_forward(x, params, h0, c0)
    np.testing.assert_allclose(c, np.tile(c0, (20, 1)), rtol=1e-14, atol=1e-15)
    # and h_t = o_t * tanh(c0), with o_t read from the previous h
    h_prev = h0
    for t in range(20):
        o = logistic(params["Wo"] @ np.concatenate([h_prev, x[t]]) + params["bo"])
        np.testing.assert_allclose(h[t], o * np.tanh(c0), rtol=1e-12, atol=1e-14)
        h_prev = h[t]


def test_closed_forget_gate_and_open_input_gate_forget_the_cell():
    """f = 0, i = 1: c_t is the candidate, whatever c0 was."""
    x, params, h0, c0, _ = make_problem(6)
    params = dict(params, bf=np.full(5, -60.0), bi=np.full(5, 60.0))
    _, c_a = ref.lstm_forward(x, params, h0, c0)
    _, c_b = ref.lstm_forward(x, params, h0, -3 * c0)
    np.testing.assert_allclose(c_a, c_b, rtol=1e-14, atol=1e-15)
    expected = np.tanh(params["Wc"] @ np.concatenate([h0, x[0]]) + params["bc"])
    np.testing.assert_allclose(c_a[0], expected, rtol=1e-12)


def test_saturated_gates_raise_no_warnings():
    x, params, h0, c0, dh = make_problem(7)
    params = {k: (v * 1000 if k[0] == "b" else v) for k, v in params.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h, c = ref.lstm_forward(x, params, h0, c0)
        grads = ref.lstm_backward(x, params, dh, h0, c0)
    assert np.all(np.isfinite(h)) and np.all(np.isfinite(c))
    assert all(np.all(np.isfinite(g)) for g in grads.values())


# --------------------------------------------------------------------------- backward (bonus)


def test_backward_against_centred_differences():
    x, params, h0, c0, dh = make_problem(8, T=4, D=3, H=5)
    grads = ref.lstm_backward(x, params, dh, h0, c0)
    assert_gradients_match(grads, centred_differences(x, params, h0, c0, dh))


@FEW
@given(shapes, st.integers(0, 2**32 - 1))
def test_backward_against_centred_differences_random_shapes(shape, seed):
    T, D, H = shape
    x, params, h0, c0, dh = make_problem(seed, T, D, H)
    grads = ref.lstm_backward(x, params, dh, h0, c0)
    assert_gradients_match(grads, centred_differences(x, params, h0, c0, dh))


def test_backward_with_none_initial_states():
    x, params, _, _, dh = make_problem(9, T=3, D=2, H=4)
    zeros = np.zeros(4)
    grads = ref.lstm_backward(x, params, dh)
    assert_gradients_match(grads, centred_differences(x, params, zeros, zeros, dh))


def test_backward_returns_the_spec_keys_and_shapes():
    x, params, h0, c0, dh = make_problem(10, T=3, D=2, H=4)
    grads = ref.lstm_backward(x, params, dh, h0, c0)
    assert isinstance(grads, dict)
    assert set(grads) == {*PARAM_KEYS, "x", "h0", "c0"}
    for k in PARAM_KEYS:
        assert np.shape(grads[k]) == params[k].shape, k
    assert np.shape(grads["x"]) == (3, 2)
    assert np.shape(grads["h0"]) == (4,) and np.shape(grads["c0"]) == (4,)


def test_gradient_rides_the_conveyor_belt():
    """f = 1, i = 0 over 50 steps: the gradient reaching c0 from the last step does not decay.

    c_t = c0 for every t. With the output gate blind to h (its h columns zero), the only
    route from c0 to L = h_{T-1} . 1 is the belt, so dL/dc0 = o_{T-1} * (1 - tanh(c0)^2).
    """
    T, H = 50, 5
    x, params, h0, c0, _ = make_problem(11, T=T, D=3, H=H)
    Wo = params["Wo"].copy()
    Wo[:, :H] = 0.0
    params = dict(params, bf=np.full(H, 60.0), bi=np.full(H, -60.0), Wo=Wo)
    dh = np.zeros((T, H))
    dh[-1] = 1.0
    h, _ = forward_by_halves(x, params, h0, c0)
    o_last = logistic(params["Wo"] @ np.concatenate([h[-2], x[-1]]) + params["bo"])
    grads = ref.lstm_backward(x, params, dh, h0, c0)
    np.testing.assert_allclose(grads["c0"], o_last * (1 - np.tanh(c0) ** 2), rtol=1e-10)


# --------------------------------------------------------------------------- purity


def test_no_function_modifies_its_arguments():
    x, params, h0, c0, dh = make_problem(12)
    originals = {"x": x.copy(), "h0": h0.copy(), "c0": c0.copy(), "dh": dh.copy()}
    param_copies = {k: v.copy() for k, v in params.items()}
    param_ids = {k: id(v) for k, v in params.items()}
    z = np.linspace(-5, 5, 7)
    z_copy = z.copy()

    ref.sigmoid(z)
    for g, name in zip(GATES, ("forget_gate", "input_gate", "candidate_cell", "output_gate")):
        getattr(ref, name)(h0, x[0], params["W" + g], params["b" + g])
    ref.lstm_step_forward(x[0], h0, c0, params)
    ref.lstm_forward(x, params, h0, c0)
    ref.lstm_forward(x, params)
    ref.lstm_backward(x, params, dh, h0, c0)
    ref.lstm_backward(x, params, dh)

    np.testing.assert_array_equal(z, z_copy)
    for name, value in {"x": x, "h0": h0, "c0": c0, "dh": dh}.items():
        np.testing.assert_array_equal(value, originals[name], err_msg=name)
    assert set(params) == set(PARAM_KEYS)
    for k in PARAM_KEYS:
        assert id(params[k]) == param_ids[k], k
        np.testing.assert_array_equal(params[k], param_copies[k], err_msg=k)


def test_returned_arrays_are_not_the_inputs():
    """Results must not alias the arguments (mutating a result must not change an input)."""
    x, params, h0, c0, dh = make_problem(13, T=3)
    grads = ref.lstm_backward(x, params, dh, h0, c0)
    for k in PARAM_KEYS:
        assert not np.shares_memory(grads[k], params[k])
    h, c = ref.lstm_forward(x, params, h0, c0)
    assert not np.shares_memory(h, h0) and not np.shares_memory(c, c0)
