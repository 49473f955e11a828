# expect: fail rnn_backward
# mistake: bptt_ignores_s0
# why: ignores s0 altogether: the forward pass starts from zeros and dW uses zeros for s_{-1} at step 0

import numpy as np


# ---- from part 1 ----
def softmax(z):
    z = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def rnn_forward(x, U, W, V, s0=None):
    T = x.shape[0]
    H = W.shape[0]
    s = np.zeros((T, H))
    s_prev = np.zeros(H) if s0 is None else s0
    for t in range(T):
        s[t] = np.tanh(U @ x[t] + W @ s_prev)
        s_prev = s[t]
    o = softmax(s @ V.T)
    return s, o


# ---- part 3 ----
def rnn_backward(x, y, U, W, V, s0=None, bptt_truncate=None):
    T = len(y)
    H = W.shape[0]
    s, o = rnn_forward(x, U, W, V)
    s_init = np.zeros(H)
    dU = np.zeros_like(U)
    dW = np.zeros_like(W)
    dV = np.zeros_like(V)
    delta_o = o.copy()
    delta_o[np.arange(T), y] -= 1.0
    for t in np.arange(T)[::-1]:
        dV += np.outer(delta_o[t], s[t])
        delta_t = (V.T @ delta_o[t]) * (1 - s[t] ** 2)
        if bptt_truncate is None:
            first = 0
        else:
            first = max(0, t - bptt_truncate)
        for step in np.arange(first, t + 1)[::-1]:
            s_before = s[step - 1] if step > 0 else s_init
            dW += np.outer(delta_t, s_before)
            dU += np.outer(delta_t, x[step])
            if step > 0:
                delta_t = (W.T @ delta_t) * (1 - s[step - 1] ** 2)
    return {"U": dU, "W": dW, "V": dV}


def state_jacobian(s_t, W):
    return (1 - s_t ** 2)[:, None] * W


def jacobian_product(s, W, t, k):
    H = W.shape[0]
    J = np.eye(H)
    for j in range(t, k, -1):
        J = J @ state_jacobian(s[j], W)
    return J


def clip_gradient_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    if total > max_norm:
        scale = max_norm / total
        return {name: g * scale for name, g in grads.items()}
    return {name: g.copy() for name, g in grads.items()}


def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    x_work = np.array(x, dtype=float)  # never touch the caller's x
    for idx in np.ndindex(x.shape):
        old = x_work[idx]
        x_work[idx] = old + eps
        f_plus = f(x_work)
        x_work[idx] = old - eps
        f_minus = f(x_work)
        x_work[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
