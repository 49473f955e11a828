import numpy as np


def softmax(z):
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def rnn_step_forward(x_t, s_prev, U, W):
    return np.tanh(U @ x_t + W @ s_prev)


def rnn_forward(x, U, W, V, s0=None):
    T, H = x.shape[0], W.shape[0]
    state = np.zeros(H) if s0 is None else s0
    s = np.empty((T, H))
    for t in range(T):
        state[:] = np.tanh(U @ x[t] + W @ state)   # reuse the buffer
        s[t] = state
    return s, softmax(s @ V.T)


def cross_entropy_loss(o, y):
    y = np.asarray(y, dtype=int)
    picked = o[np.arange(len(y)), y]
    return float(-np.sum(np.log(picked)))
