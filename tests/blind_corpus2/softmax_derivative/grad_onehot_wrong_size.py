import numpy as np


def softmax_jacobian(y):
    return np.diag(y) - np.outer(y, y)


def softmax_cross_entropy_grad(o, y):
    K = len(y)
    return o - np.eye(K)[y]
