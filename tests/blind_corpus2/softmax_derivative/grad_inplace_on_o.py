import numpy as np


def softmax_jacobian(y):
    return np.diag(y) - np.outer(y, y)


def softmax_cross_entropy_grad(o, y):
    o[np.arange(o.shape[0]), y] -= 1
    return o
