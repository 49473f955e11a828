# expect: pass

# float32; rnn_backward as an explicit sum over k of jacobian_product(...).T @ dE_t/ds_t
import numpy as np

F = np.float32


def softmax(z):
    z = np.asarray(z, dtype=F)
    m = z.max(axis=-1, keepdims=True)
    e = np.exp(z - m)
    return e / e.sum(axis=-1, keepdims=True)


def rnn_forward(x, U, W, V, s0=None):
    x, U, W, V = (np.asarray(a, dtype=F) for a in (x, U, W, V))
    T = x.shape[0]
    H = W.shape[0]
    s = np.zeros((T, H), dtype=F)
    prev = np.zeros(H, dtype=F) if s0 is None else np.asarray(s0, dtype=F)
    for t in range(T):
        prev = np.tanh(x[t] @ U.T + prev @ W.T)
        s[t] = prev
    return s, softmax(s @ V.T)


def state_jacobian(s_t, W):
    s_t = np.asarray(s_t, dtype=F)
    return np.diag(1 - s_t ** 2) @ np.asarray(W, dtype=F)


def jacobian_product(s, W, t, k):
    # ds_t/ds_k = J_t J_{t-1} ... J_{k+1}
    result = np.eye(W.shape[0], dtype=F)
    j = t
    while j > k:
        result = result @ state_jacobian(s[j], W)
        j -= 1
    return result


def rnn_backward(x, y, U, W, V, s0=None, bptt_truncate=None):
    # dE/dW = sum_t sum_k  (dE_t/ds_t  ds_t/ds_k) * ds_k/dW(local)
    T = len(y)
    H = W.shape[0]
    s, o = rnn_forward(x, U, W, V, s0)
    x = np.asarray(x, dtype=F)
    V32 = np.asarray(V, dtype=F)
    s_prev = np.zeros((T, H), dtype=F)
    if s0 is not None:
        s_prev[0] = s0
    s_prev[1:] = s[:-1]
    err = o.copy()
    err[np.arange(T), y] -= 1
    dV = err.T @ s
    dU = np.zeros(U.shape, dtype=F)
    dW = np.zeros(W.shape, dtype=F)
    for t in range(T):
        dE_ds_t = V32.T @ err[t]
        lo = 0 if bptt_truncate is None else max(0, t - bptt_truncate)
        for k in range(lo, t + 1):
            dE_ds_k = jacobian_product(s, W, t, k).T @ dE_ds_t
            da_k = dE_ds_k * (1 - s[k] ** 2)
            dW += np.outer(da_k, s_prev[k])
            dU += np.outer(da_k, x[k])
    return {"U": dU, "W": dW, "V": dV}


def clip_gradient_norm(grads, max_norm):
    flat = np.concatenate([np.asarray(g, dtype=F).ravel() for g in grads.values()])
    norm = np.linalg.norm(flat)
    factor = min(F(1.0), F(max_norm) / norm) if norm > 0 else F(1.0)
    return {key: (np.asarray(g, dtype=F) * factor) for key, g in grads.items()}


def numerical_gradient(f, x, eps=1e-5):
    # finite differences need float64: keep this one in double precision
    x0 = np.array(x, dtype=np.float64)
    flat = x0.reshape(-1)  # view into x0 (a copy of the caller's x)
    grad = np.empty_like(flat)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        up = f(x0)
        flat[i] = saved - eps
        down = f(x0)
        flat[i] = saved
        grad[i] = (up - down) / (2.0 * eps)
    return grad.reshape(x.shape)
