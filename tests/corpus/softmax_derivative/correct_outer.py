# expect: pass

# diag(y) - outer(y, y); gradient by copying o and subtracting 1 at the targets
import numpy as np


def softmax_jacobian(y):
    # J = diag(y) - y y^T
    return np.diag(y) - np.outer(y, y)


def softmax_cross_entropy_grad(o, y):
    grad = o.copy()
    grad[np.arange(len(y)), y] -= 1.0
    return grad
