import numpy as np


def _onehot(y, K):
    return (np.asarray(y)[:, None] == np.arange(K)[None, :]).astype(float)


def softmax_jacobian(y):
    y = np.asarray(y, dtype=float)
    return y[:, None] * (np.eye(y.shape[0]) - y[None, :])


def softmax_cross_entropy_grad(o, y):
    return o - _onehot(y, o.shape[1])
