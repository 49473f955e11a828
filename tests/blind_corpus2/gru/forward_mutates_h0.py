import numpy as np


def _logistic(a):
    return np.exp(-np.logaddexp(0.0, -a))


def sigmoid(z):
    return _logistic(np.asarray(z, dtype=float))


def update_gate(h_prev, x_t, Wz, bz):
    H = len(h_prev)
    return _logistic(Wz[:, :H] @ h_prev + Wz[:, H:] @ x_t + bz)


def reset_gate(h_prev, x_t, Wr, br):
    H = len(h_prev)
    return _logistic(Wr[:, :H] @ h_prev + Wr[:, H:] @ x_t + br)


def candidate_hidden(h_prev, x_t, r_t, Wh, bh):
    H = len(h_prev)
    return np.tanh(Wh[:, :H] @ (r_t * h_prev) + Wh[:, H:] @ x_t + bh)


def gru_step_forward(x_t, h_prev, params):
    H = len(h_prev)
    Wz, Wr, Wh = params["Wz"], params["Wr"], params["Wh"]
    z = _logistic(Wz[:, :H] @ h_prev + Wz[:, H:] @ x_t + params["bz"])
    r = _logistic(Wr[:, :H] @ h_prev + Wr[:, H:] @ x_t + params["br"])
    cand = np.tanh(Wh[:, :H] @ (r * h_prev) + Wh[:, H:] @ x_t + params["bh"])
    return h_prev + z * (cand - h_prev)


def gru_forward(x, params, h0=None):
    H = params["Wz"].shape[0]
    Wz, Wr, Wh = params["Wz"], params["Wr"], params["Wh"]
    h_t = np.zeros(H) if h0 is None else h0
    out = np.empty((x.shape[0], H))
    for t in range(x.shape[0]):
        z = _logistic(Wz @ np.concatenate([h_t, x[t]]) + params["bz"])
        r = _logistic(Wr @ np.concatenate([h_t, x[t]]) + params["br"])
        cand = np.tanh(Wh @ np.concatenate([r * h_t, x[t]]) + params["bh"])
        h_t += z * (cand - h_t)
        out[t] = h_t
    return out


def gru_backward(x, params, dh, h0=None):
    T, D = x.shape
    H = params["Wz"].shape[0]
    Wz, Wr, Wh = params["Wz"], params["Wr"], params["Wh"]
    Hp = np.zeros((T, H)); Z = np.zeros((T, H)); R = np.zeros((T, H)); C = np.zeros((T, H))
    h_t = np.zeros(H) if h0 is None else np.array(h0, dtype=float)
    for t in range(T):
        Hp[t] = h_t
        Z[t] = _logistic(Wz[:, :H] @ h_t + Wz[:, H:] @ x[t] + params["bz"])
        R[t] = _logistic(Wr[:, :H] @ h_t + Wr[:, H:] @ x[t] + params["br"])
        C[t] = np.tanh(Wh[:, :H] @ (R[t] * h_t) + Wh[:, H:] @ x[t] + params["bh"])
        h_t = h_t + Z[t] * (C[t] - h_t)
    Az = np.zeros((T, H)); Ar = np.zeros((T, H)); Ah = np.zeros((T, H))
    dx = np.zeros((T, D))
    back = np.zeros(H)
    for t in range(T - 1, -1, -1):
        d = dh[t] + back
        Ah[t] = d * Z[t] * (1 - C[t] ** 2)
        g = Wh[:, :H].T @ Ah[t]
        Az[t] = d * (C[t] - Hp[t]) * Z[t] * (1 - Z[t])
        Ar[t] = g * Hp[t] * R[t] * (1 - R[t])
        back = (d * (1 - Z[t]) + g * R[t]
                + Wz[:, :H].T @ Az[t] + Wr[:, :H].T @ Ar[t])
        dx[t] = Wh[:, H:].T @ Ah[t] + Wz[:, H:].T @ Az[t] + Wr[:, H:].T @ Ar[t]
    Vg = np.hstack([Hp, x])              # [h_{t-1}; x_t] per row
    Vh = np.hstack([R * Hp, x])          # [r_t * h_{t-1}; x_t] per row
    return {"Wz": Az.T @ Vg, "bz": Az.sum(0), "Wr": Ar.T @ Vg, "br": Ar.sum(0),
            "Wh": Ah.T @ Vh, "bh": Ah.sum(0), "x": dx, "h0": back}
