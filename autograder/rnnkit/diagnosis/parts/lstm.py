"""Part lstm: sigmoid, the four gates, lstm_step_forward, lstm_forward and lstm_backward.

The variants (what each mistake computes, from the part's reference
functions), then the part's entries in the catalogue (``_add`` of
:mod:`rnnkit.diagnosis.catalogue`).
"""
from __future__ import annotations

import numpy as np

from ..catalogue import _add
from ..model import IN_PLACE, V, _both_precisions, _concat, _roll, _unroll

_LSTM_GATES = {"f": "forget_gate", "i": "input_gate", "c": "candidate_cell", "o": "output_gate"}


def _lstm_step(r, x_t, h_prev, c_prev, p, *, gates=None, cell=None, out=None):
    """lstm_step_forward with some gates computed by ``gates[g](r, h, x, W, b)``, or another cell or output rule."""
    gates = gates or {}
    g = {
        name: gates[name](r, h_prev, x_t, p[f"W{name}"], p[f"b{name}"]) if name in gates else getattr(r, fn)(h_prev, x_t, p[f"W{name}"], p[f"b{name}"])
        for name, fn in _LSTM_GATES.items()
    }
    c_t = cell(g, c_prev) if cell else g["f"] * c_prev + g["i"] * g["c"]
    h_t = out(g, c_t) if out else g["o"] * np.tanh(c_t)
    return h_t, c_t


def _lstm_forward(r, x, p, h0=None, c0=None, *, step=None, carry_cell=True, use_h0=True, use_c0=True, **step_knobs):
    T, H = x.shape[0], p["Wf"].shape[0]
    h_prev = h0 if (h0 is not None and use_h0) else np.zeros(H)
    c_start = c0 if (c0 is not None and use_c0) else np.zeros(H)
    c_prev = c_start
    h, c = np.zeros((T, H)), np.zeros((T, H))
    for t in range(T):
        if step is not None:
            h[t], c[t] = step(x[t], h_prev, c_prev, p)
        else:
            h[t], c[t] = _lstm_step(r, x[t], h_prev, c_prev, p, **step_knobs)
        h_prev, c_prev = h[t], (c[t] if carry_cell else c_start)
    return h, c


def _lstm_step_knobs(**knobs):
    return lambda r, x_t, h_prev, c_prev, p: _lstm_step(r, x_t, h_prev, c_prev, p, **knobs)


def _lstm_forward_knobs(**knobs):
    return lambda r, x, p, h0=None, c0=None: _lstm_forward(r, x, p, h0, c0, **knobs)


def _lstm_step_and_forward(**knobs):
    """The same change as a recogniser of lstm_step_forward and of lstm_forward (which inherits it)."""
    return {"lstm_step_forward": V(_lstm_step_knobs(**knobs)), "lstm_forward": V(_lstm_forward_knobs(**knobs))}


def _gate_x_first(fn_name):
    return lambda r, h, x, W, b: getattr(r, fn_name)(h, x, _roll(W, len(h)), b)


def _gate_flipped(fn_name):
    return lambda r, h, x, W, b: 1.0 - getattr(r, fn_name)(h, x, W, b)  # sigmoid(-a)


def _gate_sigmoid_instead_of_tanh(r, h, x, W, b):
    return r.sigmoid(W @ _concat(h, x) + b)


def _gate_tanh_instead_of_sigmoid(r, h, x, W, b):
    return np.tanh(W @ _concat(h, x) + b)


def _gate_without_bias(fn_name):
    return lambda r, h, x, W, b: getattr(r, fn_name)(h, x, W, np.zeros_like(b))


_LSTM_X_FIRST = {g: _gate_x_first(fn) for g, fn in _LSTM_GATES.items()}
_LSTM_FLIPPED = {g: _gate_flipped(_LSTM_GATES[g]) for g in ("f", "i", "o")}


def _lstm_rolled_params(p, H):
    return {k: (_roll(v, H) if k.startswith("W") else v) for k, v in p.items()}


def _lstm_backward_x_first(r, x, p, dh, h0=None, c0=None):
    H = p["Wf"].shape[0]
    grads = r.lstm_backward(x, _lstm_rolled_params(p, H), dh, h0, c0)
    return {k: (_unroll(v, H) if k.startswith("W") else v) for k, v in grads.items()}


def _lstm_step_mutates_c_prev(r, x_t, h_prev, c_prev, p):
    h_t, c_t = r.lstm_step_forward(x_t, h_prev, c_prev.copy(), p)
    c_prev *= r.forget_gate(h_prev, x_t, p["Wf"], p["bf"])
    return h_t, c_t


def _lstm_forward_mutates_c0(rows: bool):
    def run(r, x, p, h0=None, c0=None):
        h, c = r.lstm_forward(x, p, None if h0 is None else h0.copy(), None if c0 is None else c0.copy())
        h_prev = np.zeros(h.shape[1]) if h0 is None else h0
        if c0 is not None:
            c0 *= r.forget_gate(h_prev, x[0], p["Wf"], p["bf"])
        if rows:  # the student's loop kept views of the rows of c: each is scaled by the next forget gate
            for t in range(len(x) - 1):
                c[t] *= r.forget_gate(h[t], x[t + 1], p["Wf"], p["bf"])
        return h, c

    return run


def _lstm_backward(r, x, p, dh, h0=None, c0=None, *, carry_cell=True, accumulate_bias=True, h0_grad=True, carried=None):
    """The LSTM's backward pass with one of the usual slips switched on (defaults: the right answer)."""
    T, D = x.shape
    H = p["Wf"].shape[0]
    h_prev = np.zeros(H) if h0 is None else h0
    c_prev = np.zeros(H) if c0 is None else c0
    cache = []
    for t in range(T):
        hx = _concat(h_prev, x[t])
        f = r.forget_gate(h_prev, x[t], p["Wf"], p["bf"])
        i = r.input_gate(h_prev, x[t], p["Wi"], p["bi"])
        g = r.candidate_cell(h_prev, x[t], p["Wc"], p["bc"])
        o = r.output_gate(h_prev, x[t], p["Wo"], p["bo"])
        c_t = f * c_prev + i * g
        cache.append((hx, c_prev, f, i, g, o, np.tanh(c_t)))
        h_prev, c_prev = o * np.tanh(c_t), c_t
    grads = {f"{kind}{gate}": np.zeros(p[f"{kind}{gate}"].shape) for gate in "fico" for kind in "Wb"}
    dx = np.zeros((T, D))
    dh_next, dc_next = np.zeros(H), np.zeros(H)
    for t in range(T - 1, -1, -1):
        hx, c_prev, f, i, g, o, tanh_c = cache[t]
        if carried is not None:
            carried[t] = dh_next.copy()
        dh_t = dh[t] + dh_next
        dc = (dc_next if carry_cell else 0.0) + dh_t * o * (1.0 - tanh_c**2)
        da = {"f": dc * c_prev * f * (1 - f), "i": dc * g * i * (1 - i), "c": dc * i * (1 - g**2), "o": dh_t * tanh_c * o * (1 - o)}
        dhx = np.zeros(H + D)
        for gate, a in da.items():
            grads[f"W{gate}"] += np.outer(a, hx)
            grads[f"b{gate}"] = grads[f"b{gate}"] + a if accumulate_bias else a
            dhx += p[f"W{gate}"].T @ a
        dh_next, dx[t], dc_next = dhx[:H], dhx[H:], dc * f
    grads.update(x=dx, h0=dh_next if h0_grad else np.zeros(H), c0=dc_next)
    return grads


def _lstm_backward_knobs(**knobs):
    return lambda r, x, p, dh, h0=None, c0=None: _lstm_backward(r, x, p, dh, h0, c0, **knobs)


def _lstm_backward_mutates_dh(r, x, p, dh, h0=None, c0=None):
    carried: dict[int, np.ndarray] = {}
    grads = _lstm_backward(r, x, p, dh.copy(), h0, c0, carried=carried)
    for t, extra in carried.items():
        dh[t] += extra
    return grads


def _sigmoid_exp_ratio(r, z):
    e = np.exp(z)
    return e / (1.0 + e)


# --------------------------------------------------------------------------- catalogue entries

_add("sigmoid_exp_ratio_overflow", "sigmoid", "sigmoid overflows",
     "Your sigmoid gives nan at z = 1000, as exp(z) / (1 + exp(z)) does (inf / inf): use 1 / (1 + exp(-z)) for z >= 0 and exp(z) / (1 + exp(z)) only for z < 0.",
     sigmoid=V(*_both_precisions(_sigmoid_exp_ratio)))
_add("sigmoid_sign_flipped", "sigmoid", "sigmoid(-z)",
     "Your output matches sigmoid(-z) = 1 / (1 + exp(z)): check the sign of the exponent (or which branch of the stable form gets z >= 0).",
     sigmoid=V(lambda r, z: 1.0 - r.sigmoid(z)),
     forget_gate=V(_gate_flipped("forget_gate")), input_gate=V(_gate_flipped("input_gate")),
     output_gate=V(_gate_flipped("output_gate")),
     **_lstm_step_and_forward(gates=_LSTM_FLIPPED))
_add("lstm_concat_x_first", "forget_gate", "[x_t; h_prev] instead of [h_prev; x_t]",
     "Your gates match reading `[x_t; h_prev]`: the first H columns of each weight matrix act on h_prev, so concatenate `np.concatenate([h_prev, x_t])`, h first.",
     also=("input_gate", "candidate_cell", "output_gate"),
     forget_gate=V(_LSTM_X_FIRST["f"]), input_gate=V(_LSTM_X_FIRST["i"]),
     candidate_cell=V(_LSTM_X_FIRST["c"]), output_gate=V(_LSTM_X_FIRST["o"]),
     **_lstm_step_and_forward(gates=_LSTM_X_FIRST),
     lstm_backward=V(_lstm_backward_x_first))
_add("lstm_forget_gate_missing_bias", "forget_gate", "forget-gate bias missing",
     "Your forget gate matches `sigmoid(Wf @ [h_prev; x_t])` without the bias: add `bf`.",
     forget_gate=V(_gate_without_bias("forget_gate")),
     **_lstm_step_and_forward(gates={"f": _gate_without_bias("forget_gate")}))
_add("lstm_candidate_sigmoid", "candidate_cell", "sigmoid instead of tanh in the candidate",
     "Your candidate cell matches a sigmoid: C~_t squashes with `np.tanh`, so it can be negative.",
     candidate_cell=V(_gate_sigmoid_instead_of_tanh),
     **_lstm_step_and_forward(gates={"c": _gate_sigmoid_instead_of_tanh}))
_add("lstm_output_gate_tanh", "output_gate", "tanh instead of sigmoid in the output gate",
     "Your output gate matches a tanh: a gate is a sigmoid, between 0 and 1.",
     output_gate=V(_gate_tanh_instead_of_sigmoid),
     **_lstm_step_and_forward(gates={"o": _gate_tanh_instead_of_sigmoid}))
_add("lstm_forget_input_swapped", "lstm_step_forward", "forget and input gates swapped",
     "Your cell state matches `i_t * c_prev + f_t * C~_t`: the forget gate keeps the old cell, `c_t = f_t * c_prev + i_t * C~_t`.",
     **_lstm_step_and_forward(cell=lambda g, c: g["i"] * c + g["f"] * g["c"]))
_add("lstm_no_input_gate", "lstm_step_forward", "input gate missing",
     "Your cell state matches `f_t * c_prev + C~_t`: the input gate scales the candidate, `+ i_t * C~_t`.",
     **_lstm_step_and_forward(cell=lambda g, c: g["f"] * c + g["c"]))
_add("lstm_missing_tanh_on_cell", "lstm_step_forward", "tanh missing on the cell state",
     "Your h_t matches `o_t * c_t`: the hidden state is `o_t * np.tanh(c_t)`.",
     **_lstm_step_and_forward(out=lambda g, c: g["o"] * c))
_add("lstm_step_mutates_c_prev", "lstm_step_forward", "c_prev modified in place",
     "Your values are right, but `c_prev *= f_t` changes the caller's array: compute `c_t = f_t * c_prev + i_t * C~_t` into a new array.",
     lstm_step_forward=V(_lstm_step_mutates_c_prev, aspects=IN_PLACE),
     lstm_forward=V(_lstm_forward_mutates_c0(False), _lstm_forward_mutates_c0(True), aspects=IN_PLACE))
_add("lstm_forward_ignores_h0", "lstm_forward", "h0 ignored",
     "Your output matches starting from h = 0 even when `h0` is given: start from h0 (zeros only when it is None).",
     lstm_forward=V(_lstm_forward_knobs(use_h0=False)))
_add("lstm_forward_ignores_c0", "lstm_forward", "c0 ignored",
     "Your output matches starting from c = 0 even when `c0` is given: start from c0 (zeros only when it is None).",
     lstm_forward=V(_lstm_forward_knobs(use_c0=False)))
_add("lstm_forward_cell_not_carried", "lstm_forward", "cell state not carried",
     "Your output matches every step starting again from c0: carry each new cell state `c[t]` into the next step.",
     lstm_forward=V(_lstm_forward_knobs(carry_cell=False)))
_add("lstm_forward_returns_c_h", "lstm_forward", "outputs returned in the wrong order",
     "You return `(c, h)`; the function must return `(h, c)`: the hidden states first.",
     lstm_forward=V(lambda r, *a: tuple(reversed(r.lstm_forward(*a)))))
_add("lstm_backward_bias_not_accumulated", "lstm_backward", "bias gradients not summed over time",
     "Your bias gradients match those of step 0 alone: bf, bi, bc and bo act at every step, so add (`+=`) their gradients over t.",
     lstm_backward=V(_lstm_backward_knobs(accumulate_bias=False)))
_add("lstm_backward_missing_h0_grad", "lstm_backward", "no gradient for h0",
     "Your `h0` gradient is zero: h0 feeds every gate at step 0; return the gradient carried back past step 0 (your `dh_next` after the loop).",
     lstm_backward=V(_lstm_backward_knobs(h0_grad=False)))
_add("lstm_backward_mutates_dh", "lstm_backward", "dh modified in place",
     "Your gradients are right, but `dh_t = dh[t]` is a view, so `dh_t += dh_next` writes into the caller's `dh`: use `dh_t = dh[t] + dh_next`.",
     lstm_backward=V(_lstm_backward_mutates_dh, aspects=IN_PLACE))
_add("lstm_backward_no_cell_path", "lstm_backward", "gradient through the cell state dropped",
     "Your gradients match dropping the gradient that reaches c_t from step t+1: `dc = dc_next + dh_t * o_t * (1 - tanh(c_t)**2)`, with `dc_next = dc * f_t`.",
     lstm_backward=V(_lstm_backward_knobs(carry_cell=False)))
