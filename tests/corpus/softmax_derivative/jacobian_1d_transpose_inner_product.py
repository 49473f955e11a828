# expect: fail softmax_jacobian
# mistake: jacobian_1d_transpose_inner_product
# why: writes y @ y.T for the outer product; .T does nothing to a 1-D array, so it subtracts the scalar sum(y**2) everywhere

import numpy as np


def softmax_jacobian(y):
    # J = diag(y) - y y^T
    return np.diag(y) - y @ y.T


def softmax_cross_entropy_grad(o, y):
    grad = o.copy()
    grad[np.arange(len(y)), y] -= 1.0
    return grad
