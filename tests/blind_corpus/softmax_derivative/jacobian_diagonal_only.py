"""rnnkit blind corpus, part softmax_derivative: jacobian_diagonal_only"""
import numpy as np


def softmax_jacobian(y):
    """J = diag(y) - y y^T."""
    return np.diag(y * (1 - y))


def softmax_cross_entropy_grad(o, y):
    """dE/dz = o - onehot(y)."""
    T = o.shape[0]
    grad = np.array(o, dtype=np.float64)
    grad[np.arange(T), y] -= 1.0
    return grad
