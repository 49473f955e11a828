"""rnnkit blind corpus, part bptt: correct_explicit_jacobians"""
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
    start = np.zeros(H) if s0 is None else s0
    s, o = rnn_forward(x, U, W, V, start)
    out = {"U": np.zeros(U.shape), "W": np.zeros(W.shape), "V": np.zeros(V.shape)}
    for t in range(T):
        e_t = o[t].copy()
        e_t[y[t]] -= 1
        out["V"] += np.outer(e_t, s[t])
        top = V.T @ e_t
        lo = 0 if bptt_truncate is None else max(0, t - bptt_truncate)
        for k in range(lo, t + 1):
            delta = (1 - s[k] ** 2) * (jacobian_product(s, W, t, k).T @ top)
            out["W"] += np.outer(delta, s[k - 1] if k >= 1 else start)
            out["U"] += np.outer(delta, x[k])
    return out


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
    sq = 0.0
    for g in grads.values():
        sq += float(np.vdot(g, g))
    norm = sq ** 0.5
    if norm <= max_norm:
        return {name: g.copy() for name, g in grads.items()}
    return {name: g * (max_norm / norm) for name, g in grads.items()}


def numerical_gradient(f, x, eps=1e-5):
    xc = x.astype(np.float64).copy()
    grad = np.zeros_like(xc)
    it = np.nditer(xc, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        idx = it.multi_index
        orig = xc[idx]
        xc[idx] = orig + eps
        fp = f(xc)
        xc[idx] = orig - eps
        fm = f(xc)
        xc[idx] = orig
        grad[idx] = (fp - fm) / (2 * eps)
        it.iternext()
    return grad
