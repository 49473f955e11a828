"""The reference of part ``bptt``, checked by independent routes.

Every gradient is compared with centred finite differences computed here (not
with the reference's own ``numerical_gradient``). Truncated BPTT is checked
against finite differences of a loss in which the state before the truncation
window is frozen at its unperturbed value: differentiating that loss is, by
construction, "the error of E_t flows back to s_t, ..., s_max(0, t-k) and no
further".
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from rnnkit.content import load_reference
from rnnkit.course import find_root

ref = load_reference(find_root() / "solutions", "bptt")

T, D, H, K = 6, 3, 4, 5  # all different, T >= 3
EPS = 1e-5


# ---------------------------------------------------------------------------
# An independent forward pass and finite differences


def log_softmax(z):
    m = z.max()
    return z - m - np.log(np.exp(z - m).sum())


def forward_states(x, U, W, s0):
    s = np.zeros((len(x), W.shape[0]))
    prev = s0
    for t in range(len(x)):
        prev = np.tanh(U @ x[t] + W @ prev)
        s[t] = prev
    return s


def full_loss(x, y, U, W, V, s0):
    s = forward_states(x, U, W, s0)
    return float(-sum(log_softmax(V @ s[t])[y[t]] for t in range(len(x))))


def truncated_loss(x, y, U, W, V, s0, frozen, tau):
    """sum_t E_t with the path of E_t cut below s_max(0, t-tau).

    The state just before the window, s_{max(0,t-tau)-1}, is taken from
    ``frozen`` (the states of the unperturbed run) or is ``s0``: a constant
    with respect to the parameters. The window's states are recomputed from
    it with the parameters given, so exactly the states s_max(0,t-tau) .. s_t
    carry E_t's dependence on U and W.
    """
    total = 0.0
    for t in range(len(x)):
        first = 0 if tau is None else max(0, t - tau)
        state = s0 if first == 0 else frozen[first - 1]
        for j in range(first, t + 1):
            state = np.tanh(U @ x[j] + W @ state)
        total -= log_softmax(V @ state)[y[t]]
    return float(total)


def fd_gradient(f, a, eps=EPS):
    """Centred differences of a scalar f at an array a, one entry at a time."""
    grad = np.zeros(a.shape)
    for index in np.ndindex(a.shape):
        plus, minus = a.copy(), a.copy()
        plus[index] += eps
        minus[index] -= eps
        grad[index] = (f(plus) - f(minus)) / (2 * eps)
    return grad


def fd_jacobian(g, v, eps=EPS):
    """Centred-difference Jacobian of a vector function g at a vector v: column m is dg/dv_m."""
    columns = []
    for m in range(v.size):
        step = np.zeros_like(v)
        step[m] = eps
        columns.append((g(v + step) - g(v - step)) / (2 * eps))
    return np.stack(columns, axis=1)


def make_problem(seed, T=T, D=D, H=H, K=K, scale=0.6):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, D))
    y = rng.integers(0, K, size=T)
    U = scale * rng.normal(size=(H, D))
    W = scale * rng.normal(size=(H, H))  # not symmetric
    V = scale * rng.normal(size=(K, H))
    s0 = 0.5 * rng.normal(size=H)  # non-zero initial state
    assert not np.allclose(W, W.T)
    return x, y, U, W, V, s0


def expected_gradients(x, y, U, W, V, s0, tau):
    """Finite differences of the (truncated) loss with respect to U, W and V."""
    frozen = forward_states(x, U, W, s0)
    return {
        "U": fd_gradient(lambda P: truncated_loss(x, y, P, W, V, s0, frozen, tau), U),
        "W": fd_gradient(lambda P: truncated_loss(x, y, U, P, V, s0, frozen, tau), W),
        "V": fd_gradient(lambda P: truncated_loss(x, y, U, W, P, s0, frozen, tau), V),
    }


def assert_gradients_close(found, expected):
    assert set(found) == {"U", "W", "V"}
    for name in ("U", "W", "V"):
        assert found[name].shape == expected[name].shape, name
        np.testing.assert_allclose(found[name], expected[name], rtol=1e-6, atol=1e-8, err_msg=name)


# ---------------------------------------------------------------------------
# rnn_backward


@pytest.mark.parametrize("tau", [None, 0, 1, 2, T - 2, T - 1, T, T + 5])
def test_rnn_backward_matches_finite_differences(tau):
    x, y, U, W, V, s0 = make_problem(0)
    found = ref.rnn_backward(x, y, U, W, V, s0, bptt_truncate=tau)
    assert_gradients_close(found, expected_gradients(x, y, U, W, V, s0, tau))


def test_full_bptt_is_the_gradient_of_the_loss():
    # The truncated loss with tau=None is the plain loss; check against it directly too.
    x, y, U, W, V, s0 = make_problem(1)
    found = ref.rnn_backward(x, y, U, W, V, s0)
    expected = {
        "U": fd_gradient(lambda P: full_loss(x, y, P, W, V, s0), U),
        "W": fd_gradient(lambda P: full_loss(x, y, U, P, V, s0), W),
        "V": fd_gradient(lambda P: full_loss(x, y, U, W, P, s0), V),
    }
    assert_gradients_close(found, expected)


def test_truncation_regimes_differ_where_they_should():
    x, y, U, W, V, s0 = make_problem(2)
    grads = {tau: ref.rnn_backward(x, y, U, W, V, s0, bptt_truncate=tau) for tau in (None, 0, 1, 2, T - 2, T - 1, T)}
    # V never goes back through time.
    for tau in grads:
        np.testing.assert_allclose(grads[tau]["V"], grads[None]["V"], rtol=1e-13, atol=1e-15)
    # Every window shorter than the sequence gives a different (approximate) W and U gradient...
    short = [0, 1, 2, T - 2]
    for i, a in enumerate(short):
        for b in short[i + 1:] + [None]:
            assert not np.allclose(grads[a]["W"], grads[b]["W"], rtol=1e-6, atol=1e-9), (a, b)
            assert not np.allclose(grads[a]["U"], grads[b]["U"], rtol=1e-6, atol=1e-9), (a, b)
    # ...and a window of T-1 or more steps is full BPTT.
    for tau in (T - 1, T):
        for name in "UW":
            np.testing.assert_allclose(grads[tau][name], grads[None][name], rtol=1e-13, atol=1e-15)


def test_truncate_zero_by_hand():
    # tau = 0: dE_t/dW = delta_t s_{t-1}^T with delta_t = V^T (o_t - onehot) * (1 - s_t^2), s_{-1} = s0.
    x, y, U, W, V, s0 = make_problem(3)
    s = forward_states(x, U, W, s0)
    dW = np.zeros((H, H))
    dU = np.zeros((H, D))
    for t in range(T):
        e = np.exp(log_softmax(V @ s[t]))
        e[y[t]] -= 1
        delta = (V.T @ e) * (1 - s[t] ** 2)
        dW += np.outer(delta, s[t - 1] if t > 0 else s0)
        dU += np.outer(delta, x[t])
    found = ref.rnn_backward(x, y, U, W, V, s0, bptt_truncate=0)
    np.testing.assert_allclose(found["W"], dW, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(found["U"], dU, rtol=1e-12, atol=1e-14)


def test_rnn_backward_s0_none_means_zeros_and_s0_matters():
    x, y, U, W, V, s0 = make_problem(4)
    none = ref.rnn_backward(x, y, U, W, V)
    zeros = ref.rnn_backward(x, y, U, W, V, np.zeros(H))
    given_s0 = ref.rnn_backward(x, y, U, W, V, s0)
    for name in "UWV":
        np.testing.assert_array_equal(none[name], zeros[name])
    assert not np.allclose(given_s0["W"], zeros["W"])
    expected = expected_gradients(x, y, U, W, V, np.zeros(H), None)
    assert_gradients_close(none, expected)


@pytest.mark.parametrize("tau", [None, 1])
def test_rnn_backward_modifies_no_argument(tau):
    args = make_problem(5)
    copies = [a.copy() for a in args]
    grads = ref.rnn_backward(*args, bptt_truncate=tau)
    for before, after in zip(copies, args):
        np.testing.assert_array_equal(before, after)
    for name in "UWV":
        assert grads[name].dtype == np.float64
        assert not any(np.shares_memory(grads[name], a) for a in args)


def test_rnn_backward_one_step_sequence():
    x, y, U, W, V, s0 = make_problem(6, T=1)
    for tau in (None, 0, 3):
        found = ref.rnn_backward(x, y, U, W, V, s0, bptt_truncate=tau)
        assert_gradients_close(found, expected_gradients(x, y, U, W, V, s0, tau))


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    T_=st.integers(3, 5),
    D_=st.integers(1, 3),
    H_=st.integers(2, 4),
    K_=st.integers(2, 4),
    tau=st.one_of(st.none(), st.integers(0, 5)),
)
def test_rnn_backward_random_problems(seed, T_, D_, H_, K_, tau):
    x, y, U, W, V, s0 = make_problem(seed, T=T_, D=D_, H=H_, K=K_)
    found = ref.rnn_backward(x, y, U, W, V, s0, bptt_truncate=tau)
    assert_gradients_close(found, expected_gradients(x, y, U, W, V, s0, tau))


# ---------------------------------------------------------------------------
# state_jacobian and jacobian_product


def test_state_jacobian_matches_finite_differences_of_a_step():
    x, y, U, W, V, s0 = make_problem(7)
    x_t, s_prev = x[2], s0

    def step(state):
        return np.tanh(U @ x_t + W @ state)

    s_t = step(s_prev)
    J = ref.state_jacobian(s_t, W)  # evaluated at s_t, the state after the step
    assert J.shape == (H, H)
    np.testing.assert_allclose(J, fd_jacobian(step, s_prev), rtol=1e-7, atol=1e-10)
    # Using the state *before* the step would be a different (wrong) matrix.
    assert not np.allclose(ref.state_jacobian(s_prev, W), J)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), H_=st.integers(1, 5), D_=st.integers(1, 4))
def test_state_jacobian_random(seed, H_, D_):
    rng = np.random.default_rng(seed)
    U, W = rng.normal(size=(H_, D_)), rng.normal(size=(H_, H_))
    x_t, s_prev = rng.normal(size=D_), rng.normal(size=H_)

    def step(state):
        return np.tanh(U @ x_t + W @ state)

    s_t = step(s_prev)
    s_copy, W_copy = s_t.copy(), W.copy()
    J = ref.state_jacobian(s_t, W)
    np.testing.assert_array_equal(s_t, s_copy)
    np.testing.assert_array_equal(W, W_copy)
    np.testing.assert_allclose(J, fd_jacobian(step, s_prev), rtol=1e-6, atol=1e-9)


def test_jacobian_product_matches_finite_differences_through_the_recurrence():
    x, y, U, W, V, s0 = make_problem(8)
    s = forward_states(x, U, W, s0)
    s_copy, W_copy = s.copy(), W.copy()
    for t in range(T):
        for k in range(t + 1):

            def run_from(state_k, t=t, k=k):
                state = state_k
                for j in range(k + 1, t + 1):
                    state = np.tanh(U @ x[j] + W @ state)
                return state

            P = ref.jacobian_product(s, W, t, k)
            assert P.shape == (H, H)
            np.testing.assert_allclose(P, fd_jacobian(run_from, s[k]), rtol=1e-6, atol=1e-9, err_msg=f"t={t} k={k}")
    np.testing.assert_array_equal(s, s_copy)
    np.testing.assert_array_equal(W, W_copy)


def test_jacobian_product_identity_when_t_equals_k():
    x, y, U, W, V, s0 = make_problem(9)
    s = forward_states(x, U, W, s0)
    for t in range(T):
        np.testing.assert_array_equal(ref.jacobian_product(s, W, t, t), np.eye(H))


def test_jacobian_product_order_and_chain_rule():
    x, y, U, W, V, s0 = make_problem(10)
    s = forward_states(x, U, W, s0)
    J = [ref.state_jacobian(s[j], W) for j in range(T)]
    # J_t @ J_{t-1}, not J_{t-1} @ J_t (they differ for this W).
    np.testing.assert_allclose(ref.jacobian_product(s, W, 3, 1), J[3] @ J[2], rtol=1e-12)
    assert not np.allclose(J[3] @ J[2], J[2] @ J[3])
    # ds_t/ds_k = ds_t/ds_m @ ds_m/ds_k.
    np.testing.assert_allclose(
        ref.jacobian_product(s, W, 5, 0),
        ref.jacobian_product(s, W, 5, 2) @ ref.jacobian_product(s, W, 2, 0),
        rtol=1e-10,
        atol=1e-14,
    )


# ---------------------------------------------------------------------------
# clip_gradient_norm


def global_norm(grads):
    return float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))


def test_clip_below_threshold_returns_equal_copies():
    grads = {"U": np.array([[0.1, -0.2]]), "W": np.array([[0.3]]), "V": np.array([0.05, 0.0])}
    before = {k: v.copy() for k, v in grads.items()}
    out = ref.clip_gradient_norm(grads, 10.0)
    assert out is not grads and set(out) == set(grads)
    for name in grads:
        np.testing.assert_array_equal(out[name], before[name])
        assert out[name] is not grads[name]
        assert not np.shares_memory(out[name], grads[name])
    out["U"][0, 0] = 99.0  # writing to the result leaves the input alone
    np.testing.assert_array_equal(grads["U"], before["U"])


def test_clip_at_exactly_the_threshold_is_unchanged():
    grads = {"a": np.array([3.0, 4.0])}  # norm exactly 5
    out = ref.clip_gradient_norm(grads, 5.0)
    np.testing.assert_array_equal(out["a"], [3.0, 4.0])
    assert out["a"] is not grads["a"]


def test_clip_uses_the_global_norm():
    # Global norm sqrt(9 + 16 + 144) = 13; the max norm is 6.5, so every array is halved.
    # Clipping each array on its own would leave "a" (norm 5 < 6.5) untouched.
    grads = {"a": np.array([3.0, 4.0]), "b": np.array([[12.0], [0.0]])}
    before = {k: v.copy() for k, v in grads.items()}
    out = ref.clip_gradient_norm(grads, 6.5)
    np.testing.assert_allclose(out["a"], [1.5, 2.0], rtol=1e-15)
    np.testing.assert_allclose(out["b"], [[6.0], [0.0]], rtol=1e-15)
    assert out["b"].shape == (2, 1)
    for name in grads:
        np.testing.assert_array_equal(grads[name], before[name])
        assert not np.shares_memory(out[name], grads[name])


def test_clip_rnn_gradients():
    grads = ref.rnn_backward(*make_problem(11))
    norm = global_norm(grads)
    out = ref.clip_gradient_norm(grads, norm / 4)
    assert global_norm(out) == pytest.approx(norm / 4, rel=1e-12)
    for name in "UWV":
        np.testing.assert_allclose(out[name], grads[name] / 4, rtol=1e-12)


grad_dicts = st.dictionaries(
    st.sampled_from(["U", "W", "V", "b", "c"]),
    arrays(np.float64, array_shapes(min_dims=1, max_dims=2, max_side=4), elements=st.floats(-100, 100)),
    min_size=1,
    max_size=4,
)


@settings(max_examples=40, deadline=None)
@given(grads=grad_dicts, max_norm=st.floats(1e-3, 200.0))
def test_clip_properties(grads, max_norm):
    before = {k: v.copy() for k, v in grads.items()}
    norm = global_norm(grads)
    out = ref.clip_gradient_norm(grads, max_norm)
    assert set(out) == set(grads)
    for name in grads:
        np.testing.assert_array_equal(grads[name], before[name])  # input untouched
        assert out[name] is not grads[name] and not np.shares_memory(out[name], grads[name])
        assert out[name].shape == grads[name].shape
    new_norm = global_norm(out)
    assert new_norm <= norm * (1 + 1e-12)  # never increases the norm
    assert new_norm <= max(max_norm, norm) * (1 + 1e-12)
    if norm <= max_norm:
        for name in grads:
            np.testing.assert_array_equal(out[name], grads[name])
    else:
        assert new_norm == pytest.approx(max_norm, rel=1e-9)
    # Same direction: one common non-negative factor for every array.
    flat_in = np.concatenate([grads[k].ravel() for k in sorted(grads)])
    flat_out = np.concatenate([out[k].ravel() for k in sorted(grads)])
    assume(norm > 0)
    factor = min(1.0, max_norm / norm)
    np.testing.assert_allclose(flat_out, factor * flat_in, rtol=1e-12, atol=1e-300)


# ---------------------------------------------------------------------------
# numerical_gradient


def test_numerical_gradient_default_eps():
    assert inspect.signature(ref.numerical_gradient).parameters["eps"].default == 1e-5


def test_numerical_gradient_matches_analytic_2d():
    rng = np.random.default_rng(12)
    A = rng.normal(size=(3, 4))
    x = rng.normal(size=(3, 4))
    x_before = x.copy()

    def f(z):
        return float(np.sum(A * np.sin(z)) + np.sum(z**2) + np.prod(z[0, :2]))

    analytic = A * np.cos(x) + 2 * x
    analytic[0, 0] += x[0, 1]
    analytic[0, 1] += x[0, 0]
    grad = ref.numerical_gradient(f, x)
    assert grad.shape == x.shape and grad.dtype == np.float64
    np.testing.assert_allclose(grad, analytic, rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(x, x_before)


def test_numerical_gradient_is_exactly_centred():
    # For f = sum(c * x^3) the centred formula gives 3 c x^2 + c eps^2 exactly,
    # while forward differences give 3 c x^2 + 3 c x eps + c eps^2.
    x = np.array([[0.5, -1.25, 2.0], [1.5, -0.75, 0.25]])
    c = np.array([[1.0, 2.0, -1.0], [0.5, 3.0, -2.0]])
    eps = 0.1

    def f(z):
        return float(np.sum(c * z**3))

    hand = np.zeros_like(x)
    forward = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        hand[index] = (f(plus) - f(minus)) / (2 * eps)
        forward[index] = (f(plus) - f(x)) / eps
    np.testing.assert_allclose(hand, 3 * c * x**2 + c * eps**2, rtol=1e-12)
    assert not np.allclose(forward, hand, rtol=1e-3)

    grad = ref.numerical_gradient(f, x, eps=eps)
    np.testing.assert_allclose(grad, hand, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 2, 3), ()])
def test_numerical_gradient_any_shape(shape):
    rng = np.random.default_rng(13)
    A = rng.normal(size=shape)
    B = rng.normal(size=shape)
    x = np.asarray(rng.normal(size=shape))
    x_before = x.copy()

    def f(z):
        return float(np.sum(A * z**2) / 2 + np.sum(B * z))

    grad = ref.numerical_gradient(f, x)
    assert np.shape(grad) == shape
    np.testing.assert_allclose(grad, A * x + B, rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(x, x_before)


def test_numerical_gradient_perturbs_one_entry_at_a_time_and_restores_exactly():
    # Values for which undoing the step in floating point does not give the
    # value back: an implementation that "subtracts eps back" instead of
    # restoring the saved value leaves earlier entries off by a rounding
    # error, and later calls would see it.
    eps = 1e-5
    candidates = [0.5, 4.0, 1.92, -1.61, 1.08, -1.87, 0.12, -6.98, -0.66, 1.23, 4.1, 1.05]
    assert any((v + eps) - eps != v for v in candidates)
    assert any(((v + eps) - 2 * eps) + eps != v for v in candidates)
    x = np.array(candidates).reshape(3, 4)
    x_before = x.copy()
    calls = []

    def f(z):
        assert z is not x  # works on a copy
        calls.append(z.copy())
        return float(np.sum(z**2))

    ref.numerical_gradient(f, x, eps=eps)
    assert len(calls) == 2 * x.size
    np.testing.assert_array_equal(x, x_before)
    for i, index in enumerate(np.ndindex(x.shape)):
        for sign, seen in zip((1, -1), calls[2 * i: 2 * i + 2]):
            expected = x.copy()
            expected[index] = x[index] + sign * eps
            np.testing.assert_array_equal(seen, expected)


def test_numerical_gradient_checks_rnn_backward():
    # The reference's own tools agree with each other on a full-BPTT gradient.
    x, y, U, W, V, s0 = make_problem(14)
    grads = ref.rnn_backward(x, y, U, W, V, s0)
    num = ref.numerical_gradient(lambda P: full_loss(x, y, U, P, V, s0), W)
    np.testing.assert_allclose(num, grads["W"], rtol=1e-6, atol=1e-8)


@settings(max_examples=15, deadline=None)
@given(
    x=arrays(np.float64, array_shapes(min_dims=1, max_dims=3, max_side=3), elements=st.floats(-3, 3)),
    seed=st.integers(0, 2**31 - 1),
)
def test_numerical_gradient_quadratics(x, seed):
    # Centred differences are exact (up to rounding) for quadratics.
    rng = np.random.default_rng(seed)
    A = rng.normal(size=x.shape)
    B = rng.normal(size=x.shape)
    x_before = x.copy()
    grad = ref.numerical_gradient(lambda z: float(np.sum(A * z**2) / 2 + np.sum(B * z)), x)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_allclose(grad, A * x + B, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize(
    "name", ["rnn_backward", "state_jacobian", "jacobian_product", "clip_gradient_norm", "numerical_gradient"]
)
def test_spec_signatures(name):
    expected = {
        "rnn_backward": ["x", "y", "U", "W", "V", "s0", "bptt_truncate"],
        "state_jacobian": ["s_t", "W"],
        "jacobian_product": ["s", "W", "t", "k"],
        "clip_gradient_norm": ["grads", "max_norm"],
        "numerical_gradient": ["f", "x", "eps"],
    }[name]
    assert list(inspect.signature(getattr(ref, name)).parameters) == expected
