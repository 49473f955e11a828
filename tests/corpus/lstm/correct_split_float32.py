# expect: pass

# float32, W split into W[:, :H] and W[:, H:], sigmoid via np.where on exp(-|z|)
import numpy as np

F = np.float32


def sigmoid(z):
    z = np.asarray(z, dtype=F)
    # stable in both directions: only ever exponentiate -|z|
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _affine(h_prev, x_t, W, b):
    # W @ [h; x] == W[:, :H] @ h + W[:, H:] @ x, no concatenation needed
    H = h_prev.shape[0]
    W = np.asarray(W, dtype=F)
    return W[:, :H] @ h_prev.astype(F) + W[:, H:] @ x_t.astype(F) + np.asarray(b, dtype=F)


def forget_gate(h_prev, x_t, Wf, bf):
    return sigmoid(_affine(h_prev, x_t, Wf, bf))


def input_gate(h_prev, x_t, Wi, bi):
    return sigmoid(_affine(h_prev, x_t, Wi, bi))


def candidate_cell(h_prev, x_t, Wc, bc):
    return np.tanh(_affine(h_prev, x_t, Wc, bc))


def output_gate(h_prev, x_t, Wo, bo):
    return sigmoid(_affine(h_prev, x_t, Wo, bo))


def lstm_step_forward(x_t, h_prev, c_prev, params):
    f = forget_gate(h_prev, x_t, params["Wf"], params["bf"])
    i = input_gate(h_prev, x_t, params["Wi"], params["bi"])
    cand = candidate_cell(h_prev, x_t, params["Wc"], params["bc"])
    o = output_gate(h_prev, x_t, params["Wo"], params["bo"])
    c = f * np.asarray(c_prev, dtype=F) + i * cand
    h = o * np.tanh(c)
    return h, c


def lstm_forward(x, params, h0=None, c0=None):
    T = len(x)
    H = len(params["bf"])
    hs, cs = [], []
    h = np.zeros(H, dtype=F) if h0 is None else np.asarray(h0, dtype=F)
    c = np.zeros(H, dtype=F) if c0 is None else np.asarray(c0, dtype=F)
    for t in range(T):
        h, c = lstm_step_forward(x[t], h, c, params)
        hs.append(h)
        cs.append(c)
    return np.array(hs), np.array(cs)


def lstm_backward(x, params, dh, h0=None, c0=None):
    T, D = x.shape
    H = len(params["bf"])
    gates = [("f", "Wf", "bf"), ("i", "Wi", "bi"), ("c", "Wc", "bc"), ("o", "Wo", "bo")]
    P = {k: np.asarray(v, dtype=F) for k, v in params.items()}
    x = np.asarray(x, dtype=F)
    dh = np.asarray(dh, dtype=F)
    h = np.zeros(H, dtype=F) if h0 is None else np.asarray(h0, dtype=F)
    c = np.zeros(H, dtype=F) if c0 is None else np.asarray(c0, dtype=F)
    steps = []
    for t in range(T):
        f = forget_gate(h, x[t], P["Wf"], P["bf"])
        i = input_gate(h, x[t], P["Wi"], P["bi"])
        g = candidate_cell(h, x[t], P["Wc"], P["bc"])
        o = output_gate(h, x[t], P["Wo"], P["bo"])
        c_new = f * c + i * g
        steps.append(dict(h_prev=h, c_prev=c, f=f, i=i, c=g, o=o, tc=np.tanh(c_new)))
        h, c = o * np.tanh(c_new), c_new

    out = {k: np.zeros(v.shape, dtype=F) for k, v in P.items()}
    out["x"] = np.zeros((T, D), dtype=F)
    carry_h = np.zeros(H, dtype=F)
    carry_c = np.zeros(H, dtype=F)
    for t in range(T - 1, -1, -1):
        st = steps[t]
        dh_t = dh[t] + carry_h
        dc_t = carry_c + dh_t * st["o"] * (1 - st["tc"] ** 2)
        da = {
            "f": dc_t * st["c_prev"] * st["f"] * (1 - st["f"]),
            "i": dc_t * st["c"] * st["i"] * (1 - st["i"]),
            "c": dc_t * st["i"] * (1 - st["c"] ** 2),
            "o": dh_t * st["tc"] * st["o"] * (1 - st["o"]),
        }
        carry_h = np.zeros(H, dtype=F)
        for name, Wk, bk in gates:
            out[Wk][:, :H] += np.outer(da[name], st["h_prev"])
            out[Wk][:, H:] += np.outer(da[name], x[t])
            out[bk] += da[name]
            carry_h = carry_h + P[Wk][:, :H].T @ da[name]
            out["x"][t] += P[Wk][:, H:].T @ da[name]
        carry_c = dc_t * st["f"]
    out["h0"] = carry_h
    out["c0"] = carry_c
    return out
