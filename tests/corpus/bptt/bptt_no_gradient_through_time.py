# expect: fail rnn_backward
# mistake: bptt_no_gradient_through_time
# why: in the full-BPTT sweep the error carried back from s_{t+1} is never added: each step only gets its local error

import numpy as np


def softmax(z):
    m = np.max(z, axis=-1, keepdims=True)
    return np.exp(z - m - np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True)))


def rnn_forward(x, U, W, V, s0=None):
    T = len(x)
    H = len(W)
    s_list = []
    prev = np.zeros(H) if s0 is None else s0
    for t in range(T):
        prev = np.tanh(U.dot(x[t]) + W.dot(prev))
        s_list.append(prev)
    s = np.array(s_list)
    return s, softmax(s.dot(V.T))


def rnn_backward(x, y, U, W, V, s0=None, bptt_truncate=None):
    T = len(y)
    H = W.shape[0]
    s, o = rnn_forward(x, U, W, V, s0)
    s_prev = np.vstack([np.zeros((1, H)) if s0 is None else s0[None, :], s[:-1]])
    do = o - np.eye(V.shape[0])[y]
    dV = do.T.dot(s)
    dU = np.zeros_like(U)
    dW = np.zeros_like(W)
    if bptt_truncate is None or bptt_truncate >= T - 1:
        # full BPTT in one backward sweep: the error arriving at s_t is the
        # local error plus the error carried back from s_{t+1}
        ds_next = np.zeros(H)
        da = np.zeros((T, H))
        for t in reversed(range(T)):
            ds = V.T.dot(do[t])
            da[t] = ds * (1 - s[t] ** 2)
            ds_next = W.T.dot(da[t])
        dW = da.T.dot(s_prev)
        dU = da.T.dot(x)
    else:
        # truncated: each E_t is only allowed bptt_truncate steps back
        for t in range(T):
            da = V.T.dot(do[t]) * (1 - s[t] ** 2)
            k = t
            while True:
                dW += np.outer(da, s_prev[k])
                dU += np.outer(da, x[k])
                if k == 0 or k == t - bptt_truncate:
                    break
                da = W.T.dot(da) * (1 - s[k - 1] ** 2)
                k -= 1
    return {"U": dU, "W": dW, "V": dV}


def state_jacobian(s_t, W):
    H = len(s_t)
    J = np.empty((H, H))
    for i in range(H):
        J[i, :] = (1 - s_t[i] ** 2) * W[i, :]
    return J


def jacobian_product(s, W, t, k):
    from functools import reduce
    mats = [state_jacobian(s[j], W) for j in range(t, k, -1)]
    return reduce(np.matmul, mats, np.eye(len(W)))


def clip_gradient_norm(grads, max_norm):
    norm = np.linalg.norm([np.linalg.norm(g) for g in grads.values()])
    out = {}
    for k, g in grads.items():
        out[k] = g * (max_norm / norm) if norm > max_norm else np.copy(g)
    return out


def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        xp = x.astype(float)  # fresh copies each time
        xm = x.astype(float)
        xp[i] += eps
        xm[i] -= eps
        grad[i] = (f(xp) - f(xm)) / (2 * eps)
        it.iternext()
    return grad
