# expect: fail softmax_jacobian
# mistake: jacobian_identity_instead_of_diag
# why: uses delta_ij - y_i y_j, forgetting that the delta term is multiplied by y_i

import numpy as np


def softmax_jacobian(y):
    K = len(y)
    # J[i, j] = y_i * (delta_ij - y_j)
    return np.eye(K) - y[:, None] * y[None, :]


def softmax_cross_entropy_grad(o, y):
    T, K = o.shape
    target = np.zeros((T, K))
    for t in range(T):
        target[t, y[t]] = 1.0
    return o - target
