# expect: fail softmax_jacobian
# mistake: jacobian_sign_flipped
# why: computes y y^T - diag(y), the negative of the Jacobian

import numpy as np


def softmax_jacobian(y):
    K = len(y)
    # J[i, j] = y_i * (delta_ij - y_j)
    return y[:, None] * (y[None, :] - np.eye(K))


def softmax_cross_entropy_grad(o, y):
    T, K = o.shape
    target = np.zeros((T, K))
    for t in range(T):
        target[t, y[t]] = 1.0
    return o - target
