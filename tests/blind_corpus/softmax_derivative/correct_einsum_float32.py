"""rnnkit blind corpus, part softmax_derivative: correct_einsum_float32"""
import numpy as np


def softmax_jacobian(y):
    y32 = y.astype(np.float32)
    return y32[:, None] * (np.eye(len(y32), dtype=np.float32) - y32[None, :])


def softmax_cross_entropy_grad(o, y):
    g = o.copy()
    for t in range(len(y)):
        g[t, y[t]] = g[t, y[t]] - 1
    return g
