"""rnnkit blind corpus, part gru: candidate_ignores_reset"""
import numpy as np


def sigmoid(z):
    """Stable logistic sigmoid."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def update_gate(h_prev, x_t, Wz, bz):
    hx = np.concatenate([h_prev, x_t])
    return sigmoid(Wz @ hx + bz)


def reset_gate(h_prev, x_t, Wr, br):
    hx = np.concatenate([h_prev, x_t])
    return sigmoid(Wr @ hx + br)


def candidate_hidden(h_prev, x_t, r_t, Wh, bh):
    rhx = np.concatenate([h_prev, x_t])
    return np.tanh(Wh @ rhx + bh)


def gru_step_forward(x_t, h_prev, params):
    hx = np.concatenate([h_prev, x_t])
    z = sigmoid(params["Wz"] @ hx + params["bz"])
    r = sigmoid(params["Wr"] @ hx + params["br"])
    cand = np.tanh(params["Wh"] @ np.concatenate([r * h_prev, x_t]) + params["bh"])
    return (1.0 - z) * h_prev + z * cand


def gru_forward(x, params, h0=None):
    T = x.shape[0]
    H = params["Wz"].shape[0]
    h = np.zeros((T, H))
    h_prev = np.zeros(H) if h0 is None else h0
    for t in range(T):
        h[t] = gru_step_forward(x[t], h_prev, params)
        h_prev = h[t]
    return h


def gru_backward(x, params, dh, h0=None):
    T, D = x.shape
    H = params["bz"].shape[0]
    Wz, Wr, Wh = params["Wz"], params["Wr"], params["Wh"]
    hp = np.zeros(H) if h0 is None else np.asarray(h0, dtype=float)
    steps = []
    for t in range(T):
        v = np.concatenate([hp, x[t]])
        z = sigmoid(Wz @ v + params["bz"])
        r = sigmoid(Wr @ v + params["br"])
        hc = np.tanh(Wh[:, :H] @ (r * hp) + Wh[:, H:] @ x[t] + params["bh"])
        steps.append((hp, z, r, hc))
        hp = (1 - z) * hp + z * hc
    g = {k: np.zeros(np.shape(v)) for k, v in params.items()}
    dx = np.zeros((T, D))
    back = np.zeros(H)
    for t in range(T - 1, -1, -1):
        hp, z, r, hc = steps[t]
        gh = dh[t] + back
        ah = gh * z * (1 - hc ** 2)
        az = gh * (hc - hp) * z * (1 - z)
        gRh = Wh[:, :H].T @ ah
        ar = gRh * hp * r * (1 - r)
        g["Wh"][:, :H] += np.outer(ah, r * hp)
        g["Wh"][:, H:] += np.outer(ah, x[t])
        g["bh"] += ah
        for name, a in (("z", az), ("r", ar)):
            g["W" + name][:, :H] += np.outer(a, hp)
            g["W" + name][:, H:] += np.outer(a, x[t])
            g["b" + name] += a
        dx[t] = Wh[:, H:].T @ ah + Wz[:, H:].T @ az + Wr[:, H:].T @ ar
        back = gh * (1 - z) + gRh * r + Wz[:, :H].T @ az + Wr[:, :H].T @ ar
    g["x"] = dx
    g["h0"] = back
    return g
