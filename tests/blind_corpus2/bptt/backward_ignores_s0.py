"""bptt.py -- rnn_backward built from my jacobian_product (slow but readable)."""
from functools import reduce

import numpy as np


def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def rnn_step_forward(x_t, s_prev, U, W):
    return np.tanh(U @ x_t + W @ s_prev)


def rnn_forward(x, U, W, V, s0=None):
    T, H = x.shape[0], U.shape[0]
    s = np.zeros((T, H))
    prev = np.zeros(H) if s0 is None else s0
    for t in range(T):
        prev = rnn_step_forward(x[t], prev, U, W)
        s[t] = prev
    o = softmax(s @ V.T)
    return s, o


def state_jacobian(s_t, W):
    return np.einsum("i,ij->ij", 1.0 - np.square(s_t), W)


def jacobian_product(s, W, t, k):
    mats = [state_jacobian(s[j], W) for j in range(t, k, -1)]   # J_t, J_{t-1}, ..., J_{k+1}
    return reduce(np.matmul, mats, np.eye(W.shape[0]))


def rnn_backward(x, y, U, W, V, s0=None, bptt_truncate=None):
    T = x.shape[0]
    s, o = rnn_forward(x, U, W, V)
    grads = {"U": np.zeros(U.shape), "W": np.zeros(W.shape), "V": np.zeros(V.shape)}
    tau = T if bptt_truncate is None else bptt_truncate
    for t in range(T):
        e = o[t].copy()
        e[y[t]] -= 1
        grads["V"] += np.outer(e, s[t])
        g = V.T @ e
        for k in range(max(0, t - tau), t + 1):
            delta = (1 - s[k] ** 2) * (jacobian_product(s, W, t, k).T @ g)
            prev = s[k - 1] if k >= 1 else np.zeros(W.shape[0])
            grads["W"] += np.outer(delta, prev)
            grads["U"] += np.outer(delta, x[k])
    return grads


def clip_gradient_norm(grads, max_norm):
    sq = 0.0
    for g in grads.values():
        sq += float(np.vdot(g, g))
    norm = sq ** 0.5
    out = {}
    for name in grads:
        out[name] = np.copy(grads[name])
        if norm > max_norm:
            out[name] *= max_norm / norm
    return out


def numerical_gradient(f, x, eps=1e-5):
    point = x.astype(np.float64, copy=True)
    grad = np.zeros(point.shape)
    it = np.nditer(point, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        saved = point[i]
        point[i] = saved + eps
        f_plus = f(point)
        point[i] = saved - eps
        f_minus = f(point)
        point[i] = saved
        grad[i] = (f_plus - f_minus) / (2 * eps)
        it.iternext()
    return grad
