"""Part 2 -- derivative of softmax, written with plain loops."""
import numpy as np


def softmax_jacobian(y):
    K = len(y)
    J = np.zeros((K, K))
    for i in range(K):
        for j in range(K):
            delta = 1.0 if i == j else 0.0
            J[i, j] = y[i] * (delta - y[j])
    return J


def softmax_cross_entropy_grad(o, y):
    T, K = o.shape
    out = np.zeros((T, K))
    for t in range(T):
        for k in range(K):
            out[t, k] = o[t, k] - (1.0 if k == y[t] else 0.0)
    return out
