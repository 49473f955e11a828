"""rnnkit blind corpus, part bptt: correct_sweep_and_reduce"""
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
    T = x.shape[0]
    H = W.shape[0]
    s_init = np.zeros(H) if s0 is None else np.asarray(s0, dtype=float)
    s, o = rnn_forward(x, U, W, V, s_init)
    e = o.copy()
    e[np.arange(T), y] -= 1.0
    s_prevs = np.vstack([s_init[None, :], s[:-1]])
    dV = e.T @ s
    if bptt_truncate is None:
        deltas = np.zeros((T, H))
        carry = np.zeros(H)
        for k in reversed(range(T)):
            deltas[k] = (V.T @ e[k] + carry) * (1.0 - s[k] ** 2)
            carry = W.T @ deltas[k]
        return {"U": deltas.T @ x, "W": deltas.T @ s_prevs, "V": dV}
    dU = np.zeros_like(U, dtype=float)
    dW = np.zeros_like(W, dtype=float)
    for t in range(T):
        d = (V.T @ e[t]) * (1.0 - s[t] ** 2)
        k = t
        while True:
            dW += np.outer(d, s_prevs[k])
            dU += np.outer(d, x[k])
            if k == 0 or k == t - bptt_truncate:
                break
            d = (W.T @ d) * (1.0 - s[k - 1] ** 2)
            k -= 1
    return {"U": dU, "W": dW, "V": dV}


def state_jacobian(s_t, W):
    return np.diag(1.0 - s_t * s_t) @ W


from functools import reduce

def jacobian_product(s, W, t, k):
    factors = [state_jacobian(s[j], W) for j in range(t, k, -1)]
    return reduce(np.matmul, factors, np.eye(W.shape[0]))


def clip_gradient_norm(grads, max_norm):
    flat = np.concatenate([np.ravel(g) for g in grads.values()])
    norm = np.linalg.norm(flat)
    factor = max_norm / norm if norm > max_norm else 1.0
    return {k: np.asarray(v, dtype=float) * factor for k, v in grads.items()}


def numerical_gradient(f, x, eps=1e-5):
    work = np.array(x, dtype=float, copy=True)
    flat = work.reshape(-1)
    grad = np.zeros(flat.size)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + eps
        up = f(work)
        flat[i] = keep - eps
        down = f(work)
        flat[i] = keep
        grad[i] = (up - down) / (2 * eps)
    return grad.reshape(np.shape(x))
