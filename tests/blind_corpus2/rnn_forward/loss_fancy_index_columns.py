"""Part 1: RNN forward pass (my solution)."""
import math
import numpy as np


def softmax(z):
    z = np.asarray(z, dtype=float)
    if z.ndim == 1:
        m = max(z)
        e = np.array([math.exp(v - m) for v in z])
        return e / e.sum()
    out = np.empty_like(z)
    for t in range(z.shape[0]):
        m = np.max(z[t])
        e = np.exp(z[t] - m)
        out[t] = e / np.sum(e)
    return out


def rnn_step_forward(x_t, s_prev, U, W):
    a = np.dot(U, x_t) + np.dot(W, s_prev)
    return np.tanh(a)


def rnn_forward(x, U, W, V, s0=None):
    T = x.shape[0]
    H = U.shape[0]
    K = V.shape[0]
    s = np.zeros((T, H))
    o = np.zeros((T, K))
    if s0 is None:
        prev = np.zeros(H)
    else:
        prev = np.array(s0, dtype=float)
    for t in range(T):
        prev = np.tanh(np.dot(U, x[t]) + np.dot(W, prev))
        s[t] = prev
        logits = np.dot(V, prev)
        e = np.exp(logits - logits.max())
        o[t] = e / e.sum()
    return s, o


def cross_entropy_loss(o, y):
    return float(-np.sum(np.log(o[:, y])) / len(y))
