"""Part gru: the gates, candidate_hidden, gru_step_forward, gru_forward and gru_backward.

The variants (what each mistake computes, from the part's reference
functions), then the part's entries in the catalogue (``_add`` of
:mod:`rnnkit.diagnosis.catalogue`).
"""
from __future__ import annotations

import numpy as np

from ..catalogue import _add
from ..model import IN_PLACE, V, _concat, _roll, _unroll


def _gru_step(r, x_t, h_prev, p, *, z=None, reset=None, cand=None, blend=None):
    """gru_step_forward with one piece changed: ``z(r, h, x, p)``, ``reset(r, h, x, p)``, ``cand(r, h, x, r_t, W, b)``, ``blend(z, r_t, h, h~)``."""
    z_t = z(r, h_prev, x_t, p) if z else r.update_gate(h_prev, x_t, p["Wz"], p["bz"])
    r_t = reset(r, h_prev, x_t, p) if reset else r.reset_gate(h_prev, x_t, p["Wr"], p["br"])
    h_tilde = (cand or (lambda r_, h, x, rr, W, b: r_.candidate_hidden(h, x, rr, W, b)))(r, h_prev, x_t, r_t, p["Wh"], p["bh"])
    return blend(z_t, r_t, h_prev, h_tilde) if blend else (1.0 - z_t) * h_prev + z_t * h_tilde


def _gru_forward(r, x, p, h0=None, *, use_h0=True, lag=False, **step_knobs):
    T, H = x.shape[0], p["Wz"].shape[0]
    h = np.zeros((T, H))
    h_prev = h0 if (h0 is not None and use_h0) else np.zeros(H)
    for t in range(T):
        h[t] = _gru_step(r, x[t], h_prev, p, **step_knobs)
        if not lag:
            h_prev = h[t]
        elif t > 0:
            h_prev = h[t - 1]
    return h


def _gru_step_knobs(**knobs):
    return lambda r, x_t, h_prev, p: _gru_step(r, x_t, h_prev, p, **knobs)


def _gru_forward_knobs(**knobs):
    return lambda r, x, p, h0=None: _gru_forward(r, x, p, h0, **knobs)


def _gru_step_and_forward(**knobs):
    """The same change as a recogniser of gru_step_forward and of gru_forward (which inherits it)."""
    return {"gru_step_forward": V(_gru_step_knobs(**knobs)), "gru_forward": V(_gru_forward_knobs(**knobs))}


def _gru_z_x_first(r, h, x, p):
    return r.update_gate(h, x, _roll(p["Wz"], len(h)), p["bz"])


def _gru_r_x_first(r, h, x, p):
    return r.reset_gate(h, x, _roll(p["Wr"], len(h)), p["br"])


def _gru_cand_x_first(r, h, x, rr, W, b):
    return r.candidate_hidden(h, x, rr, _roll(W, len(h)), b)


def _gru_cand_no_reset(r, h, x, rr, W, b):
    return r.candidate_hidden(h, x, np.ones_like(rr), W, b)


def _gru_cand_reset_after(r, h, x, rr, W, b):
    H = len(h)
    return np.tanh(W[:, H:] @ x + rr * (W[:, :H] @ h) + b)


def _gru_cand_reset_whole(r, h, x, rr, W, b):
    return np.tanh(rr * (W @ _concat(h, x)) + b)


def _gru_z_tanh(r, h, x, p):
    return np.tanh(p["Wz"] @ _concat(h, x) + p["bz"])


def _gru_z_from_reset_weights(r, h, x, p):
    return r.update_gate(h, x, p["Wr"], p["br"])


def _blend_swapped(z, r_t, h, h_tilde):
    return z * h + (1.0 - z) * h_tilde


def _blend_reset_state(z, r_t, h, h_tilde):
    return (1.0 - z) * (r_t * h) + z * h_tilde


_GRU_X_FIRST_ALL = dict(z=_gru_z_x_first, reset=_gru_r_x_first, cand=_gru_cand_x_first)
_GRU_X_FIRST_GATES = dict(z=_gru_z_x_first, reset=_gru_r_x_first)
_GRU_X_FIRST_CAND = dict(cand=_gru_cand_x_first)


def _gru_backward_x_first(r, x, p, dh, h0=None):
    H = p["Wz"].shape[0]
    grads = r.gru_backward(x, {k: (_roll(v, H) if k.startswith("W") else v) for k, v in p.items()}, dh, h0)
    return {k: (_unroll(v, H) if k.startswith("W") else v) for k, v in grads.items()}


def _gru_step_mutates(r, x_t, h_prev, p):
    out = r.gru_step_forward(x_t, h_prev.copy(), p)
    h_prev *= 1.0 - r.update_gate(h_prev.copy(), x_t, p["Wz"], p["bz"])
    return out


def _gru_forward_mutates(rows: bool):
    def run(r, x, p, h0=None):
        h = r.gru_forward(x, p, None if h0 is None else h0.copy())
        if h0 is not None:
            h0 *= 1.0 - r.update_gate(h0.copy(), x[0], p["Wz"], p["bz"])
        if rows:  # the loop passed views of the rows of h: each is scaled by the next step's (1 - z)
            for t in range(len(x) - 1):
                h[t] = h[t] * (1.0 - r.update_gate(h[t], x[t + 1], p["Wz"], p["bz"]))
        return h

    return run


def _gru_backward(r, x, p, dh, h0=None, *, reset_path=True, dx_gates=True, accumulate_bias=True, h0_grad=True, carried=None):
    """The GRU's backward pass with one of the usual slips switched on (defaults: the right answer)."""
    T, D = x.shape
    H = p["Wz"].shape[0]
    h_prev = np.zeros(H) if h0 is None else h0
    cache = []
    for t in range(T):
        z = r.update_gate(h_prev, x[t], p["Wz"], p["bz"])
        rr = r.reset_gate(h_prev, x[t], p["Wr"], p["br"])
        hc = r.candidate_hidden(h_prev, x[t], rr, p["Wh"], p["bh"])
        cache.append((h_prev, z, rr, hc))
        h_prev = (1.0 - z) * h_prev + z * hc
    grads = {f"{kind}{gate}": np.zeros(p[f"{kind}{gate}"].shape) for gate in "zrh" for kind in "Wb"}

    def bias(name, value):
        grads[name] = grads[name] + value if accumulate_bias else value

    dx = np.zeros((T, D))
    dh_next = np.zeros(H)
    for t in range(T - 1, -1, -1):
        hp, z, rr, hc = cache[t]
        if carried is not None:
            carried[t] = dh_next.copy()
        d = dh[t] + dh_next
        da_h = d * z * (1.0 - hc**2)
        grads["Wh"] += np.outer(da_h, _concat(rr * hp, x[t]))
        bias("bh", da_h)
        du = p["Wh"].T @ da_h
        d_prev = d * (1.0 - z) + du[:H] * rr
        dx_t = du[H:].copy()
        v = _concat(hp, x[t])
        da_z = d * (hc - hp) * z * (1.0 - z)
        grads["Wz"] += np.outer(da_z, v)
        bias("bz", da_z)
        dv = p["Wz"].T @ da_z
        if reset_path:
            da_r = du[:H] * hp * rr * (1.0 - rr)
            grads["Wr"] += np.outer(da_r, v)
            bias("br", da_r)
            dv = dv + p["Wr"].T @ da_r
        d_prev = d_prev + dv[:H]
        if dx_gates:
            dx_t += dv[H:]
        dx[t] = dx_t
        dh_next = d_prev
    grads.update(x=dx, h0=dh_next if h0_grad else np.zeros(H))
    return grads


def _gru_backward_knobs(**knobs):
    return lambda r, x, p, dh, h0=None: _gru_backward(r, x, p, dh, h0, **knobs)


def _gru_backward_mutates_dh(r, x, p, dh, h0=None):
    carried: dict[int, np.ndarray] = {}
    grads = _gru_backward(r, x, p, dh.copy(), h0, carried=carried)
    for t, extra in carried.items():
        dh[t] += extra
    return grads


# --------------------------------------------------------------------------- catalogue entries

_add("gru_concat_x_first", "update_gate", "[x_t; h_prev] instead of [h_prev; x_t]",
     "Your output matches reading `[x_t; h_prev]` (in the candidate `[x_t; r_t * h_prev]`): the first H columns of each weight act on the state, so put it first.",
     also=("reset_gate", "candidate_hidden"),
     update_gate=V(lambda r, h, x, W, b: r.update_gate(h, x, _roll(W, len(h)), b)),
     reset_gate=V(lambda r, h, x, W, b: r.reset_gate(h, x, _roll(W, len(h)), b)),
     candidate_hidden=V(_gru_cand_x_first),
     gru_step_forward=V(_gru_step_knobs(**_GRU_X_FIRST_ALL), _gru_step_knobs(**_GRU_X_FIRST_CAND), _gru_step_knobs(**_GRU_X_FIRST_GATES)),
     gru_forward=V(_gru_forward_knobs(**_GRU_X_FIRST_ALL), _gru_forward_knobs(**_GRU_X_FIRST_CAND), _gru_forward_knobs(**_GRU_X_FIRST_GATES)),
     gru_backward=V(_gru_backward_x_first))
_add("gru_update_gate_tanh", "update_gate", "tanh instead of sigmoid in the update gate",
     "Your update gate matches a tanh: a gate is a sigmoid, between 0 and 1.",
     update_gate=V(lambda r, h, x, W, b: np.tanh(W @ _concat(h, x) + b)),
     **_gru_step_and_forward(z=_gru_z_tanh))
_add("gru_candidate_ignores_reset", "candidate_hidden", "reset gate unused",
     "Your candidate matches `tanh(Wh @ [h_prev; x_t] + bh)`: the reset gate must scale the state first, `[r_t * h_prev; x_t]`.",
     candidate_hidden=V(_gru_cand_no_reset),
     **_gru_step_and_forward(cand=_gru_cand_no_reset))
_add("gru_reset_after_matmul", "candidate_hidden", "reset applied after the product",
     "Your candidate matches `r_t * (Wh_h @ h_prev)` (PyTorch's convention): this course applies the reset before the product, `Wh @ [r_t * h_prev; x_t]`.",
     candidate_hidden=V(_gru_cand_reset_after),
     **_gru_step_and_forward(cand=_gru_cand_reset_after))
_add("gru_reset_scales_whole_preactivation", "candidate_hidden", "reset scales the input too",
     "Your candidate matches `r_t * (Wh @ [h_prev; x_t])`, which also scales the input's part: reset only the state, `Wh @ [r_t * h_prev; x_t]`.",
     candidate_hidden=V(_gru_cand_reset_whole),
     **_gru_step_and_forward(cand=_gru_cand_reset_whole))
_add("gru_update_convention_swapped", "gru_step_forward", "update gate with the opposite sign",
     "Your output matches `z_t * h_prev + (1 - z_t) * h~_t` (PyTorch's convention): here a small z keeps the old state, `h_t = (1 - z_t) * h_prev + z_t * h~_t`.",
     **_gru_step_and_forward(blend=_blend_swapped))
_add("gru_interpolation_uses_reset_state", "gru_step_forward", "blend with r_t * h_prev",
     "Your output matches blending `r_t * h_prev` with the candidate: the reset gate only acts inside the candidate; blend `h_prev` itself.",
     **_gru_step_and_forward(blend=_blend_reset_state))
_add("gru_step_uses_reset_weights_for_update", "gru_step_forward", "update gate from the reset weights",
     "Your output matches computing z_t with `Wr, br`: the update gate uses `params['Wz'], params['bz']`.",
     **_gru_step_and_forward(z=_gru_z_from_reset_weights))
_add("gru_step_mutates_h_prev", "gru_step_forward", "h_prev modified in place",
     "Your values are right, but `h_prev *= (1 - z_t)` changes the caller's array: compute `(1 - z_t) * h_prev + z_t * h~_t` into a new array.",
     gru_step_forward=V(_gru_step_mutates, aspects=IN_PLACE),
     gru_forward=V(_gru_forward_mutates(False), _gru_forward_mutates(True), aspects=IN_PLACE))
_add("gru_forward_ignores_h0", "gru_forward", "h0 ignored",
     "Your output matches starting from zeros even when `h0` is given: start from h0 (zeros only when it is None).",
     gru_forward=V(_gru_forward_knobs(use_h0=False)))
_add("gru_backward_bias_not_accumulated", "gru_backward", "bias gradients not summed over time",
     "Your bias gradients match those of step 0 alone: bz, br and bh act at every step, so add (`+=`) their gradients over t.",
     gru_backward=V(_gru_backward_knobs(accumulate_bias=False)))
_add("gru_backward_dx_only_candidate_path", "gru_backward", "dx misses the gates' paths",
     "Your x gradient has only the candidate's path: x_t also feeds z_t and r_t, so add the x-halves of `Wz.T @ da_z` and `Wr.T @ da_r`.",
     gru_backward=V(_gru_backward_knobs(dx_gates=False)))
_add("gru_backward_missing_h0_grad", "gru_backward", "no gradient for h0",
     "Your `h0` gradient is zero: h0 feeds step 0 by four routes; return the gradient carried back past step 0.",
     gru_backward=V(_gru_backward_knobs(h0_grad=False)))
_add("gru_backward_mutates_dh", "gru_backward", "dh modified in place",
     "Your gradients are right, but `dh_t = dh[t]` is a view of the caller's `dh`, so `dh_t += dh_next` changes it: use `dh_t = dh[t] + dh_next`.",
     gru_backward=V(_gru_backward_mutates_dh, aspects=IN_PLACE))
_add("gru_backward_no_reset_path", "gru_backward", "reset gate treated as a constant",
     "Your gradients match treating r_t as a constant: r_t depends on Wr, br, h_prev and x_t, so backpropagate `da_r = (Wh_h.T @ da_h) * h_prev * r * (1 - r)`.",
     gru_backward=V(_gru_backward_knobs(reset_path=False)))
