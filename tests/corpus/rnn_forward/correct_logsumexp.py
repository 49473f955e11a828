# expect: pass

# softmax via logsumexp, states stacked from a list, logits via einsum, loss via a one-hot mask
import numpy as np


def logsumexp(z):
    m = np.max(z, axis=-1, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))


def softmax(z):
    # softmax(z) = exp(z - logsumexp(z))
    return np.exp(z - logsumexp(z))


def rnn_step_forward(x_t, s_prev, U, W):
    return np.tanh(np.dot(U, x_t) + np.dot(W, s_prev))


def rnn_forward(x, U, W, V, s0=None):
    T, _ = x.shape
    H = W.shape[0]
    states = []
    s_prev = np.zeros(H) if s0 is None else np.array(s0, dtype=float)
    for t in range(T):
        s_prev = rnn_step_forward(x[t], s_prev, U, W)
        states.append(s_prev)
    s = np.stack(states)
    logits = np.einsum("kh,th->tk", V, s)
    o = softmax(logits)
    return s, o


def cross_entropy_loss(o, y):
    y = np.asarray(y)
    onehot = np.zeros_like(o)
    onehot[np.arange(o.shape[0]), y] = 1.0
    # pick the probability of the target with the one-hot mask, then log
    p_target = np.sum(onehot * o, axis=1)
    return float(-np.sum(np.log(p_target)))
