# expect: fail lstm_backward
# mistake: divided_by_T
# why: divides every gradient by T, as for a mean over time (no specific entry for lstm_backward; the general pattern names it)

import numpy as np


def sigmoid(z):
    # 1/(1+e^-z) == (1 + tanh(z/2)) / 2, and tanh never overflows
    return 0.5 * (1.0 + np.tanh(0.5 * z))


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
    f_t = forget_gate(h_prev, x_t, params["Wf"], params["bf"])
    i_t = input_gate(h_prev, x_t, params["Wi"], params["bi"])
    c_tilde = candidate_cell(h_prev, x_t, params["Wc"], params["bc"])
    o_t = output_gate(h_prev, x_t, params["Wo"], params["bo"])
    c_t = f_t * c_prev + i_t * c_tilde
    h_t = o_t * np.tanh(c_t)
    return h_t, c_t


def lstm_forward(x, params, h0=None, c0=None):
    T = x.shape[0]
    H = params["bf"].shape[0]
    h = np.zeros((T, H))
    c = np.zeros((T, H))
    h_prev = np.zeros(H) if h0 is None else h0
    c_prev = np.zeros(H) if c0 is None else c0
    for t in range(T):
        h_prev, c_prev = lstm_step_forward(x[t], h_prev, c_prev, params)
        h[t] = h_prev
        c[t] = c_prev
    return h, c


def lstm_backward(x, params, dh, h0=None, c0=None):
    T, D = x.shape
    H = params["bf"].shape[0]
    h_prev = np.zeros(H) if h0 is None else h0
    c_prev = np.zeros(H) if c0 is None else c0
    # forward pass, keeping everything the backward pass needs
    cache = []
    for t in range(T):
        f = forget_gate(h_prev, x[t], params["Wf"], params["bf"])
        i = input_gate(h_prev, x[t], params["Wi"], params["bi"])
        g = candidate_cell(h_prev, x[t], params["Wc"], params["bc"])
        o = output_gate(h_prev, x[t], params["Wo"], params["bo"])
        c = f * c_prev + i * g
        h = o * np.tanh(c)
        cache.append((np.concatenate([h_prev, x[t]]), c_prev, f, i, g, o, c))
        h_prev, c_prev = h, c

    grads = {name: np.zeros_like(value) for name, value in params.items()}
    dx = np.zeros((T, D))
    dh_next = np.zeros(H)
    dc_next = np.zeros(H)
    for t in reversed(range(T)):
        hx, c_prev, f, i, g, o, c = cache[t]
        dh_t = dh[t] + dh_next
        tanh_c = np.tanh(c)
        dc = dc_next + dh_t * o * (1 - tanh_c ** 2)
        da_f = dc * c_prev * f * (1 - f)
        da_i = dc * g * i * (1 - i)
        da_c = dc * i * (1 - g ** 2)
        da_o = dh_t * tanh_c * o * (1 - o)
        grads["Wf"] += np.outer(da_f, hx)
        grads["Wi"] += np.outer(da_i, hx)
        grads["Wc"] += np.outer(da_c, hx)
        grads["Wo"] += np.outer(da_o, hx)
        grads["bf"] += da_f
        grads["bi"] += da_i
        grads["bc"] += da_c
        grads["bo"] += da_o
        dhx = (params["Wf"].T @ da_f + params["Wi"].T @ da_i
               + params["Wc"].T @ da_c + params["Wo"].T @ da_o)
        dh_next = dhx[:H]
        dx[t] = dhx[H:]
        dc_next = dc * f
    grads["x"] = dx
    grads["h0"] = dh_next
    grads["c0"] = dc_next
    # average over the sequence
    return {name: g / T for name, g in grads.items()}
