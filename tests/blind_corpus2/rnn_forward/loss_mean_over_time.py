import numpy as np


def softmax(z):
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def rnn_step_forward(x_t, s_prev, U, W):
    return np.tanh(U @ x_t + W @ s_prev)


def rnn_forward(x, U, W, V, s0=None):
    T, H = x.shape[0], W.shape[0]
    proj = x @ U.T                      # (T, H): U @ x_t for every t
    s = np.empty((T, H))
    state = np.zeros(H) if s0 is None else s0
    for t in range(T):
        state = np.tanh(proj[t] + W @ state)
        s[t] = state
    z = s @ V.T
    z = z - z.max(axis=1, keepdims=True)
    o = np.exp(z)
    o /= o.sum(axis=1, keepdims=True)
    return s, o


def cross_entropy_loss(o, y):
    y = np.asarray(y, dtype=int)
    return float(-np.mean(np.log(o[np.arange(len(y)), y])))
