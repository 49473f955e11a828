"""rnnkit blind corpus, part bptt: bptt_dV_outer_reversed"""
import numpy as np


def softmax(z):
    """Softmax over the last axis."""
    shifted = z - np.max(z, axis=-1, keepdims=True)
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=-1, keepdims=True)


def rnn_step_forward(x_t, s_prev, U, W):
    """s_t = tanh(U x_t + W s_prev)."""
    return np.tanh(U @ x_t + W @ s_prev)


def rnn_forward(x, U, W, V, s0=None):
    """States and outputs of a vanilla RNN."""
    T = x.shape[0]
    H = W.shape[0]
    s = np.zeros((T, H))
    s_prev = np.zeros(H) if s0 is None else s0
    for t in range(T):
        s[t] = rnn_step_forward(x[t], s_prev, U, W)
        s_prev = s[t]
    o = softmax(s @ V.T)
    return s, o


def rnn_backward(x, y, U, W, V, s0=None, bptt_truncate=None):
    T = len(x)
    H = W.shape[0]
    s_init = np.zeros(H) if s0 is None else s0
    s, o = rnn_forward(x, U, W, V, s_init)
    e = o.copy()
    e[np.arange(T), y] -= 1
    grads = {"U": np.zeros_like(U), "W": np.zeros_like(W)}
    dV = 0
    for t in range(T):
        dV = dV + np.outer(s[t], e[t])
        stop = 0 if bptt_truncate is None else max(0, t - bptt_truncate)
        d = (V.T @ e[t]) * (1 - s[t] ** 2)
        for k in range(t, stop - 1, -1):
            prev = s[k - 1] if k > 0 else s_init
            grads["W"] += np.outer(d, prev)
            grads["U"] += np.outer(d, x[k])
            if k > stop:
                d = (W.T @ d) * (1 - s[k - 1] ** 2)
    grads["V"] = dV
    return grads


def state_jacobian(s_t, W):
    """diag(1 - s_t**2) @ W."""
    return (1.0 - s_t ** 2)[:, None] * W


def jacobian_product(s, W, t, k):
    """J_t @ J_{t-1} @ ... @ J_{k+1}."""
    H = W.shape[0]
    product = np.eye(H)
    for j in range(t, k, -1):
        product = product @ state_jacobian(s[j], W)
    return product


def clip_gradient_norm(grads, max_norm):
    """Global-norm clipping; always returns new arrays."""
    norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads.values()))
    if norm > max_norm:
        scale = max_norm / norm
        return {name: g * scale for name, g in grads.items()}
    return {name: np.array(g, copy=True) for name, g in grads.items()}


def numerical_gradient(f, x, eps=1e-5):
    """Centred differences, entry by entry."""
    point = np.array(x, dtype=np.float64)
    grad = np.zeros(point.shape)
    for index in np.ndindex(point.shape):
        saved = point[index]
        point[index] = saved + eps
        f_plus = f(point)
        point[index] = saved - eps
        f_minus = f(point)
        point[index] = saved
        grad[index] = (f_plus - f_minus) / (2.0 * eps)
    return grad
