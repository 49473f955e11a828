# expect: fail softmax_cross_entropy_grad
# mistake: grad_onehot_column_index
# why: grad[:, y] -= 1 subtracts 1 in every row at every target column, not only at (t, y_t)

import numpy as np


def softmax_jacobian(y):
    # J = diag(y) - y y^T
    return np.diag(y) - np.outer(y, y)


def softmax_cross_entropy_grad(o, y):
    grad = o.copy()
    grad[:, y] -= 1.0
    return grad
