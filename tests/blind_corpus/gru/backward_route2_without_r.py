"""rnnkit blind corpus, part gru: backward_route2_without_r"""
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
    rhx = np.concatenate([r_t * h_prev, x_t])
    return np.tanh(Wh @ rhx + bh)


def gru_step_forward(x_t, h_prev, params):
    z = update_gate(h_prev, x_t, params["Wz"], params["bz"])
    r = reset_gate(h_prev, x_t, params["Wr"], params["br"])
    h_tilde = candidate_hidden(h_prev, x_t, r, params["Wh"], params["bh"])
    return (1.0 - z) * h_prev + z * h_tilde


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
    H = params["Wz"].shape[0]
    h_prev = np.zeros(H) if h0 is None else h0
    cache = []
    for t in range(T):
        z = update_gate(h_prev, x[t], params["Wz"], params["bz"])
        r = reset_gate(h_prev, x[t], params["Wr"], params["br"])
        h_tilde = candidate_hidden(h_prev, x[t], r, params["Wh"], params["bh"])
        cache.append((h_prev, z, r, h_tilde))
        h_prev = (1.0 - z) * h_prev + z * h_tilde
    grads = {}
    for g in ("z", "r", "h"):
        grads["W" + g] = np.zeros((H, H + D))
        grads["b" + g] = np.zeros(H)
    dx = np.zeros((T, D))
    dh_next = np.zeros(H)
    for t in range(T - 1, -1, -1):
        h_prev, z, r, h_tilde = cache[t]
        dh_t = dh[t] + dh_next
        dz = dh_t * (h_tilde - h_prev)
        dh_tilde = dh_t * z
        dh_prev = dh_t * (1.0 - z)
        da_h = dh_tilde * (1.0 - h_tilde ** 2)
        u = np.concatenate([r * h_prev, x[t]])
        grads["Wh"] += np.outer(da_h, u)
        grads["bh"] += da_h
        du = params["Wh"].T @ da_h
        dr = du[:H] * h_prev
        dh_prev += du[:H]
        dx[t] = du[H:]
        v = np.concatenate([h_prev, x[t]])
        da_z = dz * z * (1.0 - z)
        da_r = dr * r * (1.0 - r)
        grads["Wz"] += np.outer(da_z, v)
        grads["bz"] += da_z
        grads["Wr"] += np.outer(da_r, v)
        grads["br"] += da_r
        dv = params["Wz"].T @ da_z + params["Wr"].T @ da_r
        dh_prev += dv[:H]
        dx[t] += dv[H:]
        dh_next = dh_prev
    grads["x"] = dx
    grads["h0"] = dh_next
    return grads
