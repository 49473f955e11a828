"""rnnkit blind corpus, part rnn_forward: forward_ignores_s0"""
import numpy as np


def softmax(z):
    """Softmax over the last axis."""
    shifted = z - np.max(z, axis=-1, keepdims=True)
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=-1, keepdims=True)


def rnn_step_forward(x_t, s_prev, U, W):
    """s_t = tanh(U x_t + W s_prev)."""
    return np.tanh(U @ x_t + W @ s_prev)


def rnn_forward(x, U, W, V, s0=None):
    """States and outputs of a vanilla RNN."""
    T = x.shape[0]
    H = W.shape[0]
    s = np.zeros((T, H))
    s_prev = np.zeros(H)
    for t in range(T):
        s[t] = rnn_step_forward(x[t], s_prev, U, W)
        s_prev = s[t]
    o = softmax(s @ V.T)
    return s, o


def cross_entropy_loss(o, y):
    """E = -sum_t log o[t, y[t]]."""
    T = len(y)
    return float(-np.sum(np.log(o[np.arange(T), y])))
