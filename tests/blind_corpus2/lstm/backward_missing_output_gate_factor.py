"""Part 4 -- LSTM. Every public function is written out on its own."""
import numpy as np


def _sig(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _stack(h_prev, x_t):
    return np.concatenate([h_prev, x_t])


def sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def forget_gate(h_prev, x_t, Wf, bf):
    return _sig(Wf @ _stack(h_prev, x_t) + bf)


def input_gate(h_prev, x_t, Wi, bi):
    return _sig(Wi @ _stack(h_prev, x_t) + bi)


def candidate_cell(h_prev, x_t, Wc, bc):
    return np.tanh(Wc @ _stack(h_prev, x_t) + bc)


def output_gate(h_prev, x_t, Wo, bo):
    return _sig(Wo @ _stack(h_prev, x_t) + bo)


def lstm_step_forward(x_t, h_prev, c_prev, params):
    v = _stack(h_prev, x_t)
    f = _sig(params["Wf"] @ v + params["bf"])
    i = _sig(params["Wi"] @ v + params["bi"])
    g = np.tanh(params["Wc"] @ v + params["bc"])
    o = _sig(params["Wo"] @ v + params["bo"])
    c_t = f * c_prev + i * g
    h_t = o * np.tanh(c_t)
    return h_t, c_t


def lstm_forward(x, params, h0=None, c0=None):
    T = x.shape[0]
    H = params["bf"].shape[0]
    h_prev = np.zeros(H) if h0 is None else h0
    c_prev = np.zeros(H) if c0 is None else c0
    h = np.zeros((T, H))
    c = np.zeros((T, H))
    for t in range(T):
        v = _stack(h_prev, x[t])
        f = _sig(params["Wf"] @ v + params["bf"])
        i = _sig(params["Wi"] @ v + params["bi"])
        g = np.tanh(params["Wc"] @ v + params["bc"])
        o = _sig(params["Wo"] @ v + params["bo"])
        c_prev = f * c_prev + i * g
        h_prev = o * np.tanh(c_prev)
        h[t], c[t] = h_prev, c_prev
    return h, c


def lstm_backward(x, params, dh, h0=None, c0=None):
    T, D = x.shape
    H = params["bf"].shape[0]
    h_prev = np.zeros(H) if h0 is None else np.asarray(h0, dtype=float)
    c_prev = np.zeros(H) if c0 is None else np.asarray(c0, dtype=float)
    cache = []
    for t in range(T):
        v = _stack(h_prev, x[t])
        f = _sig(params["Wf"] @ v + params["bf"])
        i = _sig(params["Wi"] @ v + params["bi"])
        g = np.tanh(params["Wc"] @ v + params["bc"])
        o = _sig(params["Wo"] @ v + params["bo"])
        c = f * c_prev + i * g
        tc = np.tanh(c)
        cache.append((v, c_prev, f, i, g, o, tc))
        h_prev, c_prev = o * tc, c
    grads = {k: np.zeros_like(params[k], dtype=float) for k in params}
    dx = np.zeros((T, D))
    dh_next = np.zeros(H)
    dc_next = np.zeros(H)
    for t in reversed(range(T)):
        v, cp, f, i, g, o, tc = cache[t]
        dht = dh[t] + dh_next
        dct = dc_next + dht * (1.0 - tc ** 2)
        da = {
            "f": dct * cp * f * (1.0 - f),
            "i": dct * g * i * (1.0 - i),
            "c": dct * i * (1.0 - g ** 2),
            "o": dht * tc * o * (1.0 - o),
        }
        dv = np.zeros(H + D)
        for name, d in da.items():
            grads["W" + name] += np.outer(d, v)
            grads["b" + name] += d
            dv += params["W" + name].T @ d
        dh_next = dv[:H]
        dx[t] = dv[H:]
        dc_next = dct * f
    grads["x"] = dx
    grads["h0"] = dh_next
    grads["c0"] = dc_next
    return grads
