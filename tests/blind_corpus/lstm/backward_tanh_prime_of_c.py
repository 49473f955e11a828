"""rnnkit blind corpus, part lstm: backward_tanh_prime_of_c"""
import numpy as np


def sigmoid(z):
    """Stable logistic sigmoid."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def forget_gate(h_prev, x_t, Wf, bf):
    hx = np.concatenate([h_prev, x_t])
    return sigmoid(Wf @ hx + bf)


def input_gate(h_prev, x_t, Wi, bi):
    hx = np.concatenate([h_prev, x_t])
    return sigmoid(Wi @ hx + bi)


def candidate_cell(h_prev, x_t, Wc, bc):
    hx = np.concatenate([h_prev, x_t])
    return np.tanh(Wc @ hx + bc)


def output_gate(h_prev, x_t, Wo, bo):
    hx = np.concatenate([h_prev, x_t])
    return sigmoid(Wo @ hx + bo)


def lstm_step_forward(x_t, h_prev, c_prev, params):
    f = forget_gate(h_prev, x_t, params["Wf"], params["bf"])
    i = input_gate(h_prev, x_t, params["Wi"], params["bi"])
    c_tilde = candidate_cell(h_prev, x_t, params["Wc"], params["bc"])
    o = output_gate(h_prev, x_t, params["Wo"], params["bo"])
    c_t = f * c_prev + i * c_tilde
    h_t = o * np.tanh(c_t)
    return h_t, c_t


def lstm_forward(x, params, h0=None, c0=None):
    T = x.shape[0]
    H = params["Wf"].shape[0]
    h = np.zeros((T, H))
    c = np.zeros((T, H))
    h_prev = np.zeros(H) if h0 is None else h0
    c_prev = np.zeros(H) if c0 is None else c0
    for t in range(T):
        h[t], c[t] = lstm_step_forward(x[t], h_prev, c_prev, params)
        h_prev, c_prev = h[t], c[t]
    return h, c


def lstm_backward(x, params, dh, h0=None, c0=None):
    T, D = x.shape
    H = params["Wf"].shape[0]
    gates = ("f", "i", "c", "o")
    h_prev = np.zeros(H) if h0 is None else h0
    c_prev = np.zeros(H) if c0 is None else c0
    cache = []
    for t in range(T):
        hx = np.concatenate([h_prev, x[t]])
        f = forget_gate(h_prev, x[t], params["Wf"], params["bf"])
        i = input_gate(h_prev, x[t], params["Wi"], params["bi"])
        c_tilde = candidate_cell(h_prev, x[t], params["Wc"], params["bc"])
        o = output_gate(h_prev, x[t], params["Wo"], params["bo"])
        c_t = f * c_prev + i * c_tilde
        tanh_c = np.tanh(c_t)
        cache.append((hx, c_prev, f, i, c_tilde, o, tanh_c, c_t))
        h_prev, c_prev = o * tanh_c, c_t
    grads = {}
    for g in gates:
        grads["W" + g] = np.zeros((H, H + D))
        grads["b" + g] = np.zeros(H)
    dx = np.zeros((T, D))
    dh_next = np.zeros(H)
    dc_next = np.zeros(H)
    for t in range(T - 1, -1, -1):
        hx, c_prev, f, i, c_tilde, o, tanh_c, c_t = cache[t]
        dh_t = dh[t] + dh_next
        dc_t = dc_next + dh_t * o * (1.0 - c_t ** 2)
        da = {
            "f": (dc_t * c_prev) * f * (1.0 - f),
            "i": (dc_t * c_tilde) * i * (1.0 - i),
            "c": (dc_t * i) * (1.0 - c_tilde ** 2),
            "o": (dh_t * tanh_c) * o * (1.0 - o),
        }
        dhx = np.zeros(H + D)
        for g in gates:
            grads["W" + g] += np.outer(da[g], hx)
            grads["b" + g] += da[g]
            dhx += params["W" + g].T @ da[g]
        dh_next = dhx[:H]
        dx[t] = dhx[H:]
        dc_next = dc_t * f
    grads["x"] = dx
    grads["h0"] = dh_next
    grads["c0"] = dc_next
    return grads
