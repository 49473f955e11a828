# expect: fail softmax_cross_entropy_grad
# mistake: grad_no_onehot_subtraction
# why: returns o itself: forgets to subtract the one-hot target

import numpy as np


def softmax_jacobian(y):
    # J = diag(y) - y y^T
    return np.diag(y) - np.outer(y, y)


def softmax_cross_entropy_grad(o, y):
    grad = o.copy()
    return grad
