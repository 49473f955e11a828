"""Part 5 -- GRU (Olah's convention: small z keeps the old state)."""
import numpy as np


def _sig(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _cat(h, x):
    return np.concatenate((h, x))


def sigmoid(z):
    z = np.asarray(z, dtype=float)
    return _sig(z)


def update_gate(h_prev, x_t, Wz, bz):
    return _sig(Wz @ _cat(h_prev, x_t) + bz)


def reset_gate(h_prev, x_t, Wr, br):
    return _sig(Wr @ _cat(h_prev, x_t) + br)


def candidate_hidden(h_prev, x_t, r_t, Wh, bh):
    return np.tanh(Wh @ _cat(r_t * h_prev, x_t) + bh)


def gru_step_forward(x_t, h_prev, params):
    v = _cat(h_prev, x_t)
    z = _sig(params["Wz"] @ v + params["bz"])
    r = _sig(params["Wr"] @ v + params["br"])
    h_tilde = np.tanh(params["Wh"] @ _cat(r * h_prev, x_t) + params["bh"])
    return (1.0 - z) * h_prev + z * h_tilde


def gru_forward(x, params, h0=None):
    T = x.shape[0]
    H = params["bz"].shape[0]
    h_prev = np.zeros(H) if h0 is None else h0
    h = np.zeros((T, H))
    for t in range(T):
        v = _cat(h_prev, x[t])
        z = _sig(params["Wz"] @ v + params["bz"])
        r = _sig(params["Wr"] @ v + params["br"])
        h_tilde = np.tanh(params["Wh"] @ _cat(r * h_prev, x[t]) + params["bh"])
        h_prev = (1.0 - z) * h_prev + z * h_tilde
        h[t] = h_prev
    return h


def gru_backward(x, params, dh, h0=None):
    T, D = x.shape
    H = params["bz"].shape[0]
    Wz, Wr, Wh = params["Wz"], params["Wr"], params["Wh"]
    hp = np.zeros(H) if h0 is None else np.asarray(h0, dtype=float)
    cache = []
    for t in range(T):
        v = _cat(hp, x[t])
        z = _sig(Wz @ v + params["bz"])
        r = _sig(Wr @ v + params["br"])
        u = _cat(r * hp, x[t])
        hc = np.tanh(Wh @ u + params["bh"])
        cache.append((hp, v, u, z, r, hc))
        hp = (1.0 - z) * hp + z * hc
    grads = {k: np.zeros(np.shape(params[k])) for k in params}
    dx = np.zeros((T, D))
    d_next = np.zeros(H)
    for t in range(T - 1, -1, -1):
        hp, v, u, z, r, hc = cache[t]
        d = dh[t] + d_next
        dz = d * (hc - hp)
        dprev = d * (1.0 - z)                       # route 1
        dah = d * z * (1.0 - hc ** 2)
        grads["Wh"] += np.outer(dah, v)
        grads["bh"] += dah
        du = Wh.T @ dah
        dx[t] = du[H:]
        g = du[:H]
        dr = g * hp
        dprev += g * r                              # route 2
        daz = dz * z * (1.0 - z)
        dar = dr * r * (1.0 - r)
        grads["Wz"] += np.outer(daz, v)
        grads["bz"] += daz
        grads["Wr"] += np.outer(dar, v)
        grads["br"] += dar
        dv = Wz.T @ daz + Wr.T @ dar
        dprev += dv[:H]                             # routes 3 and 4
        dx[t] += dv[H:]
        d_next = dprev
    grads["x"] = dx
    grads["h0"] = d_next
    return grads
