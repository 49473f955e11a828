"""lstm.py -- gates reuse sigmoid, the step reuses the gates, the forward pass reuses the step."""
import numpy as np


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def forget_gate(h_prev, x_t, Wf, bf):
    return sigmoid(np.dot(Wf, np.hstack((h_prev, x_t))) + bf)


def input_gate(h_prev, x_t, Wi, bi):
    return sigmoid(np.dot(Wi, np.hstack((h_prev, x_t))) + bi)


def candidate_cell(h_prev, x_t, Wc, bc):
    return np.tanh(np.dot(Wc, np.hstack((h_prev, x_t))) + bc)


def output_gate(h_prev, x_t, Wo, bo):
    return sigmoid(np.dot(Wo, np.hstack((h_prev, x_t))) + bo)


def lstm_step_forward(x_t, h_prev, c_prev, params):
    f_t = forget_gate(h_prev, x_t, params["Wf"], params["bf"])
    i_t = input_gate(h_prev, x_t, params["Wi"], params["bi"])
    cand = candidate_cell(h_prev, x_t, params["Wc"], params["bc"])
    o_t = output_gate(h_prev, x_t, params["Wo"], params["bo"])
    c_t = f_t * c_prev + i_t * cand
    h_t = o_t * np.tanh(c_t)
    return h_t, c_t


def lstm_forward(x, params, h0=None, c0=None):
    H = params["Wf"].shape[0]
    h_t = np.zeros(H) if h0 is None else h0
    c_t = np.zeros(H) if c0 is None else c0
    h = np.empty((len(x), H))
    c = np.empty((len(x), H))
    for t, x_t in enumerate(x):
        h_t, c_t = lstm_step_forward(x_t, h_t, c_t, params)
        h[t] = h_t
        c[t] = c_t
    return h, c


def lstm_backward(x, params, dh, h0=None, c0=None):
    T, D = x.shape
    H = params["Wf"].shape[0]
    sg = lambda a: 0.5 * (1.0 + np.tanh(0.5 * a))
    hp = np.zeros(H) if h0 is None else np.asarray(h0, dtype=float)
    cp = np.zeros(H) if c0 is None else np.asarray(c0, dtype=float)
    Z = np.empty((T, H + D)); Cprev = np.empty((T, H))
    F, I, G, O, TC = (np.empty((T, H)) for _ in range(5))
    for t in range(T):
        Z[t] = np.hstack((hp, x[t]))
        Cprev[t] = cp
        F[t] = sg(params["Wf"] @ Z[t] + params["bf"])
        I[t] = sg(params["Wi"] @ Z[t] + params["bi"])
        G[t] = np.tanh(params["Wc"] @ Z[t] + params["bc"])
        O[t] = sg(params["Wo"] @ Z[t] + params["bo"])
        cp = F[t] * cp + I[t] * G[t]
        TC[t] = np.tanh(cp)
        hp = O[t] * TC[t]
    dAf, dAi, dAc, dAo = (np.zeros((T, H)) for _ in range(4))
    dZ = np.zeros((T, H + D))
    nxt_h = np.zeros(H); nxt_c = np.zeros(H)
    for t in range(T - 1, -1, -1):
        gh = dh[t] + nxt_h
        gc = nxt_c + gh * O[t] * (1.0 - TC[t] * TC[t])
        dAf[t] = gc * Cprev[t] * F[t] * (1.0 - F[t])
        dAi[t] = gc * G[t] * I[t] * (1.0 - I[t])
        dAc[t] = gc * I[t] * (1.0 - G[t] * G[t])
        dAo[t] = gh * TC[t] * O[t] * (1.0 - O[t])
        dZ[t] = (params["Wf"].T @ dAf[t] + params["Wi"].T @ dAi[t]
                 + params["Wc"].T @ dAc[t] + params["Wo"].T @ dAo[t])
        nxt_h = dZ[t, :H]
        nxt_c = gc * F[t]
    grads = {}
    for key, dA in (("f", dAf), ("i", dAi), ("c", dAc), ("o", dAo)):
        grads["W" + key] = np.einsum("th,tk->hk", dA, Z)
        grads["b" + key] = dA.sum(0)
    grads.update(x=dZ[:, H:], h0=nxt_h, c0=nxt_c)
    return grads
