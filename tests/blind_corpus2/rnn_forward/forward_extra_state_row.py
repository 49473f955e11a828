import numpy as np


def softmax(z):
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def rnn_step_forward(x_t, s_prev, U, W):
    return np.tanh(U @ x_t + W @ s_prev)


def rnn_forward(x, U, W, V, s0=None):
    T, H = x.shape[0], W.shape[0]
    # WildML trick: one extra row at the end holds the initial state s[-1]
    s = np.zeros((T + 1, H))
    if s0 is not None:
        s[-1] = s0
    o = np.zeros((T, V.shape[0]))
    for t in range(T):
        s[t] = np.tanh(U @ x[t] + W @ s[t - 1])
        o[t] = softmax(V @ s[t])
    return s, o


def cross_entropy_loss(o, y):
    y = np.asarray(y, dtype=int)
    picked = o[np.arange(len(y)), y]
    return float(-np.sum(np.log(picked)))
