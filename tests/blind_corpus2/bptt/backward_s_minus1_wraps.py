"""Part 3: BPTT. Per-time-step walk back, as in the WildML tutorial."""
import numpy as np


def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def rnn_step_forward(x_t, s_prev, U, W):
    return np.tanh(U @ x_t + W @ s_prev)


def rnn_forward(x, U, W, V, s0=None):
    T, H = x.shape[0], U.shape[0]
    s = np.zeros((T, H))
    prev = np.zeros(H) if s0 is None else s0
    for t in range(T):
        prev = rnn_step_forward(x[t], prev, U, W)
        s[t] = prev
    o = softmax(s @ V.T)
    return s, o


def state_jacobian(s_t, W):
    return (1.0 - s_t ** 2)[:, None] * W


def jacobian_product(s, W, t, k):
    H = W.shape[0]
    J = np.eye(H)
    for j in range(t, k, -1):
        J = J @ ((1.0 - s[j] ** 2)[:, None] * W)
    return J


def rnn_backward(x, y, U, W, V, s0=None, bptt_truncate=None):
    T = x.shape[0]
    s, o = rnn_forward(x, U, W, V, s0)
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    delta_o = o.copy()
    delta_o[np.arange(T), y] -= 1.0
    for t in range(T):
        dV += np.outer(delta_o[t], s[t])
        delta = (V.T @ delta_o[t]) * (1.0 - s[t] ** 2)
        lo = 0 if bptt_truncate is None else max(0, t - bptt_truncate)
        for k in range(t, lo - 1, -1):
            dW += np.outer(delta, s[k - 1])
            dU += np.outer(delta, x[k])
            if k > lo:
                delta = (W.T @ delta) * (1.0 - s[k - 1] ** 2)
    return {"U": dU, "W": dW, "V": dV}


def clip_gradient_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    if total > max_norm:
        scale = max_norm / total
        return {name: g * scale for name, g in grads.items()}
    return {name: g.copy() for name, g in grads.items()}


def numerical_gradient(f, x, eps=1e-5):
    xc = np.array(x, dtype=float, copy=True)
    grad = np.zeros_like(xc)
    for idx in np.ndindex(xc.shape):
        old = xc[idx]
        xc[idx] = old + eps
        fp = f(xc)
        xc[idx] = old - eps
        fm = f(xc)
        xc[idx] = old
        grad[idx] = (fp - fm) / (2 * eps)
    return grad
