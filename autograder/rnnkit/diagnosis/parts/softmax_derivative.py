"""Part softmax_derivative: softmax_jacobian and softmax_cross_entropy_grad.

The variants (what each mistake computes, from the part's reference
functions), then the part's entries in the catalogue (``_add`` of
:mod:`rnnkit.diagnosis.catalogue`).
"""
from __future__ import annotations

import numpy as np

from ..catalogue import _add
from ..model import IN_PLACE, V


def _jacobian_off_diagonal_positive(r, y):
    J = np.outer(y, y)
    np.fill_diagonal(J, y * (1.0 - y))
    return J


def _grad_onehot_columns(r, o, y):
    g = np.array(o, dtype=float)
    g[:, y] -= 1.0  # numpy subtracts once per distinct target
    return g


def _grad_onehot_columns_loop(r, o, y):
    g = np.array(o, dtype=float)
    for target in y:
        g[:, target] -= 1.0
    return g


def _grad_modifies_o(r, o, y):
    g = r.softmax_cross_entropy_grad(o.copy(), y)
    o[...] = g
    return g


# --------------------------------------------------------------------------- catalogue entries

_add("jacobian_diagonal_only", "softmax_jacobian", "diagonal only",
     "Your Jacobian has only the diagonal y_i (1 - y_i): the off-diagonal entries are -y_i y_j, so use `np.diag(y) - np.outer(y, y)`.",
     softmax_jacobian=V(lambda r, y: np.diag(y * (1.0 - y))))
_add("jacobian_identity_instead_of_diag", "softmax_jacobian", "identity instead of diag(y)",
     "Your Jacobian matches `I - outer(y, y)`: the delta term is multiplied by y_i too, so use `np.diag(y)` instead of the identity.",
     softmax_jacobian=V(lambda r, y: np.eye(len(y)) - np.outer(y, y)))
_add("jacobian_off_diagonal_positive", "softmax_jacobian", "off-diagonal sign",
     "Your diagonal is right but the off-diagonal entries have the wrong sign: J[i, j] = -y_i y_j for i != j.",
     softmax_jacobian=V(_jacobian_off_diagonal_positive))
_add("jacobian_sign_flipped", "softmax_jacobian", "Jacobian with the opposite sign",
     "Your Jacobian is the negative of the right one (`outer(y, y) - diag(y)`): J = diag(y) - outer(y, y).",
     softmax_jacobian=V(lambda r, y: -r.softmax_jacobian(y)))
_add("jacobian_1d_transpose_inner_product", "softmax_jacobian", "y @ y.T is a number",
     "Your Jacobian matches `np.diag(y) - y @ y.T`: for a 1-D array `.T` does nothing and `y @ y` is one number; use `np.outer(y, y)`.",
     softmax_jacobian=V(lambda r, y: np.diag(y) - float(y @ y)))
_add("grad_mean_over_time", "softmax_cross_entropy_grad", "gradient divided by T",
     "Your gradient is the right one divided by T (the gradient of the mean loss): the loss sums over time, so do not divide.",
     softmax_cross_entropy_grad=V(lambda r, o, y: r.softmax_cross_entropy_grad(o, y) / len(y)))
_add("grad_modifies_o_in_place", "softmax_cross_entropy_grad", "o modified in place",
     "Your gradient is right, but `grad = o` is not a copy: subtracting the targets also changes the caller's `o`. Start from `o.copy()`.",
     softmax_cross_entropy_grad=V(_grad_modifies_o, aspects=IN_PLACE))
_add("grad_no_onehot_subtraction", "softmax_cross_entropy_grad", "one-hot target not subtracted",
     "Your gradient equals `o` itself: subtract 1 at each step's target class, `grad[np.arange(T), y] -= 1`.",
     softmax_cross_entropy_grad=V(lambda r, o, y: np.array(o, dtype=float)))
_add("grad_onehot_column_index", "softmax_cross_entropy_grad", "grad[:, y] instead of grad[t, y[t]]",
     "Your gradient matches `grad[:, y] -= 1`, which subtracts 1 in every row at every target column: index one entry per step, `grad[np.arange(T), y] -= 1`.",
     softmax_cross_entropy_grad=V(_grad_onehot_columns, _grad_onehot_columns_loop))
_add("grad_sign_flipped", "softmax_cross_entropy_grad", "gradient with the opposite sign",
     "Your gradient is `onehot(y) - o`, the negative of dE/dz: it is `o - onehot(y)`.",
     softmax_cross_entropy_grad=V(lambda r, o, y: -r.softmax_cross_entropy_grad(o, y)))
