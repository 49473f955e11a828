"""rnnkit blind corpus, part rnn_forward: correct_float32_vectorised"""
import numpy as np


def softmax(z):
    z32 = np.asarray(z, dtype=np.float32)
    m = z32.max(axis=-1, keepdims=True)
    log_norm = m + np.log(np.exp(z32 - m).sum(axis=-1, keepdims=True))
    return np.exp(z32 - log_norm)


def rnn_step_forward(x_t, s_prev, U, W):
    a = U.astype(np.float32) @ x_t.astype(np.float32) + W.astype(np.float32) @ s_prev.astype(np.float32)
    return np.tanh(a)


def rnn_forward(x, U, W, V, s0=None):
    state = np.zeros(W.shape[0], dtype=np.float32) if s0 is None else np.asarray(s0, dtype=np.float32)
    states = []
    for x_t in x:
        state = rnn_step_forward(x_t, state, U, W)
        states.append(state)
    s = np.stack(states)
    return s, softmax(s @ V.T.astype(np.float32))


def cross_entropy_loss(o, y):
    picked = np.take_along_axis(o, np.asarray(y)[:, None], axis=1)
    return float(-np.log(picked).sum())
