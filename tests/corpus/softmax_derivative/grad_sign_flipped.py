# expect: fail softmax_cross_entropy_grad
# mistake: grad_sign_flipped
# why: returns onehot(y) - o, the negative gradient

import numpy as np


def softmax_jacobian(y):
    K = len(y)
    # J[i, j] = y_i * (delta_ij - y_j)
    return y[:, None] * (np.eye(K) - y[None, :])


def softmax_cross_entropy_grad(o, y):
    T, K = o.shape
    target = np.zeros((T, K))
    for t in range(T):
        target[t, y[t]] = 1.0
    return target - o
