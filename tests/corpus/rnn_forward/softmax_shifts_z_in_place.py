# expect: fail softmax
# mistake: modifies_arguments
# why: subtracts the maximum in place (z -= ...), so the caller's logits are changed; the values returned are right

import numpy as np


def softmax(z):
    # subtract the max of each row so exp never overflows
    z -= np.max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def rnn_step_forward(x_t, s_prev, U, W):
    a = U @ x_t + W @ s_prev
    return np.tanh(a)


def rnn_forward(x, U, W, V, s0=None):
    T = x.shape[0]
    H = U.shape[0]
    K = V.shape[0]
    s = np.zeros((T, H))
    o = np.zeros((T, K))
    if s0 is None:
        s_prev = np.zeros(H)
    else:
        s_prev = s0
    for t in range(T):
        s[t] = rnn_step_forward(x[t], s_prev, U, W)
        o[t] = softmax(V @ s[t])
        s_prev = s[t]
    return s, o


def cross_entropy_loss(o, y):
    loss = 0.0
    for t in range(len(y)):
        loss -= np.log(o[t, y[t]])
    return float(loss)
