"""rnnkit blind corpus, part softmax_derivative: sce_grad_inplace"""
import numpy as np


def softmax_jacobian(y):
    """J = diag(y) - y y^T."""
    return np.diag(y) - np.outer(y, y)


def softmax_cross_entropy_grad(o, y):
    grad = o
    grad[np.arange(len(y)), y] -= 1
    return grad
