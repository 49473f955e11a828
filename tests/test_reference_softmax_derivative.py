"""The reference of part ``softmax_derivative``, checked by independent routes.

Every derivative is compared with centred finite differences computed here
(not with the kit's own ``numerical_gradient``), plus hand-computed cases and
the algebraic properties the theory states.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rnnkit.content import load_reference
from rnnkit.course import find_root

ref = load_reference(find_root() / "solutions", "softmax_derivative")

EPS = 1e-5


def softmax(z):
    """Softmax over the last axis, written here independently of the reference."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def loss(z, y):
    """E = -sum_t log softmax(z[t])[y[t]], via a stable log-sum-exp."""
    m = z.max(axis=1, keepdims=True)
    log_probs = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(y)), y].sum())


def fd_jacobian(f, z, eps=EPS):
    """Centred-difference Jacobian of a vector function f at a vector z: column j is df/dz_j."""
    columns = []
    for j in range(z.size):
        step = np.zeros_like(z)
        step[j] = eps
        columns.append((f(z + step) - f(z - step)) / (2 * eps))
    return np.stack(columns, axis=1)


def fd_gradient(f, z, eps=EPS):
    """Centred-difference gradient of a scalar function f at an array z of any shape."""
    grad = np.zeros_like(z, dtype=np.float64)
    for index in np.ndindex(z.shape):
        plus, minus = z.copy(), z.copy()
        plus[index] += eps
        minus[index] -= eps
        grad[index] = (f(plus) - f(minus)) / (2 * eps)
    return grad


# ---------------------------------------------------------------------------
# softmax_jacobian


def test_jacobian_matches_finite_differences():
    z = np.array([0.3, -1.2, 2.0, 0.7, -0.4])
    J = ref.softmax_jacobian(softmax(z))
    assert J.shape == (5, 5)
    np.testing.assert_allclose(J, fd_jacobian(softmax, z), rtol=1e-7, atol=1e-9)


def test_jacobian_two_classes_by_hand():
    # y = (1/4, 3/4): diagonal y_i (1 - y_i) = 3/16, off-diagonal -y_0 y_1 = -3/16.
    J = ref.softmax_jacobian(np.array([0.25, 0.75]))
    np.testing.assert_allclose(J, [[0.1875, -0.1875], [-0.1875, 0.1875]], rtol=0, atol=1e-15)


def test_jacobian_three_classes_by_hand():
    J = ref.softmax_jacobian(np.array([0.5, 0.3, 0.2]))
    expected = [
        [0.25, -0.15, -0.10],
        [-0.15, 0.21, -0.06],
        [-0.10, -0.06, 0.16],
    ]
    np.testing.assert_allclose(J, expected, rtol=0, atol=1e-15)


def test_jacobian_diagonal_is_not_a_sigmoid_derivative():
    # The seed called the diagonal term "sigmoid"; the Jacobian of softmax also
    # has off-diagonal entries, and the diagonal is y_i (1 - y_i) of the softmax
    # output, not sigmoid(z_i) (1 - sigmoid(z_i)).
    z = np.array([1.0, 2.0, 3.0])
    y = softmax(z)
    J = ref.softmax_jacobian(y)
    sig = 1 / (1 + np.exp(-z))
    assert not np.allclose(np.diag(J), sig * (1 - sig))
    np.testing.assert_allclose(np.diag(J), y * (1 - y), rtol=1e-14)
    assert np.all(J[~np.eye(3, dtype=bool)] < 0)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.integers(2, 7), elements=st.floats(-6, 6)))
def test_jacobian_properties(z):
    y = softmax(z)
    y_before = y.copy()
    J = ref.softmax_jacobian(y)
    np.testing.assert_array_equal(y, y_before)  # argument untouched
    assert J.shape == (z.size, z.size)
    assert J.dtype == np.float64
    np.testing.assert_allclose(J, J.T, rtol=0, atol=1e-15)  # symmetric
    np.testing.assert_allclose(J.sum(axis=1), 0, atol=1e-12)  # rows sum to 0
    np.testing.assert_allclose(J.sum(axis=0), 0, atol=1e-12)  # columns sum to 0
    np.testing.assert_allclose(J, fd_jacobian(softmax, z), rtol=1e-6, atol=1e-9)


def test_jacobian_of_one_hot_is_zero():
    # A saturated softmax does not move: every entry y_i (delta_ij - y_j) is 0.
    np.testing.assert_array_equal(ref.softmax_jacobian(np.array([0.0, 1.0, 0.0])), np.zeros((3, 3)))


# ---------------------------------------------------------------------------
# softmax_cross_entropy_grad


def test_grad_matches_finite_differences_of_the_loss():
    rng = np.random.default_rng(3)
    T, K = 4, 5
    z = rng.normal(scale=2.0, size=(T, K))
    y = np.array([1, 4, 1, 0])  # a repeated target, and the first and last class
    grad = ref.softmax_cross_entropy_grad(softmax(z), y)
    assert grad.shape == (T, K)
    np.testing.assert_allclose(grad, fd_gradient(lambda zz: loss(zz, y), z), rtol=1e-6, atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda T: st.integers(2, 6).flatmap(
            lambda K: st.tuples(
                arrays(np.float64, (T, K), elements=st.floats(-5, 5)),
                arrays(np.int64, (T,), elements=st.integers(0, K - 1)),
            )
        )
    )
)
def test_grad_properties(case):
    z, y = case
    o = softmax(z)
    o_before, y_before = o.copy(), y.copy()
    grad = ref.softmax_cross_entropy_grad(o, y)
    np.testing.assert_array_equal(o, o_before)  # arguments untouched
    np.testing.assert_array_equal(y, y_before)
    assert grad is not o and not np.shares_memory(grad, o)
    assert grad.shape == z.shape
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-12)  # each row sums to 0
    np.testing.assert_allclose(grad, fd_gradient(lambda zz: loss(zz, y), z), rtol=1e-6, atol=1e-8)


def test_grad_is_jacobian_transpose_times_loss_gradient():
    # The chain rule of the theory: dE/dz_t = J_t^T (-onehot(y_t) / o_t) = o_t - onehot(y_t).
    z = np.array([[0.1, -0.3, 0.8], [1.5, 0.2, -2.0], [0.0, 0.0, 0.0]])
    y = np.array([2, 0, 1])
    o = softmax(z)
    grad = ref.softmax_cross_entropy_grad(o, y)
    for t in range(3):
        dE_dy = np.zeros(3)
        dE_dy[y[t]] = -1 / o[t, y[t]]
        np.testing.assert_allclose(grad[t], ref.softmax_jacobian(o[t]).T @ dE_dy, rtol=1e-12, atol=1e-15)


def test_grad_by_hand():
    o = np.array([[0.25, 0.75], [0.6, 0.4]])
    grad = ref.softmax_cross_entropy_grad(o, np.array([1, 1]))
    np.testing.assert_allclose(grad, [[0.25, -0.25], [0.6, -0.6]], rtol=0, atol=1e-15)


def test_grad_has_no_division_by_tiny_probabilities():
    # Logits of +-1000: the target's probability underflows to 0, yet the gradient is finite.
    z = np.array([[1000.0, -1000.0, 0.0]])
    grad = ref.softmax_cross_entropy_grad(softmax(z), np.array([1]))
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, [[1.0, -1.0, 0.0]], atol=1e-15)


@pytest.mark.parametrize("name", ["softmax_jacobian", "softmax_cross_entropy_grad"])
def test_spec_functions_exist(name):
    assert callable(getattr(ref, name))
