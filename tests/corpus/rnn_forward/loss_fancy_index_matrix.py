# expect: fail cross_entropy_loss
# mistake: loss_fancy_index_matrix
# why: indexes o[:, y], a (T, T) matrix, so it sums the log-probability of every target at every step

import numpy as np

# I do everything in float32 (half the memory, same answers up to ~1e-7)


def softmax(z):
    z = np.asarray(z, dtype=np.float32)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def rnn_step_forward(x_t, s_prev, U, W):
    x_t = x_t.astype(np.float32)
    s_prev = s_prev.astype(np.float32)
    # row-vector convention: x U^T is the same as U x
    return np.tanh(x_t @ U.astype(np.float32).T + s_prev @ W.astype(np.float32).T)


def rnn_forward(x, U, W, V, s0=None):
    x = x.astype(np.float32)
    U = U.astype(np.float32)
    W = W.astype(np.float32)
    V = V.astype(np.float32)
    T = x.shape[0]
    H = W.shape[0]
    XU = x @ U.T  # all input projections at once, (T, H)
    s = np.empty((T, H), dtype=np.float32)
    prev = np.zeros(H, dtype=np.float32) if s0 is None else s0.astype(np.float32)
    for t in range(T):
        prev = np.tanh(XU[t] + W @ prev)
        s[t] = prev
    o = softmax(s @ V.T)
    return s, o


def cross_entropy_loss(o, y):
    picked = o[:, y]
    return float(-np.log(picked).sum())
