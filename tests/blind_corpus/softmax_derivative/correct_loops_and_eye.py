"""rnnkit blind corpus, part softmax_derivative: correct_loops_and_eye"""
import numpy as np


def softmax_jacobian(y):
    K = y.shape[0]
    J = np.zeros((K, K))
    for i in range(K):
        for j in range(K):
            delta = 1.0 if i == j else 0.0
            J[i, j] = y[i] * (delta - y[j])
    return J


def softmax_cross_entropy_grad(o, y):
    return o - np.eye(o.shape[1])[y]
