import numpy as np

GATES = ("f", "i", "c", "o")


def _logistic(a):
    a = np.asarray(a, dtype=float)
    out = np.empty_like(a)
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    ea = np.exp(a[~pos])
    out[~pos] = ea / (1.0 + ea)
    return out


def _big_matrix(params):
    W = np.vstack([params["W" + g] for g in GATES])
    b = np.concatenate([params["b" + g] for g in GATES])
    return W, b


def sigmoid(z):
    return _logistic(z)


def forget_gate(h_prev, x_t, Wf, bf):
    H = h_prev.shape[0]
    return np.tanh(Wf[:, :H] @ h_prev + Wf[:, H:] @ x_t + bf)


def input_gate(h_prev, x_t, Wi, bi):
    H = h_prev.shape[0]
    return _logistic(Wi[:, :H].dot(h_prev) + Wi[:, H:].dot(x_t) + bi)


def candidate_cell(h_prev, x_t, Wc, bc):
    H = len(h_prev)
    return np.tanh(Wc[:, :H] @ h_prev + Wc[:, H:] @ x_t + bc)


def output_gate(h_prev, x_t, Wo, bo):
    H = len(h_prev)
    return _logistic(Wo[:, :H] @ h_prev + Wo[:, H:] @ x_t + bo)


def lstm_step_forward(x_t, h_prev, c_prev, params):
    W, b = _big_matrix(params)
    H = h_prev.shape[0]
    a = W @ np.concatenate([h_prev, x_t]) + b
    f, i, o = _logistic(a[:H]), _logistic(a[H:2 * H]), _logistic(a[3 * H:])
    g = np.tanh(a[2 * H:3 * H])
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t


def lstm_forward(x, params, h0=None, c0=None):
    W, b = _big_matrix(params)
    H = params["bf"].shape[0]
    Wh, Wx = W[:, :H], W[:, H:]
    pre_x = x @ Wx.T + b                   # (T, 4H), input part for all steps
    h_t = np.zeros(H) if h0 is None else np.array(h0, dtype=float)
    c_t = np.zeros(H) if c0 is None else np.array(c0, dtype=float)
    hs, cs = [], []
    for t in range(x.shape[0]):
        a = pre_x[t] + Wh @ h_t
        f, i, o = _logistic(a[:H]), _logistic(a[H:2 * H]), _logistic(a[3 * H:])
        c_t = f * c_t + i * np.tanh(a[2 * H:3 * H])
        h_t = o * np.tanh(c_t)
        hs.append(h_t)
        cs.append(c_t)
    return np.array(hs), np.array(cs)


def lstm_backward(x, params, dh, h0=None, c0=None):
    W, b = _big_matrix(params)
    T, D = x.shape
    H = params["bf"].shape[0]
    V = np.zeros((T, H + D))              # stacked inputs [h_{t-1}; x_t]
    F = np.zeros((T, H)); I = np.zeros((T, H)); G = np.zeros((T, H)); O = np.zeros((T, H))
    C = np.zeros((T + 1, H))              # C[t + 1] is c_t, C[0] is c0
    h_t = np.zeros(H) if h0 is None else h0
    C[0] = 0.0 if c0 is None else c0
    for t in range(T):
        V[t, :H], V[t, H:] = h_t, x[t]
        a = W @ V[t] + b
        F[t], I[t], O[t] = _logistic(a[:H]), _logistic(a[H:2 * H]), _logistic(a[3 * H:])
        G[t] = np.tanh(a[2 * H:3 * H])
        C[t + 1] = F[t] * C[t] + I[t] * G[t]
        h_t = O[t] * np.tanh(C[t + 1])
    TC = np.tanh(C[1:])
    dA = np.zeros((T, 4 * H))
    dV = np.zeros((T, H + D))
    carry_h = np.zeros(H)
    carry_c = np.zeros(H)
    for t in range(T - 1, -1, -1):
        d_h = dh[t] + carry_h
        d_c = carry_c + d_h * O[t] * (1 - TC[t] ** 2)
        dA[t, :H] = d_c * C[t] * F[t] * (1 - F[t])
        dA[t, H:2 * H] = d_c * G[t] * I[t] * (1 - I[t])
        dA[t, 2 * H:3 * H] = d_c * I[t] * (1 - G[t] ** 2)
        dA[t, 3 * H:] = d_h * TC[t] * O[t] * (1 - O[t])
        dV[t] = W.T @ dA[t]
        carry_h = dV[t, :H]
        carry_c = d_c * F[t]
    dW = dA.T @ V
    db = dA.sum(axis=0)
    out = {}
    for n, g in enumerate(GATES):
        out["W" + g] = dW[n * H:(n + 1) * H]
        out["b" + g] = db[n * H:(n + 1) * H]
    out["x"] = dV[:, H:]
    out["h0"] = carry_h
    out["c0"] = carry_c
    return out
