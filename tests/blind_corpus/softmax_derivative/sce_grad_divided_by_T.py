"""rnnkit blind corpus, part softmax_derivative: sce_grad_divided_by_T"""
import numpy as np


def softmax_jacobian(y):
    """J = diag(y) - y y^T."""
    return np.diag(y) - np.outer(y, y)


def softmax_cross_entropy_grad(o, y):
    T, K = o.shape
    onehot = np.eye(K)[y]
    return (o - onehot) / T
