# expect: fail softmax_jacobian
# mistake: jacobian_diagonal_only
# why: keeps only the diagonal y_i (1 - y_i) and drops the off-diagonal -y_i y_j

import numpy as np


def softmax_jacobian(y):
    # J = diag(y) - y y^T
    return np.diag(y * (1 - y))


def softmax_cross_entropy_grad(o, y):
    grad = o.copy()
    grad[np.arange(len(y)), y] -= 1.0
    return grad
