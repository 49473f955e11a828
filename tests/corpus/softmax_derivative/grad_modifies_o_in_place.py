# expect: fail softmax_cross_entropy_grad
# mistake: grad_modifies_o_in_place
# why: grad = o is not a copy: subtracting 1 at the targets overwrites the caller's o

import numpy as np


def softmax_jacobian(y):
    # J = diag(y) - y y^T
    return np.diag(y) - np.outer(y, y)


def softmax_cross_entropy_grad(o, y):
    grad = o
    grad[np.arange(len(y)), y] -= 1.0
    return grad
