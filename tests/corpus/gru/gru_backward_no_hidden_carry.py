# expect: fail gru_backward
# mistake: last_step_only
# why: dh_t = dh[t] forgets the gradient carried back from step t+1 (no specific entry; the general pattern names it)

import numpy as np


def sigmoid(z):
    out = np.empty_like(z, dtype=float)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def update_gate(h_prev, x_t, Wz, bz):
    return sigmoid(Wz @ np.concatenate([h_prev, x_t]) + bz)


def reset_gate(h_prev, x_t, Wr, br):
    return sigmoid(Wr @ np.concatenate([h_prev, x_t]) + br)


def candidate_hidden(h_prev, x_t, r_t, Wh, bh):
    return np.tanh(Wh @ np.concatenate([r_t * h_prev, x_t]) + bh)


def gru_step_forward(x_t, h_prev, params):
    z_t = update_gate(h_prev, x_t, params["Wz"], params["bz"])
    r_t = reset_gate(h_prev, x_t, params["Wr"], params["br"])
    h_tilde = candidate_hidden(h_prev, x_t, r_t, params["Wh"], params["bh"])
    # small z keeps the old state
    return (1 - z_t) * h_prev + z_t * h_tilde


def gru_forward(x, params, h0=None):
    T = x.shape[0]
    H = params["bz"].shape[0]
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
    h_prev = np.zeros(H) if h0 is None else h0
    cache = []
    for t in range(T):
        z = update_gate(h_prev, x[t], Wz, params["bz"])
        r = reset_gate(h_prev, x[t], Wr, params["br"])
        hc = candidate_hidden(h_prev, x[t], r, Wh, params["bh"])
        cache.append((h_prev, z, r, hc))
        h_prev = (1 - z) * h_prev + z * hc

    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dx = np.zeros((T, D))
    dh_next = np.zeros(H)
    for t in range(T - 1, -1, -1):
        h_prev, z, r, hc = cache[t]
        hx = np.concatenate([h_prev, x[t]])
        rhx = np.concatenate([r * h_prev, x[t]])
        dh_t = dh[t]
        dh_prev = dh_t * (1 - z)
        # candidate path
        da_h = dh_t * z * (1 - hc ** 2)
        grads["Wh"] += np.outer(da_h, rhx)
        grads["bh"] += da_h
        d_rhx = Wh.T @ da_h
        dh_prev += d_rhx[:H] * r
        dx[t] += d_rhx[H:]
        # reset gate
        da_r = d_rhx[:H] * h_prev * r * (1 - r)
        grads["Wr"] += np.outer(da_r, hx)
        grads["br"] += da_r
        # update gate
        da_z = dh_t * (hc - h_prev) * z * (1 - z)
        grads["Wz"] += np.outer(da_z, hx)
        grads["bz"] += da_z
        d_hx = Wz.T @ da_z + Wr.T @ da_r
        dh_prev += d_hx[:H]
        dx[t] += d_hx[H:]
        dh_next = dh_prev
    grads["x"] = dx
    grads["h0"] = dh_next
    return grads
