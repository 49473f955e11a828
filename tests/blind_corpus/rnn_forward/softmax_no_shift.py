"""rnnkit blind corpus, part rnn_forward: softmax_no_shift"""
import numpy as np


def softmax(z):
    """Softmax over the last axis."""
    shifted = z
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=-1, keepdims=True)


def rnn_step_forward(x_t, s_prev, U, W):
    """s_t = tanh(U x_t + W s_prev)."""
    return np.tanh(U @ x_t + W @ s_prev)


def rnn_forward(x, U, W, V, s0=None):
    T, H = x.shape[0], W.shape[0]
    s = np.zeros((T, H))
    prev = np.zeros(H) if s0 is None else s0
    for t in range(T):
        prev = np.tanh(U @ x[t] + W @ prev)
        s[t] = prev
    logits = s @ V.T
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return s, e / e.sum(axis=1, keepdims=True)


def cross_entropy_loss(o, y):
    """E = -sum_t log o[t, y[t]]."""
    T = len(y)
    return float(-np.sum(np.log(o[np.arange(T), y])))
