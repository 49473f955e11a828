"""rnnkit blind corpus, part rnn_forward: correct_row_vector_loops"""
import numpy as np


def softmax(z):
    z = np.asarray(z, dtype=float)
    if z.ndim == 1:
        e = np.exp(z - z.max())
        return e / e.sum()
    out = np.empty_like(z)
    for t in range(z.shape[0]):
        e = np.exp(z[t] - np.max(z[t]))
        out[t] = e / np.sum(e)
    return out


def rnn_step_forward(x_t, s_prev, U, W):
    return np.tanh(x_t @ U.T + s_prev @ W.T)


def rnn_forward(x, U, W, V, s0=None):
    T = len(x)
    H = U.shape[0]
    K = V.shape[0]
    s = np.empty((T, H))
    o = np.empty((T, K))
    prev = s0 if s0 is not None else np.zeros(H)
    for t in range(T):
        s[t] = rnn_step_forward(x[t], prev, U, W)
        o[t] = softmax(V @ s[t])
        prev = s[t]
    return s, o


def cross_entropy_loss(o, y):
    total = 0.0
    for t, target in enumerate(y):
        total += -np.log(o[t, int(target)])
    return float(total)
