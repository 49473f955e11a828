"""rnnkit blind corpus, part bptt: bptt_dW_uses_s_k"""
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
    """Gradients of the summed cross-entropy loss (truncated BPTT)."""
    T = x.shape[0]
    s_init = np.zeros(W.shape[0]) if s0 is None else s0
    s, o = rnn_forward(x, U, W, V, s_init)
    err = np.array(o, dtype=np.float64)
    err[np.arange(T), y] -= 1.0
    dU = np.zeros(U.shape)
    dW = np.zeros(W.shape)
    dV = np.zeros(V.shape)
    for t in range(T):
        dV += np.outer(err[t], s[t])
        first = 0 if bptt_truncate is None else max(0, t - bptt_truncate)
        delta = (V.T @ err[t]) * (1.0 - s[t] ** 2)
        for k in range(t, first - 1, -1):
            s_before = s[k - 1] if k > 0 else s_init
            dW += np.outer(delta, s[k])
            dU += np.outer(delta, x[k])
            if k > first:
                delta = (W.T @ delta) * (1.0 - s[k - 1] ** 2)
    return {"U": dU, "W": dW, "V": dV}


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
