# expect: pass

# float32, W split into h and x halves, h = h + z*(h~ - h), sigmoid via logaddexp
import numpy as np

F = np.float32


def sigmoid(z):
    z = np.asarray(z, dtype=F)
    return np.exp(-np.logaddexp(F(0), -z)).astype(F)


def update_gate(h_prev, x_t, Wz, bz):
    H = len(h_prev)
    a = Wz[:, :H].astype(F) @ h_prev.astype(F) + Wz[:, H:].astype(F) @ x_t.astype(F) + bz.astype(F)
    return sigmoid(a)


def reset_gate(h_prev, x_t, Wr, br):
    H = len(h_prev)
    a = Wr[:, :H].astype(F) @ h_prev.astype(F) + Wr[:, H:].astype(F) @ x_t.astype(F) + br.astype(F)
    return sigmoid(a)


def candidate_hidden(h_prev, x_t, r_t, Wh, bh):
    H = len(h_prev)
    a = Wh[:, :H].astype(F) @ (r_t * h_prev).astype(F) + Wh[:, H:].astype(F) @ x_t.astype(F) + bh.astype(F)
    return np.tanh(a)


def gru_step_forward(x_t, h_prev, params):
    z = update_gate(h_prev, x_t, params["Wz"], params["bz"])
    r = reset_gate(h_prev, x_t, params["Wr"], params["br"])
    h_hat = candidate_hidden(h_prev, x_t, r, params["Wh"], params["bh"])
    h_prev = np.asarray(h_prev, dtype=F)
    return h_prev + z * (h_hat - h_prev)


def gru_forward(x, params, h0=None):
    T = len(x)
    H = len(params["bz"])
    out = np.empty((T, H), dtype=F)
    h = np.zeros(H, dtype=F) if h0 is None else np.asarray(h0, dtype=F)
    for t in range(T):
        h = gru_step_forward(x[t], h, params)
        out[t] = h
    return out


def gru_backward(x, params, dh, h0=None):
    T, D = x.shape
    H = len(params["bz"])
    P = {k: np.asarray(v, dtype=F) for k, v in params.items()}
    x = np.asarray(x, dtype=F)
    dh = np.asarray(dh, dtype=F)
    h = np.zeros(H, dtype=F) if h0 is None else np.asarray(h0, dtype=F)
    hist = []
    for t in range(T):
        z = update_gate(h, x[t], P["Wz"], P["bz"])
        r = reset_gate(h, x[t], P["Wr"], P["br"])
        hh = candidate_hidden(h, x[t], r, P["Wh"], P["bh"])
        hist.append((h, z, r, hh))
        h = h + z * (hh - h)

    g = {k: np.zeros_like(v) for k, v in P.items()}
    gx = np.zeros((T, D), dtype=F)
    carry = np.zeros(H, dtype=F)
    for t in reversed(range(T)):
        hp, z, r, hh = hist[t]
        d = dh[t] + carry
        # h = hp + z * (hh - hp)
        d_hh = d * z
        d_z = d * (hh - hp)
        d_hp = d * (1 - z)
        a_h = d_hh * (1 - hh * hh)
        g["Wh"][:, :H] += np.outer(a_h, r * hp)
        g["Wh"][:, H:] += np.outer(a_h, x[t])
        g["bh"] += a_h
        d_rh = P["Wh"][:, :H].T @ a_h
        gx[t] += P["Wh"][:, H:].T @ a_h
        d_hp += d_rh * r
        a_r = d_rh * hp * r * (1 - r)
        a_z = d_z * z * (1 - z)
        for a, W, b in ((a_z, "Wz", "bz"), (a_r, "Wr", "br")):
            g[W][:, :H] += np.outer(a, hp)
            g[W][:, H:] += np.outer(a, x[t])
            g[b] += a
            d_hp += P[W][:, :H].T @ a
            gx[t] += P[W][:, H:].T @ a
        carry = d_hp
    g["x"] = gx
    g["h0"] = carry
    return g
