"""rnnkit blind corpus, part lstm: correct_stacked_gates"""
import numpy as np


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def forget_gate(h_prev, x_t, Wf, bf):
    H = h_prev.shape[0]
    return sigmoid(Wf[:, :H] @ h_prev + Wf[:, H:] @ x_t + bf)


def input_gate(h_prev, x_t, Wi, bi):
    H = h_prev.shape[0]
    return sigmoid(Wi[:, :H] @ h_prev + Wi[:, H:] @ x_t + bi)


def candidate_cell(h_prev, x_t, Wc, bc):
    return np.tanh(np.dot(Wc, np.r_[h_prev, x_t]) + bc)


def output_gate(h_prev, x_t, Wo, bo):
    return sigmoid(np.hstack([h_prev, x_t]) @ Wo.T + bo)


def lstm_step_forward(x_t, h_prev, c_prev, params):
    H = h_prev.shape[0]
    Wall = np.vstack([params["Wf"], params["Wi"], params["Wc"], params["Wo"]])
    ball = np.concatenate([params["bf"], params["bi"], params["bc"], params["bo"]])
    a = Wall @ np.concatenate([h_prev, x_t]) + ball
    f, i, o = sigmoid(a[:H]), sigmoid(a[H:2 * H]), sigmoid(a[3 * H:])
    g = np.tanh(a[2 * H:3 * H])
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t


def lstm_forward(x, params, h0=None, c0=None):
    H = params["bf"].shape[0]
    h_t = np.zeros(H) if h0 is None else h0.copy()
    c_t = np.zeros(H) if c0 is None else c0.copy()
    hs, cs = [], []
    for x_t in x:
        h_t, c_t = lstm_step_forward(x_t, h_t, c_t, params)
        hs.append(h_t)
        cs.append(c_t)
    return np.array(hs), np.array(cs)


def lstm_backward(x, params, dh, h0=None, c0=None):
    T, D = x.shape
    H = params["bf"].shape[0]
    hs = [np.zeros(H) if h0 is None else h0]
    cs = [np.zeros(H) if c0 is None else c0]
    F, I, G, O = [], [], [], []
    for t in range(T):
        h, c = hs[-1], cs[-1]
        F.append(forget_gate(h, x[t], params["Wf"], params["bf"]))
        I.append(input_gate(h, x[t], params["Wi"], params["bi"]))
        G.append(candidate_cell(h, x[t], params["Wc"], params["bc"]))
        O.append(output_gate(h, x[t], params["Wo"], params["bo"]))
        c_new = F[t] * c + I[t] * G[t]
        cs.append(c_new)
        hs.append(O[t] * np.tanh(c_new))
    out = {k: np.zeros_like(v, dtype=float) for k, v in params.items()}
    out["x"] = np.zeros((T, D))
    carry_h = np.zeros(H)
    carry_c = np.zeros(H)
    for t in reversed(range(T)):
        c_prev, c_t = cs[t], cs[t + 1]
        tc = np.tanh(c_t)
        gh = dh[t] + carry_h
        gc = carry_c + gh * O[t] * (1 - tc * tc)
        pre = {
            "f": gc * c_prev * F[t] * (1 - F[t]),
            "i": gc * G[t] * I[t] * (1 - I[t]),
            "c": gc * I[t] * (1 - G[t] * G[t]),
            "o": gh * tc * O[t] * (1 - O[t]),
        }
        v = np.concatenate([hs[t], x[t]])
        back = np.zeros(H + D)
        for name, d in pre.items():
            out["W" + name] += d[:, None] * v[None, :]
            out["b" + name] += d
            back += d @ params["W" + name]
        carry_h = back[:H]
        out["x"][t] = back[H:]
        carry_c = gc * F[t]
    out["h0"] = carry_h
    out["c0"] = carry_c
    return out
