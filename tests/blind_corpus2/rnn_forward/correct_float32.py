"""rnn_forward.py -- computes in float32 internally to save memory."""
import numpy as np

DT = np.float32


def softmax(z):
    z = np.asarray(z)
    z32 = z.astype(DT)
    m = z32.max(axis=-1, keepdims=True)
    lse = m + np.log(np.exp(z32 - m).sum(axis=-1, keepdims=True))
    return np.exp(z32 - lse).astype(np.float64)


def rnn_step_forward(x_t, s_prev, U, W):
    pre = np.einsum("hd,d->h", U.astype(DT), x_t.astype(DT)) + np.einsum("hk,k->h", W.astype(DT), s_prev.astype(DT))
    return np.tanh(pre).astype(np.float64)


def rnn_forward(x, U, W, V, s0=None):
    U32, W32, V32 = U.astype(DT), W.astype(DT), V.astype(DT)
    T, H = len(x), U.shape[0]
    states = []
    h = np.zeros(H, dtype=DT) if s0 is None else np.asarray(s0).astype(DT)
    for x_t in x.astype(DT):
        h = np.tanh(U32 @ x_t + W32 @ h)
        states.append(h)
    s = np.stack(states)
    z = s @ V32.T
    z = z - z.max(axis=-1, keepdims=True)
    ez = np.exp(z)
    o = ez / ez.sum(axis=-1, keepdims=True)
    return s.astype(np.float64), o.astype(np.float64)


def cross_entropy_loss(o, y):
    T = o.shape[0]
    onehot = np.zeros(o.shape, dtype=bool)
    onehot[np.arange(T), y] = True
    return float(-np.log(o[onehot].astype(DT)).sum(dtype=np.float64))
