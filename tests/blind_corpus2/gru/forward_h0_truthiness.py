"""gru.py -- each function reuses the one before it."""
import numpy as np


def sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def update_gate(h_prev, x_t, Wz, bz):
    return sigmoid(np.dot(Wz, np.hstack([h_prev, x_t])) + bz)


def reset_gate(h_prev, x_t, Wr, br):
    return sigmoid(np.dot(Wr, np.hstack([h_prev, x_t])) + br)


def candidate_hidden(h_prev, x_t, r_t, Wh, bh):
    return np.tanh(np.dot(Wh, np.hstack([r_t * h_prev, x_t])) + bh)


def gru_step_forward(x_t, h_prev, params):
    z_t = update_gate(h_prev, x_t, params["Wz"], params["bz"])
    r_t = reset_gate(h_prev, x_t, params["Wr"], params["br"])
    h_cand = candidate_hidden(h_prev, x_t, r_t, params["Wh"], params["bh"])
    return (1 - z_t) * h_prev + z_t * h_cand


def gru_forward(x, params, h0=None):
    H = params["Wz"].shape[0]
    if not h0:
        h0 = np.zeros(H)
    h_t = h0
    states = []
    for x_t in x:
        h_t = gru_step_forward(x_t, h_t, params)
        states.append(h_t)
    return np.array(states)


def gru_backward(x, params, dh, h0=None):
    T, D = x.shape
    H = params["Wz"].shape[0]
    sg = lambda a: 1.0 / (1.0 + np.exp(-np.clip(a, -500, 500)))
    Wz, Wr, Wh = params["Wz"], params["Wr"], params["Wh"]
    hp = np.zeros(H) if h0 is None else np.asarray(h0, dtype=float)
    V = np.empty((T, H + D)); U = np.empty((T, H + D))
    Z, R, C, P = (np.empty((T, H)) for _ in range(4))
    for t in range(T):
        P[t] = hp
        V[t] = np.hstack([hp, x[t]])
        Z[t] = sg(Wz @ V[t] + params["bz"])
        R[t] = sg(Wr @ V[t] + params["br"])
        U[t] = np.hstack([R[t] * hp, x[t]])
        C[t] = np.tanh(Wh @ U[t] + params["bh"])
        hp = (1 - Z[t]) * hp + Z[t] * C[t]
    dAz, dAr, dAh = (np.zeros((T, H)) for _ in range(3))
    dxs = np.zeros((T, D))
    carry = np.zeros(H)
    for t in reversed(range(T)):
        g_h = dh[t] + carry
        dAh[t] = g_h * Z[t] * (1 - C[t] ** 2)
        dU = Wh.T @ dAh[t]
        dAz[t] = g_h * (C[t] - P[t]) * Z[t] * (1 - Z[t])
        dAr[t] = dU[:H] * P[t] * R[t] * (1 - R[t])
        dV = Wz.T @ dAz[t] + Wr.T @ dAr[t]
        carry = g_h * (1 - Z[t]) + dU[:H] * R[t] + dV[:H]
        dxs[t] = dU[H:] + dV[H:]
    return {
        "Wz": np.einsum("ti,tj->ij", dAz, V), "bz": dAz.sum(axis=0),
        "Wr": np.einsum("ti,tj->ij", dAr, V), "br": dAr.sum(axis=0),
        "Wh": np.einsum("ti,tj->ij", dAh, U), "bh": dAh.sum(axis=0),
        "x": dxs, "h0": carry,
    }
