import numpy as np


def softmax_jacobian(y):
    # dy_i/dz_i = y_i (1 - y_i), like the sigmoid
    return np.diag(y * (1 - y))


def softmax_cross_entropy_grad(o, y):
    grad = o.copy()
    grad[np.arange(o.shape[0]), y] -= 1.0
    return grad
