import math
import numpy as np


def softmax(z):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=-1, keepdims=True)
    e = np.exp(z - m)
    return e / e.sum(axis=-1, keepdims=True)


def rnn_step_forward(x_t, s_prev, U, W):
    return np.tanh(np.dot(U, x_t) + np.dot(W, s_prev))


def rnn_forward(x, U, W, V, s0=None):
    T = len(x)
    H = U.shape[0]
    s = np.zeros((T + 1, H))          # s[-1] holds the initial state
    if s0 is not None:
        s[-1] = s0
    for t in range(T):
        s[t] = np.tanh(U.dot(x[t]) + W.dot(s[t - 1]))
    s = s[:-1].copy()
    return s, softmax(s.dot(V.T))


def state_jacobian(s_t, W):
    return np.diag(1 - s_t * s_t) @ W


def jacobian_product(s, W, t, k):
    result = np.identity(W.shape[0])
    for j in range(k + 1, t + 1):
        result = np.diag(1 - s[j] ** 2).dot(W).dot(result)
    return result


def rnn_backward(x, y, U, W, V, s0=None, bptt_truncate=None):
    T, H = x.shape[0], W.shape[0]
    s, o = rnn_forward(x, U, W, V, s0)
    start = np.zeros(H) if s0 is None else np.asarray(s0, dtype=float)
    s_prev = np.vstack([start[None, :], s[:-1]])      # row k is s_{k-1}
    err = o.copy()
    err[np.arange(T), y] -= 1
    back = V.T.dot(err.T).T                            # (T, H): V^T e_t
    slope = 1 - s ** 2
    deltas = np.zeros((T, H))                          # sum over t of delta^(t)_k
    if bptt_truncate is None or bptt_truncate >= T - 1:
        carry = np.zeros(H)
        for k in range(T - 1, -1, -1):
            carry = (back[k] + W.T.dot(carry)) * slope[k]
            deltas[k] = carry
    else:
        for t in range(T):
            d = back[t] * slope[t]
            for k in range(t, max(0, t - bptt_truncate) - 1, -1):
                deltas[k] += d
                if k > 0:
                    d = W.T.dot(d) * slope[k - 1]
    return {"U": deltas.T.dot(x), "W": deltas.T.dot(s_prev), "V": err.T.dot(s)}


def clip_gradient_norm(grads, max_norm):
    return {key: np.clip(value, -max_norm, max_norm) for key, value in grads.items()}


def numerical_gradient(f, x, eps=1e-5):
    work = np.array(x, dtype=np.float64)       # a fresh C-contiguous copy
    flat = work.reshape(-1)                     # view onto work
    out = np.empty(flat.shape)
    for i in range(flat.size):
        v = flat[i]
        flat[i] = v + eps
        up = f(work)
        flat[i] = v - eps
        down = f(work)
        flat[i] = v
        out[i] = (up - down) / (2.0 * eps)
    return out.reshape(np.shape(x))
