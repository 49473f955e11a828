"""Known mistakes: a catalogue, and recognisers that say which one a student made.

A student who fails a hidden case learns *that* something is wrong ("3 of 12
entries are wrong"). This module tries to say *what*, the way a teaching
assistant would: "your output matches what we get when W is transposed".

Every recogniser works from the student's outputs only (the values returned and
the arguments as the call left them), never from the source text, so coding
style does not matter. There are two kinds:

* a :class:`Variant` computes, here in the grader, what the mistake produces on
  each hidden case's inputs (small functions, mostly built from the reference
  functions). It matches when the student's outputs agree with the variant's
  within the course tolerance on *every* case (passed cases included, so a
  coincidence on one case is not enough) and the variant differs from the
  reference on at least one of them;
* a :class:`Pattern` looks at the shape of the error (right up to one constant
  factor, only the first step right, ...). Patterns are general and only speak
  when no specific mistake matched.

Only functions that lost credit are diagnosed, so a correct submission never
gets a mistake named. When nothing matches, the feedback stays general.

Variants run trusted code only (the reference and this module) on the hidden
inputs; student code never runs here.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from .worker import calls
from .worker.calls import Probe
from .compare import compare
from .course import Tolerance

if TYPE_CHECKING:  # grading imports this module; no import cycle at run time
    from .course import Course
    from .hidden_tests import HiddenTests
    from .results import CaseOutcome, StudentResult


# --------------------------------------------------------------------------- data model


@dataclass(frozen=True)
class Variant:
    """The mistake as computation: each of ``alternatives`` is ``fn(r, *args)``.

    ``r`` gives the part's reference functions as attributes (``r.softmax``),
    plus ``r.expected`` (the reference answer of the case) and ``r.dims``.
    ``args`` are fresh copies of the case's arguments: a variant of an in-place
    mistake modifies them as the student's code would. Several alternatives
    stand for the usual ways of writing the same mistake (float32, loops...).

    ``aspects``: what must agree with the student: ``"result"`` and/or
    ``"args"`` (the arguments after the call). ``needs_home``: count this
    recogniser only when the mistake was also recognised in its own function
    (for evidence as weak as "it raises the same error"). ``raises``: the
    mistake makes the function raise (matched by the exception's type); any
    other variant that raises is broken, and never matches.
    """

    alternatives: tuple[Callable, ...]
    aspects: tuple[str, ...] = ("result",)
    needs_home: bool = False
    raises: bool = False


@dataclass(frozen=True)
class Pattern:
    """The mistake as a shape of error: ``check(seen, cases, expected, tol) -> (matched, detail)``."""

    check: Callable[..., tuple[bool, str]]


@dataclass(frozen=True)
class Mistake:
    id: str
    #: The function the mistake is made in ("any" for the general patterns).
    function: str
    name: str
    #: One line for the student: what we see, and what to check.
    explanation: str
    #: function name -> how to recognise the mistake in that function's outputs.
    recognisers: dict[str, Variant | Pattern] = field(default_factory=dict)
    #: A general pattern: reported only when no specific mistake matched.
    general: bool = False
    #: Other functions that make the same mistake themselves (each LSTM gate has its own concatenation).
    also: tuple[str, ...] = ()

    @property
    def homes(self) -> tuple[str, ...]:
        """The functions where the mistake is made; any other function with a recogniser inherits it."""
        return (self.function, *self.also)


@dataclass(frozen=True)
class Diagnosis:
    """A mistake recognised in one function of one student."""

    mistake: str
    function: str
    name: str
    explanation: str
    #: Extra words from the recogniser (the factor found, ...), already in ``explanation``.
    detail: str = ""
    #: This function inherits the mistake from another of the student's functions (which makes it).
    inherited: bool = False


# --------------------------------------------------------------------------- small helpers


def _concat(a, b):
    return np.concatenate([a, b])


def _roll(W: np.ndarray, H: int) -> np.ndarray:
    """W' with ``W' @ [h; x] == W @ [x; h]``: what a gate computes when it reads ``[x_t; h_prev]``."""
    D = W.shape[1] - H
    return np.hstack([W[:, D:], W[:, :D]])


def _unroll(dW: np.ndarray, H: int) -> np.ndarray:
    """The gradient for W from the gradient for ``_roll(W, H)``."""
    return np.hstack([dW[:, H:], dW[:, :H]])


def _f32(fn: Callable) -> Callable:
    """The same mistake computed in float32 (overflow and underflow happen earlier there)."""

    def run(r, *args):
        return fn(r, *(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in args))

    return run


def _both_precisions(fn: Callable) -> tuple[Callable, ...]:
    return (fn, _f32(fn))


def _scaled(value: Any, factor: float) -> Any:
    if isinstance(value, dict):
        return {k: _scaled(v, factor) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_scaled(v, factor) for v in value)
    return np.asarray(value, dtype=float) * factor if isinstance(value, np.ndarray) else float(value) * factor


def V(*alternatives: Callable, aspects: tuple[str, ...] = ("result",), needs_home: bool = False, raises: bool = False) -> Variant:
    return Variant(tuple(alternatives), aspects, needs_home, raises)


IN_PLACE = ("result", "args")


# --------------------------------------------------------------------------- part rnn_forward


def _softmax_no_max(r, z):
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def _softmax_global_max(r, z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e, axis=-1, keepdims=True)


def _softmax_axis0(r, z):
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def _softmax_total_rowshift(r, z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e)


def _softmax_total(r, z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def _rnn_forward_with(r, x, U, W, V, s0=None, *, step=None, softmax=None, carry=True, output_from_previous=False):
    """rnn_forward with one piece changed."""
    step = step or r.rnn_step_forward
    T, H = x.shape[0], W.shape[0]
    start = np.zeros(H) if s0 is None else s0
    s = np.zeros((T, H))
    prev = start
    for t in range(T):
        s[t] = step(x[t], prev, U, W)
        if carry:
            prev = s[t]
    logits_from = np.vstack([start[None, :], s[:-1]]) if output_from_previous else s
    o = (softmax or r.softmax)(logits_from @ V.T)
    return s, o


def _forward_softmax(bad):
    return lambda r, x, U, W, V, s0=None: _rnn_forward_with(r, x, U, W, V, s0, softmax=lambda z: bad(r, z))


def _step_no_tanh(x_t, s_prev, U, W):
    return U @ x_t + W @ s_prev


def _step_U_W_swapped(x_t, s_prev, U, W):
    return np.tanh(W @ x_t + U @ s_prev)


def _rnn_forward_mutates_s0(r, x, U, W, V, s0=None):
    s, o = r.rnn_forward(x, U, W, V, None if s0 is None else s0.copy())
    if s0 is not None:
        s0[...] = s[-1]
    return s, o


def _loss_fancy_matrix(r, o, y):
    return float(-np.sum(np.log(o[:, y])))


def _loss_all_entries(r, o, y):
    return float(-np.sum(np.log(o)))


# --------------------------------------------------------------------------- part softmax_derivative


def _jacobian_off_diagonal_positive(r, y):
    J = np.outer(y, y)
    np.fill_diagonal(J, y * (1.0 - y))
    return J


def _grad_onehot_columns(r, o, y):
    g = np.array(o, dtype=float)
    g[:, y] -= 1.0  # numpy subtracts once per distinct target
    return g


def _grad_onehot_columns_loop(r, o, y):
    g = np.array(o, dtype=float)
    for target in y:
        g[:, target] -= 1.0
    return g


def _grad_modifies_o(r, o, y):
    g = r.softmax_cross_entropy_grad(o.copy(), y)
    o[...] = g
    return g


# --------------------------------------------------------------------------- part bptt


def _bptt(
    r, x, y, U, W, V, s0=None, trunc=None, *,
    forward_s0=True, dW_first="s0", dW_state="previous", dV_state="current", dV_transposed=False,
    onehot=True, back_W="transposed", local="1-s2", carry="1-s2", flow="truncate", shift=0, jp=None, scale=1.0,
):
    """Backpropagation through time with one of the usual slips switched on (defaults: the right answer)."""
    T, H = x.shape[0], W.shape[0]
    s_init = np.zeros(H) if s0 is None else s0
    s, o = r.rnn_forward(x, U, W, V, s_init if forward_s0 else None)
    err = np.array(o, dtype=float)
    if onehot:
        err[np.arange(T), y] -= 1.0
    slope = {"1-s2": lambda v: 1.0 - v**2, "1-s": lambda v: 1.0 - v}
    g_local, g_carry = slope[local], slope[carry]
    back = W.T if back_W == "transposed" else W
    dU, dW, dV = np.zeros(U.shape), np.zeros(W.shape), np.zeros(V.shape)
    for t in range(T):
        dV += np.outer(err[t], s[t] if dV_state == "current" else s[t - 1])
        if flow == "none" or (flow == "none_when_full" and (trunc is None or trunc >= T - 1)):
            first = t
        elif flow == "all" or trunc is None:
            first = 0
        else:
            first = max(0, t - trunc + shift)
        ds_t = V.T @ err[t]
        ds = ds_t
        for k in range(t, first - 1, -1):
            if jp is not None:
                ds = jp(s, W, t, k).T @ ds_t
            da = ds * g_local(s[k])
            if dW_state == "current":
                before = s[k]
            elif k > 0:
                before = s[k - 1]
            else:
                before = {"s0": s_init, "zeros": np.zeros(H), "wrap": s[-1]}[dW_first]
            dW += np.outer(da, before)
            dU += np.outer(da, x[k])
            if jp is None and k > first:
                ds = back @ (g_carry(s[k]) * ds)
    return {"U": dU * scale, "W": dW * scale, "V": (dV.T if dV_transposed else dV) * scale}


def _bptt_with(**knobs):
    return lambda r, *args: _bptt(r, *args, **knobs)


def _bptt_mean(r, x, y, *rest):
    return _bptt(r, x, y, *rest, scale=1.0 / x.shape[0])


def _sj_W_transposed(s_t, W):
    return (1.0 - s_t**2)[:, None] * W.T


def _sj_diag_right(s_t, W):
    return W * (1.0 - s_t**2)[None, :]


def _sj_one_minus_s(s_t, W):
    return (1.0 - s_t)[:, None] * W


def _jacobian_product_of(state_jacobian, *, order="latest_left", first_offset=0, index_shift=0):
    """J_t @ ... @ J_{k+1} built from ``state_jacobian``, with one of the usual slips."""

    def product(s, W, t, k):
        P = np.eye(W.shape[0])
        steps = range(t, k - first_offset, -1)
        for j in (steps if order == "latest_left" else reversed(steps)):
            P = P @ state_jacobian(s[j - index_shift], W)
        return P

    return product


def _jp_variant(product):
    return lambda r, s, W, t, k: product(s, W, t, k)


def _clip_elementwise(r, grads, max_norm):
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}


def _global_norm(grads):
    return math.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values()))


def _clip_per_array(r, grads, max_norm):
    out = {}
    for k, g in grads.items():
        n = float(np.linalg.norm(g))
        out[k] = g * (max_norm / n) if n > max_norm else np.array(g, copy=True)
    return out


def _clip_ratio_inverted(r, grads, max_norm):
    n = _global_norm(grads)
    return {k: g * (n / max_norm) if n > max_norm else np.array(g, copy=True) for k, g in grads.items()}


def _clip_squared_norm(r, grads, max_norm):
    n = _global_norm(grads) ** 2
    return {k: g * (max_norm / n) if n > max_norm else np.array(g, copy=True) for k, g in grads.items()}


def _clip_always_rescales(r, grads, max_norm):
    n = _global_norm(grads)
    return {k: g * (max_norm / n) for k, g in grads.items()}


def _clip_in_place(r, grads, max_norm):
    out = r.clip_gradient_norm({k: np.array(g, copy=True) for k, g in grads.items()}, max_norm)
    if _global_norm(grads) > max_norm:
        for k in grads:
            grads[k][...] = out[k]
    return out


def _numgrad(r, f, x, eps=1e-5, *, kind="centred", step=None, divide=2.0, rows=False):
    h = eps if step is None else step
    point = np.array(x, dtype=float)
    grad = np.zeros(point.shape)
    indices = range(len(point)) if rows else np.ndindex(point.shape)
    for index in indices:
        plus, minus = point.copy(), point.copy()
        plus[index] += h
        minus[index] -= h
        if kind == "forward":
            grad[index] = (f(plus) - f(point)) / h
        elif kind == "backward":
            grad[index] = (f(point) - f(minus)) / h
        else:
            grad[index] = (f(plus) - f(minus)) / (divide * h)
    return grad


def _numgrad_with(**knobs):
    return lambda r, f, x, eps=1e-5: _numgrad(r, f, x, eps, **knobs)


def _numgrad_no_restore(r, f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        x[index] += eps
        f_plus = f(x)
        x[index] -= 2 * eps
        f_minus = f(x)
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


# --------------------------------------------------------------------------- part lstm

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


# --------------------------------------------------------------------------- part gru


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


# --------------------------------------------------------------------------- general patterns


def _leaves(value: Any) -> list[np.ndarray] | None:
    """The numbers of a result, flattened in a fixed order (None if not numbers)."""
    if isinstance(value, dict):
        out = []
        for k in sorted(value):
            part = _leaves(value[k])
            if part is None:
                return None
            out += part
        return out
    if isinstance(value, (tuple, list)):
        out = []
        for v in value:
            part = _leaves(v)
            if part is None:
                return None
            out += part
        return out
    if isinstance(value, (bool, np.bool_)) or value is None:
        return None
    try:
        return [np.asarray(value, dtype=float).ravel()]
    except (TypeError, ValueError):
        return None


def _constant_factor(seen, cases, expected, tol) -> tuple[bool, str]:
    """Right up to one constant factor (the same on every case), like a stray 2 or a log in another base."""
    factor = None
    for s, e in zip(seen, expected):
        if s.kind != "value":
            return False, ""
        if s.passed:
            continue
        if factor is None:
            f_leaves, e_leaves = _leaves(s.result), _leaves(e)
            if not f_leaves or not e_leaves or [a.shape for a in f_leaves] != [b.shape for b in e_leaves]:
                return False, ""
            fv, ev = np.concatenate(f_leaves), np.concatenate(e_leaves)
            if not (np.isfinite(fv).all() and np.isfinite(ev).all()) or float(ev @ ev) == 0.0:
                return False, ""
            factor = float(fv @ ev) / float(ev @ ev)
            if not np.isfinite(factor) or abs(factor) < 1e-3 or abs(factor - 1.0) < 1e-3:
                return False, ""
        if not _close(s.result, _scaled_like(e, factor), tol):
            return False, ""
    for s, e in zip(seen, expected):  # passed cases too: the same factor must explain them
        if s.passed and factor is not None and not _close(s.result, _scaled_like(e, factor), tol):
            return False, ""
    if factor is None:
        return False, ""
    return True, _factor_words(factor)


#: Constant factors with a meaning a student recognises; any other factor is not said (its value, with the
#: student's own output, would give the expected answer away).
_KNOWN_FACTORS = {
    -1.0: "Every value has the opposite sign.",
    2.0: "Every value is twice the answer (a stray 2?).",
    0.5: "Every value is half the answer (a stray 1/2?).",
    -2.0: "Every value is twice the answer, with the opposite sign.",
    -0.5: "Every value is half the answer, with the opposite sign.",
    math.log(10.0): "The factor is ln 10: a logarithm in base 10 where the natural log belongs?",
    1 / math.log(10.0): "The factor is 1 / ln 10: a logarithm in base 10 where the natural log belongs?",
    math.log(2.0): "The factor is ln 2: a logarithm in base 2 where the natural log belongs?",
    1 / math.log(2.0): "The factor is 1 / ln 2: a logarithm in base 2 where the natural log belongs?",
}


def _factor_words(factor: float) -> str:
    for known, words in _KNOWN_FACTORS.items():
        if abs(factor - known) <= 1e-3 * abs(known):
            return words
    return ""


def _scaled_like(value: Any, factor: float) -> Any:
    if isinstance(value, dict):
        return {k: _scaled_like(v, factor) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return tuple(_scaled_like(v, factor) for v in value)
    return np.asarray(value, dtype=float) * factor


def _sequences(value: Any) -> list[np.ndarray] | None:
    items = list(value) if isinstance(value, (tuple, list)) else [value]
    try:
        arrays = [np.asarray(v, dtype=float) for v in items]
    except (TypeError, ValueError):
        return None
    return arrays if all(a.ndim == 2 for a in arrays) else None


def _first_step_only(seen, cases, expected, tol) -> tuple[bool, str]:
    """Row 0 of every sequence returned is right; a later row is wrong."""
    hits = 0
    for s, e in zip(seen, expected):
        if s.kind != "value":
            return False, ""
        if s.passed:
            continue
        found, wanted = _sequences(s.result), _sequences(e)
        if not found or not wanted or [a.shape for a in found] != [b.shape for b in wanted]:
            return False, ""
        if not all(_close(f[:1], w[:1], tol) for f, w in zip(found, wanted)):
            return False, ""
        if all(_close(f[1:], w[1:], tol) for f, w in zip(found, wanted)):
            return False, ""
        hits += 1
    return hits > 0, ""


def _last_step_only(seen, cases, expected, tol) -> tuple[bool, str]:
    """The input gradient of the last step is right; an earlier one is wrong (the gradient carried back is)."""
    hits = 0
    for s, e in zip(seen, expected):
        if s.kind != "value":
            return False, ""
        if s.passed:
            continue
        if not isinstance(s.result, dict) or "x" not in s.result:
            return False, ""
        try:
            found, wanted = np.asarray(s.result["x"], dtype=float), np.asarray(e["x"], dtype=float)
        except (TypeError, ValueError):
            return False, ""
        if found.shape != wanted.shape or found.ndim != 2 or len(found) < 2:
            return False, ""
        if not _close(found[-1:], wanted[-1:], tol) or _close(found[:-1], wanted[:-1], tol):
            return False, ""
        hits += 1
    return hits > 0, ""


def _changes_arguments_only(seen, cases, expected, tol) -> tuple[bool, str]:
    """Every value is right, yet the call left an argument changed."""
    changed = False
    for s, case, e in zip(seen, cases, expected):
        if s.kind != "value" or not _close(s.result, e, tol):
            return False, ""
        if not _close(s.args_after, _data_args(case.args), _EXACT):
            changed = True
    return changed, ""


def _divided_by_T(r, *args):
    return _scaled(r.expected, 1.0 / r.dims["T"])


# --------------------------------------------------------------------------- the catalogue

CATALOGUE: dict[str, Mistake] = {}


def _add(id: str, function: str, name: str, explanation: str, general: bool = False, also: tuple[str, ...] = (), **recognisers: Variant | Pattern) -> None:
    if id in CATALOGUE:
        raise ValueError(f"duplicate mistake id {id}")
    CATALOGUE[id] = Mistake(id, function, name, explanation, dict(recognisers), general, also)


# ----- rnn_forward

_add("softmax_no_max_subtraction", "softmax", "softmax without subtracting the maximum",
     "Your softmax overflows at logits near ±1000 (inf / inf = nan), as it does without the maximum subtracted: use `np.exp(z - z.max(axis=-1, keepdims=True))`.",
     softmax=V(*_both_precisions(_softmax_no_max)))
_add("softmax_global_max", "softmax", "softmax shifted by the maximum of the whole array",
     "Your output matches a softmax that subtracts the maximum of the whole array: rows far below it underflow to 0 / 0. Subtract each row's own maximum (`axis=-1, keepdims=True`).",
     softmax=V(*_both_precisions(_softmax_global_max)))
_add("softmax_axis0", "softmax", "softmax over the wrong axis",
     "Your output matches a softmax normalised over axis 0 (down the columns): for a (T, K) array each row must sum to 1, so use `axis=-1` for both the max and the sum.",
     softmax=V(_softmax_axis0), rnn_forward=V(_forward_softmax(_softmax_axis0)))
_add("softmax_sum_over_all_entries", "softmax", "softmax divided by the sum of the whole array",
     "Your output matches a softmax divided by the sum of ALL entries: a (T, K) array becomes one distribution instead of T. Sum with `axis=-1, keepdims=True`.",
     softmax=V(_softmax_total_rowshift, _softmax_total),
     rnn_forward=V(_forward_softmax(_softmax_total_rowshift), _forward_softmax(_softmax_total)))
_add("step_W_transposed", "rnn_step_forward", "W transposed",
     "Your output matches what we get when W is transposed: check `W @ s_prev` (in row-vector form that is `s_prev @ W.T`).",
     rnn_step_forward=V(lambda r, x_t, s_prev, U, W: r.rnn_step_forward(x_t, s_prev, U, W.T)),
     rnn_forward=V(lambda r, x, U, W, V, s0=None: r.rnn_forward(x, U, W.T, V, s0)))
_add("step_U_W_swapped", "rnn_step_forward", "U and W swapped",
     "Your function raises a shape error on every case, as it does when U and W trade places: `U` (H, D) multiplies `x_t` and `W` (H, H) multiplies `s_prev`.",
     rnn_step_forward=V(lambda r, x_t, s_prev, U, W: _step_U_W_swapped(x_t, s_prev, U, W), raises=True),
     rnn_forward=V(lambda r, x, U, W, V, s0=None: _rnn_forward_with(r, x, U, W, V, s0, step=_step_U_W_swapped), needs_home=True, raises=True))
_add("step_missing_tanh", "rnn_step_forward", "tanh missing",
     "Your output matches the pre-activation `U @ x_t + W @ s_prev` without the tanh: apply `np.tanh` to it.",
     rnn_step_forward=V(lambda r, x_t, s_prev, U, W: _step_no_tanh(x_t, s_prev, U, W)),
     rnn_forward=V(lambda r, x, U, W, V, s0=None: _rnn_forward_with(r, x, U, W, V, s0, step=_step_no_tanh)))
_add("rnn_forward_ignores_s0", "rnn_forward", "initial state ignored",
     "Your output matches a forward pass that always starts from zeros: when `s0` is given, start from it (zeros only when it is None).",
     rnn_forward=V(lambda r, x, U, W, V, s0=None: r.rnn_forward(x, U, W, V)))
_add("rnn_forward_state_not_carried", "rnn_forward", "state not carried to the next step",
     "Your output matches a forward pass where every step starts again from s0: feed each new state `s[t]` into the next step.",
     rnn_forward=V(lambda r, x, U, W, V, s0=None: _rnn_forward_with(r, x, U, W, V, s0, carry=False)))
_add("rnn_forward_output_from_previous_state", "rnn_forward", "output from the previous state",
     "Your `o[t]` matches `softmax(V @ s[t-1])`, one step behind: compute the output from the new state `s[t]`.",
     rnn_forward=V(lambda r, x, U, W, V, s0=None: _rnn_forward_with(r, x, U, W, V, s0, output_from_previous=True)))
_add("rnn_forward_returns_o_s", "rnn_forward", "outputs returned in the wrong order",
     "You return `(o, s)`; the function must return `(s, o)`: the states first, then the output distributions.",
     rnn_forward=V(lambda r, *a: tuple(reversed(r.rnn_forward(*a)))))
_add("rnn_forward_mutates_s0", "rnn_forward", "s0 overwritten",
     "Your states are right, but your loop writes each new state into the caller's `s0` (it ends up equal to the last state): use `s_prev = s0.copy()`, or assign `s_prev = s[t]` instead of `s_prev[:] = ...`.",
     rnn_forward=V(_rnn_forward_mutates_s0, aspects=IN_PLACE))
_add("loss_mean_over_time", "cross_entropy_loss", "mean instead of sum",
     "Your loss is the right loss divided by T: the loss is a sum over time, not a mean; drop the division.",
     cross_entropy_loss=V(lambda r, o, y: r.cross_entropy_loss(o, y) / len(y)))
_add("loss_missing_minus", "cross_entropy_loss", "minus sign missing",
     "Your loss is the negative of the right one: E = -sum_t log o[t, y[t]] is positive, so keep the minus sign.",
     cross_entropy_loss=V(lambda r, o, y: -r.cross_entropy_loss(o, y)))
_add("loss_log_of_all_entries", "cross_entropy_loss", "log of every entry",
     "Your loss sums the log of every entry of `o`: only the target entries count, `o[np.arange(T), y]`.",
     cross_entropy_loss=V(_loss_all_entries))
_add("loss_fancy_index_matrix", "cross_entropy_loss", "o[:, y] instead of o[t, y[t]]",
     "Your loss matches `o[:, y]`, which is a (T, T) matrix (every target at every step): pick one entry per step with `o[np.arange(T), y]`.",
     cross_entropy_loss=V(_loss_fancy_matrix))

# ----- softmax_derivative

_add("jacobian_diagonal_only", "softmax_jacobian", "diagonal only",
     "Your Jacobian has only the diagonal y_i (1 - y_i): the off-diagonal entries are -y_i y_j, so use `np.diag(y) - np.outer(y, y)`.",
     softmax_jacobian=V(lambda r, y: np.diag(y * (1.0 - y))))
_add("jacobian_identity_instead_of_diag", "softmax_jacobian", "identity instead of diag(y)",
     "Your Jacobian matches `I - outer(y, y)`: the delta term is multiplied by y_i too, so use `np.diag(y)` instead of the identity.",
     softmax_jacobian=V(lambda r, y: np.eye(len(y)) - np.outer(y, y)))
_add("jacobian_off_diagonal_positive", "softmax_jacobian", "off-diagonal sign",
     "Your diagonal is right but the off-diagonal entries have the wrong sign: J[i, j] = -y_i y_j for i != j.",
     softmax_jacobian=V(_jacobian_off_diagonal_positive))
_add("jacobian_sign_flipped", "softmax_jacobian", "Jacobian with the opposite sign",
     "Your Jacobian is the negative of the right one (`outer(y, y) - diag(y)`): J = diag(y) - outer(y, y).",
     softmax_jacobian=V(lambda r, y: -r.softmax_jacobian(y)))
_add("jacobian_1d_transpose_inner_product", "softmax_jacobian", "y @ y.T is a number",
     "Your Jacobian matches `np.diag(y) - y @ y.T`: for a 1-D array `.T` does nothing and `y @ y` is one number; use `np.outer(y, y)`.",
     softmax_jacobian=V(lambda r, y: np.diag(y) - float(y @ y)))
_add("grad_mean_over_time", "softmax_cross_entropy_grad", "gradient divided by T",
     "Your gradient is the right one divided by T (the gradient of the mean loss): the loss sums over time, so do not divide.",
     softmax_cross_entropy_grad=V(lambda r, o, y: r.softmax_cross_entropy_grad(o, y) / len(y)))
_add("grad_modifies_o_in_place", "softmax_cross_entropy_grad", "o modified in place",
     "Your gradient is right, but `grad = o` is not a copy: subtracting the targets also changes the caller's `o`. Start from `o.copy()`.",
     softmax_cross_entropy_grad=V(_grad_modifies_o, aspects=IN_PLACE))
_add("grad_no_onehot_subtraction", "softmax_cross_entropy_grad", "one-hot target not subtracted",
     "Your gradient equals `o` itself: subtract 1 at each step's target class, `grad[np.arange(T), y] -= 1`.",
     softmax_cross_entropy_grad=V(lambda r, o, y: np.array(o, dtype=float)))
_add("grad_onehot_column_index", "softmax_cross_entropy_grad", "grad[:, y] instead of grad[t, y[t]]",
     "Your gradient matches `grad[:, y] -= 1`, which subtracts 1 in every row at every target column: index one entry per step, `grad[np.arange(T), y] -= 1`.",
     softmax_cross_entropy_grad=V(_grad_onehot_columns, _grad_onehot_columns_loop))
_add("grad_sign_flipped", "softmax_cross_entropy_grad", "gradient with the opposite sign",
     "Your gradient is `onehot(y) - o`, the negative of dE/dz: it is `o - onehot(y)`.",
     softmax_cross_entropy_grad=V(lambda r, o, y: -r.softmax_cross_entropy_grad(o, y)))

# ----- bptt

_add("bptt_backprop_W_not_transposed", "rnn_backward", "W instead of W.T going back",
     "Your gradients match sending the error back with `W @ delta`: going back one step multiplies by the transpose, `W.T @ delta`.",
     rnn_backward=V(_bptt_with(back_W="plain")))
_add("bptt_dV_uses_previous_state", "rnn_backward", "dV from s_{t-1}",
     "Your dV matches `outer(o_t - onehot(y_t), s[t-1])`: o_t is computed from s_t, so dV uses `s[t]`.",
     rnn_backward=V(_bptt_with(dV_state="previous")))
_add("bptt_dV_wrong_shape", "rnn_backward", "dV transposed",
     "Your dV is the transpose of the right one, shape (H, K): V is (K, H), so use `np.outer(delta_o, s_t)`.",
     rnn_backward=V(_bptt_with(dV_transposed=True)))
_add("bptt_dW_drops_s0", "rnn_backward", "s0 left out of dW",
     "Your dW matches using zeros for s_{-1} at step 0: when `s0` is given, the first step's dW term is `outer(delta_0, s0)`.",
     rnn_backward=V(_bptt_with(dW_first="zeros")))
_add("bptt_dW_uses_current_state", "rnn_backward", "s_t instead of s_{t-1} in dW",
     "Your dW matches `outer(delta_k, s_k)`: the state that W multiplies at step k is the previous one, `s_{k-1}` (s0 at k = 0).",
     rnn_backward=V(_bptt_with(dW_state="current")))
_add("bptt_forward_without_s0", "rnn_backward", "forward pass without s0",
     "Your gradients match states computed from a zero start: pass `s0` on to `rnn_forward(x, U, W, V, s0)`.",
     rnn_backward=V(_bptt_with(forward_s0=False)))
_add("bptt_ignores_s0", "rnn_backward", "initial state ignored",
     "Your gradients match `s0` being ignored altogether: start the forward pass from `s0`, and use it as s_{-1} in dW at step 0.",
     rnn_backward=V(_bptt_with(forward_s0=False, dW_first="zeros")))
_add("bptt_gradients_averaged_over_time", "rnn_backward", "gradients divided by T",
     "Your gradients are the right ones divided by T (the gradients of the mean loss): the loss is a sum over time, so do not divide.",
     rnn_backward=V(_bptt_mean))
_add("bptt_missing_onehot_subtraction", "rnn_backward", "one-hot target not subtracted",
     "Your gradients match an output error of `o` alone: the error at the logits is `o_t - onehot(y_t)`.",
     rnn_backward=V(_bptt_with(onehot=False)))
_add("bptt_no_gradient_through_time", "rnn_backward", "no gradient through time",
     "Your gradients match each step keeping only its own error: add the error carried back from step t+1 (through `W.T` and `1 - s**2`) before moving on.",
     rnn_backward=V(_bptt_with(flow="none"), _bptt_with(flow="none_when_full")))
_add("bptt_s_minus_one_wraps_to_last", "rnn_backward", "s[-1] at step 0",
     "Your dW matches `s[k - 1]` at k = 0, which in Python is the LAST state: at step 0 the previous state is `s0` (zeros when None).",
     rnn_backward=V(_bptt_with(dW_first="wrap")))
_add("bptt_tanh_derivative_one_minus_s", "rnn_backward", "tanh' written as 1 - s",
     "Your gradients match using `1 - s` as the derivative of tanh: it is `1 - s**2`.",
     rnn_backward=V(_bptt_with(local="1-s", carry="1-s")))
_add("bptt_truncate_ignored", "rnn_backward", "bptt_truncate ignored",
     "Your gradients are right for full BPTT but ignore `bptt_truncate`: with `bptt_truncate=k`, the error of E_t stops at step max(0, t - k).",
     rnn_backward=V(_bptt_with(flow="all")))
_add("bptt_truncate_off_by_one", "rnn_backward", "truncation off by one",
     "Your truncated gradients go one step too short or too far: with `bptt_truncate=k`, E_t reaches s_t, s_{t-1}, ..., s_{max(0, t-k)}, that is k + 1 states.",
     rnn_backward=V(_bptt_with(shift=1), _bptt_with(shift=-1)))
_add("state_jacobian_W_transposed", "state_jacobian", "W transposed",
     "Your Jacobian matches `diag(1 - s_t**2) @ W.T`: ds_t/ds_{t-1} uses W itself, `diag(1 - s_t**2) @ W`.",
     state_jacobian=V(lambda r, s_t, W: _sj_W_transposed(s_t, W)),
     jacobian_product=V(_jp_variant(_jacobian_product_of(_sj_W_transposed))))
_add("state_jacobian_diag_on_right", "state_jacobian", "columns scaled instead of rows",
     "Your Jacobian matches `W @ diag(1 - s_t**2)`, which scales the columns of W: the diagonal goes on the LEFT and scales the rows, `(1 - s_t**2)[:, None] * W`.",
     state_jacobian=V(lambda r, s_t, W: _sj_diag_right(s_t, W)),
     jacobian_product=V(_jp_variant(_jacobian_product_of(_sj_diag_right))))
_add("state_jacobian_one_minus_s", "state_jacobian", "tanh' written as 1 - s",
     "Your Jacobian matches `diag(1 - s_t) @ W`: the derivative of tanh is `1 - s_t**2`.",
     state_jacobian=V(lambda r, s_t, W: _sj_one_minus_s(s_t, W)),
     jacobian_product=V(_jp_variant(_jacobian_product_of(_sj_one_minus_s))),
     rnn_backward=V(_bptt_with(carry="1-s")))
_add("jacobian_product_extra_factor", "jacobian_product", "one factor too many",
     "Your product matches J_t @ ... @ J_{k+1} @ J_k, one factor too many: stop at J_{k+1} (and return the identity when t == k).",
     jacobian_product=V(lambda r, s, W, t, k: _jacobian_product_of(r.state_jacobian, first_offset=1)(s, W, t, k)))
_add("jacobian_product_index_shift", "jacobian_product", "factors from s[j-1]",
     "Your product matches factors built from `s[j-1]`: J_j = state_jacobian(s[j], W), from the state AFTER step j.",
     jacobian_product=V(lambda r, s, W, t, k: _jacobian_product_of(r.state_jacobian, index_shift=1)(s, W, t, k)))
_add("jacobian_product_reverse_order", "jacobian_product", "factors in reverse order",
     "Your product matches J_{k+1} @ ... @ J_t, the reverse order: the latest step goes on the left, J_t @ J_{t-1} @ ... @ J_{k+1}.",
     jacobian_product=V(lambda r, s, W, t, k: _jacobian_product_of(r.state_jacobian, order="earliest_left")(s, W, t, k)),
     rnn_backward=V(lambda r, *a: _bptt(r, *a, jp=_jacobian_product_of(lambda s_t, W: (1.0 - s_t**2)[:, None] * W, order="earliest_left"))))
_add("clip_elementwise", "clip_gradient_norm", "element-wise clipping",
     "Your output matches clipping every entry to [-max_norm, max_norm]: gradient-norm clipping rescales all arrays by one factor, max_norm / global norm.",
     clip_gradient_norm=V(_clip_elementwise))
_add("clip_modifies_grads", "clip_gradient_norm", "grads modified in place",
     "Your values are right, but the caller's `grads` is changed (its arrays are scaled in place, or replaced): build and return a new dict of new arrays.",
     clip_gradient_norm=V(_clip_in_place, aspects=IN_PLACE))
_add("clip_per_array_norm", "clip_gradient_norm", "one norm per array",
     "Your output matches rescaling each array by its own norm: use ONE global norm, the square root of the sum of the squares of all entries of all arrays.",
     clip_gradient_norm=V(_clip_per_array))
_add("clip_ratio_inverted", "clip_gradient_norm", "scale factor inverted",
     "Your output matches scaling by norm / max_norm, which makes large gradients larger: the factor is max_norm / norm.",
     clip_gradient_norm=V(_clip_ratio_inverted))
_add("clip_squared_norm", "clip_gradient_norm", "square root missing",
     "Your output matches using the sum of squares as the norm: take its square root before comparing and dividing.",
     clip_gradient_norm=V(_clip_squared_norm))
_add("clip_always_rescales", "clip_gradient_norm", "rescaled even below the threshold",
     "Your output matches rescaling to max_norm every time: when the norm is already at most max_norm, return unchanged copies.",
     clip_gradient_norm=V(_clip_always_rescales))
_add("numgrad_forgets_to_restore_x", "numerical_gradient", "x not restored",
     "Your function leaves the caller's `x` shifted by -eps (later entries are then measured at the wrong point): work on a copy, or put each entry back after evaluating f.",
     numerical_gradient=V(_numgrad_no_restore, aspects=IN_PLACE))
_add("numgrad_forward_difference", "numerical_gradient", "one-sided difference",
     "Your output matches a one-sided difference such as (f(x + eps) - f(x)) / eps: use the centred one, (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).",
     numerical_gradient=V(_numgrad_with(kind="forward"), _numgrad_with(kind="backward")))
_add("numgrad_ignores_eps", "numerical_gradient", "eps argument ignored",
     "Your output matches a fixed step of 1e-5 whatever `eps` is given: use the `eps` argument.",
     numerical_gradient=V(_numgrad_with(step=1e-5)))
_add("numgrad_missing_factor_two", "numerical_gradient", "eps instead of 2 eps",
     "Your output is twice the centred difference: divide f(x + eps e_i) - f(x - eps e_i) by 2 * eps, not eps.",
     numerical_gradient=V(_numgrad_with(divide=1.0)))
_add("numgrad_perturbs_whole_rows", "numerical_gradient", "whole rows perturbed",
     "Your output matches perturbing `x[i]` for i in range(len(x)), which moves a whole row of a matrix: perturb one entry at a time, `for index in np.ndindex(x.shape)`.",
     numerical_gradient=V(_numgrad_with(rows=True)))

# ----- lstm

_add("sigmoid_exp_ratio_overflow", "sigmoid", "sigmoid overflows",
     "Your sigmoid gives nan at z = 1000, as exp(z) / (1 + exp(z)) does (inf / inf): use 1 / (1 + exp(-z)) for z >= 0 and exp(z) / (1 + exp(z)) only for z < 0.",
     sigmoid=V(*_both_precisions(_sigmoid_exp_ratio)))
_add("sigmoid_sign_flipped", "sigmoid", "sigmoid(-z)",
     "Your output matches sigmoid(-z) = 1 / (1 + exp(z)): check the sign of the exponent (or which branch of the stable form gets z >= 0).",
     sigmoid=V(lambda r, z: 1.0 - r.sigmoid(z)),
     forget_gate=V(_gate_flipped("forget_gate")), input_gate=V(_gate_flipped("input_gate")),
     output_gate=V(_gate_flipped("output_gate")),
     lstm_step_forward=V(_lstm_step_knobs(gates=_LSTM_FLIPPED)),
     lstm_forward=V(_lstm_forward_knobs(gates=_LSTM_FLIPPED)))
_add("lstm_concat_x_first", "forget_gate", "[x_t; h_prev] instead of [h_prev; x_t]",
     "Your gates match reading `[x_t; h_prev]`: the first H columns of each weight matrix act on h_prev, so concatenate `np.concatenate([h_prev, x_t])`, h first.",
     also=("input_gate", "candidate_cell", "output_gate"),
     forget_gate=V(_LSTM_X_FIRST["f"]), input_gate=V(_LSTM_X_FIRST["i"]),
     candidate_cell=V(_LSTM_X_FIRST["c"]), output_gate=V(_LSTM_X_FIRST["o"]),
     lstm_step_forward=V(_lstm_step_knobs(gates=_LSTM_X_FIRST)),
     lstm_forward=V(_lstm_forward_knobs(gates=_LSTM_X_FIRST)),
     lstm_backward=V(_lstm_backward_x_first))
_add("lstm_forget_gate_missing_bias", "forget_gate", "forget-gate bias missing",
     "Your forget gate matches `sigmoid(Wf @ [h_prev; x_t])` without the bias: add `bf`.",
     forget_gate=V(_gate_without_bias("forget_gate")),
     lstm_step_forward=V(_lstm_step_knobs(gates={"f": _gate_without_bias("forget_gate")})),
     lstm_forward=V(_lstm_forward_knobs(gates={"f": _gate_without_bias("forget_gate")})))
_add("lstm_candidate_sigmoid", "candidate_cell", "sigmoid instead of tanh in the candidate",
     "Your candidate cell matches a sigmoid: C~_t squashes with `np.tanh`, so it can be negative.",
     candidate_cell=V(_gate_sigmoid_instead_of_tanh),
     lstm_step_forward=V(_lstm_step_knobs(gates={"c": _gate_sigmoid_instead_of_tanh})),
     lstm_forward=V(_lstm_forward_knobs(gates={"c": _gate_sigmoid_instead_of_tanh})))
_add("lstm_output_gate_tanh", "output_gate", "tanh instead of sigmoid in the output gate",
     "Your output gate matches a tanh: a gate is a sigmoid, between 0 and 1.",
     output_gate=V(_gate_tanh_instead_of_sigmoid),
     lstm_step_forward=V(_lstm_step_knobs(gates={"o": _gate_tanh_instead_of_sigmoid})),
     lstm_forward=V(_lstm_forward_knobs(gates={"o": _gate_tanh_instead_of_sigmoid})))
_add("lstm_forget_input_swapped", "lstm_step_forward", "forget and input gates swapped",
     "Your cell state matches `i_t * c_prev + f_t * C~_t`: the forget gate keeps the old cell, `c_t = f_t * c_prev + i_t * C~_t`.",
     lstm_step_forward=V(_lstm_step_knobs(cell=lambda g, c: g["i"] * c + g["f"] * g["c"])),
     lstm_forward=V(_lstm_forward_knobs(cell=lambda g, c: g["i"] * c + g["f"] * g["c"])))
_add("lstm_no_input_gate", "lstm_step_forward", "input gate missing",
     "Your cell state matches `f_t * c_prev + C~_t`: the input gate scales the candidate, `+ i_t * C~_t`.",
     lstm_step_forward=V(_lstm_step_knobs(cell=lambda g, c: g["f"] * c + g["c"])),
     lstm_forward=V(_lstm_forward_knobs(cell=lambda g, c: g["f"] * c + g["c"])))
_add("lstm_missing_tanh_on_cell", "lstm_step_forward", "tanh missing on the cell state",
     "Your h_t matches `o_t * c_t`: the hidden state is `o_t * np.tanh(c_t)`.",
     lstm_step_forward=V(_lstm_step_knobs(out=lambda g, c: g["o"] * c)),
     lstm_forward=V(_lstm_forward_knobs(out=lambda g, c: g["o"] * c)))
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

# ----- gru

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
     gru_step_forward=V(_gru_step_knobs(z=_gru_z_tanh)),
     gru_forward=V(_gru_forward_knobs(z=_gru_z_tanh)))
_add("gru_candidate_ignores_reset", "candidate_hidden", "reset gate unused",
     "Your candidate matches `tanh(Wh @ [h_prev; x_t] + bh)`: the reset gate must scale the state first, `[r_t * h_prev; x_t]`.",
     candidate_hidden=V(_gru_cand_no_reset),
     gru_step_forward=V(_gru_step_knobs(cand=_gru_cand_no_reset)),
     gru_forward=V(_gru_forward_knobs(cand=_gru_cand_no_reset)))
_add("gru_reset_after_matmul", "candidate_hidden", "reset applied after the product",
     "Your candidate matches `r_t * (Wh_h @ h_prev)` (PyTorch's convention): this course applies the reset before the product, `Wh @ [r_t * h_prev; x_t]`.",
     candidate_hidden=V(_gru_cand_reset_after),
     gru_step_forward=V(_gru_step_knobs(cand=_gru_cand_reset_after)),
     gru_forward=V(_gru_forward_knobs(cand=_gru_cand_reset_after)))
_add("gru_reset_scales_whole_preactivation", "candidate_hidden", "reset scales the input too",
     "Your candidate matches `r_t * (Wh @ [h_prev; x_t])`, which also scales the input's part: reset only the state, `Wh @ [r_t * h_prev; x_t]`.",
     candidate_hidden=V(_gru_cand_reset_whole),
     gru_step_forward=V(_gru_step_knobs(cand=_gru_cand_reset_whole)),
     gru_forward=V(_gru_forward_knobs(cand=_gru_cand_reset_whole)))
_add("gru_update_convention_swapped", "gru_step_forward", "update gate with the opposite sign",
     "Your output matches `z_t * h_prev + (1 - z_t) * h~_t` (PyTorch's convention): here a small z keeps the old state, `h_t = (1 - z_t) * h_prev + z_t * h~_t`.",
     gru_step_forward=V(_gru_step_knobs(blend=_blend_swapped)),
     gru_forward=V(_gru_forward_knobs(blend=_blend_swapped)))
_add("gru_interpolation_uses_reset_state", "gru_step_forward", "blend with r_t * h_prev",
     "Your output matches blending `r_t * h_prev` with the candidate: the reset gate only acts inside the candidate; blend `h_prev` itself.",
     gru_step_forward=V(_gru_step_knobs(blend=_blend_reset_state)),
     gru_forward=V(_gru_forward_knobs(blend=_blend_reset_state)))
_add("gru_step_uses_reset_weights_for_update", "gru_step_forward", "update gate from the reset weights",
     "Your output matches computing z_t with `Wr, br`: the update gate uses `params['Wz'], params['bz']`.",
     gru_step_forward=V(_gru_step_knobs(z=_gru_z_from_reset_weights)),
     gru_forward=V(_gru_forward_knobs(z=_gru_z_from_reset_weights)))
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

# ----- general patterns: reported only when no specific mistake matches

_SEQUENCE_LOSSES = ("cross_entropy_loss", "softmax_cross_entropy_grad", "rnn_backward", "lstm_backward", "gru_backward")
_add("divided_by_T", "any", "divided by T",
     "Your output is the right answer divided by T, the sequence length: the loss is a sum over time, not a mean, and so are its gradients.",
     general=True, **{name: V(_divided_by_T) for name in _SEQUENCE_LOSSES})
_add("constant_factor", "any", "off by a constant factor",
     "Your output is the right answer times one constant factor on every case: look for a stray constant (a sign, a 2, a log in another base).",
     general=True, **{"*": Pattern(_constant_factor)})
_add("first_step_only", "any", "only the first step right",
     "The first step of your sequence is right and later steps are wrong: check what you carry from one step to the next (the new state must be the next step's previous state).",
     general=True, **{name: Pattern(_first_step_only) for name in ("rnn_forward", "lstm_forward", "gru_forward")})
_add("last_step_only", "any", "only the last step's input gradient right",
     "Your gradient for the last x_t is right and earlier ones are wrong: check the gradients you carry back from step t+1 to step t (for the hidden state, and the cell state in an LSTM).",
     general=True, **{name: Pattern(_last_step_only) for name in ("lstm_backward", "gru_backward")})
_add("modifies_arguments", "any", "an argument modified in place",
     "Your values are right, but your function changes an argument it was given (the cases above say which): work on a copy, or build new arrays.",
     general=True, **{"*": Pattern(_changes_arguments_only)})


def recognisers_for(function: str) -> list[tuple[Mistake, Variant | Pattern]]:
    """The catalogue's recognisers that apply to ``function``, in catalogue order."""
    out = []
    for mistake in CATALOGUE.values():
        recogniser = mistake.recognisers.get(function) or mistake.recognisers.get("*")
        if recogniser is not None:
            out.append((mistake, recogniser))
    return out


# --------------------------------------------------------------------------- matching


_EXACT = Tolerance(rtol=1e-9, atol=1e-12)


def _close(found: Any, target: Any, tol: Tolerance) -> bool:
    """``found`` agrees with ``target`` within ``tol`` (the grader's rule), non-finite entries included."""
    if isinstance(target, (tuple, list)):
        return isinstance(found, (tuple, list)) and len(found) == len(target) and all(_close(f, t, tol) for f, t in zip(found, target))
    if isinstance(target, dict):
        return isinstance(found, dict) and all(k in found and _close(found[k], t, tol) for k, t in target.items())
    if target is None or found is None:
        return target is None and found is None
    if isinstance(found, (tuple, list, dict, str)) or isinstance(found, (bool, np.bool_)):
        return False
    try:
        t = np.asarray(target, dtype=float)
        f = np.asarray(found, dtype=float)
    except (TypeError, ValueError):
        return False
    if f.shape != t.shape:
        return False
    t_finite, f_finite = np.isfinite(t), np.isfinite(f)
    if not np.array_equal(t_finite, f_finite):
        return False
    if not t_finite.all():
        if not np.array_equal(np.isnan(t), np.isnan(f)) or not np.array_equal(t[np.isinf(t)], f[np.isinf(f)]):
            return False
        t, f = np.where(t_finite, t, 0.0), np.where(f_finite, f, 0.0)
    return compare(f, t, tol).passed


def _data_args(args: tuple) -> tuple:
    """The arguments the sandbox sends back after a call: all but the functions."""
    return tuple(a for a in args if not (callable(a) or isinstance(a, Probe)))


@dataclass
class Seen:
    """What one call produced: a value (and the arguments after the call), an exception, or nothing usable."""

    kind: str  # "value", "raised" or "none"
    result: Any = None
    args_after: tuple = ()
    raised: str = ""
    passed: bool = False


_RAISED = "your function raised "


def seen_from_outcome(outcome: "CaseOutcome") -> Seen:
    args_after = getattr(outcome, "args_after", None)
    if args_after is not None:
        return Seen("value", outcome.found, tuple(args_after), passed=outcome.passed)
    if outcome.message.startswith(_RAISED):
        kind = outcome.message[len(_RAISED):].split(":", 1)[0].split()[0] if outcome.message[len(_RAISED):].strip() else ""
        return Seen("raised", raised=kind)
    return Seen("none")


class _Ref:
    """The part's reference functions as attributes, with the case's answer and sizes."""

    def __init__(self, module, expected, dims):
        self._module = module
        self.expected = expected
        self.dims = dims

    def __getattr__(self, name):
        return getattr(self._module, name)


class Diagnoser:
    """Recognises catalogued mistakes in graded results; variant outputs are computed once per class."""

    def __init__(self, course: "Course", hidden: "HiddenTests", references: dict[str, Any]):
        self.course = course
        self.hidden = hidden
        self.references = references
        self.tol = course.tolerance
        self._runs: dict[tuple[str, str, int], list[tuple[Seen, bool]]] = {}
        self._part_of = {f.name: f.part for f in course.functions}

    # -- variants

    def _run(self, mistake: Mistake, function: str, index: int, fn: Callable, aspects: tuple[str, ...], raises: bool = False) -> list[tuple[Seen, bool]]:
        """Per case: what the variant produces, and whether that differs from the reference.

        An exception is an outcome to match only for a variant declared to raise; otherwise it is
        a broken variant (kind "none", which nothing matches).
        """
        key = (mistake.id, function, index)
        if key not in self._runs:
            module = self.references[self._part_of[function]]
            runs = []
            for case, expected in zip(self.hidden.cases[function], self.hidden.expected[function]):
                args = calls.copy_value(case.call_args())
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        value = fn(_Ref(module, expected, case.dims), *args)
                    except Exception as exc:  # noqa: BLE001 - the mistake raises, as the student's code would
                        runs.append((Seen("raised", raised=type(exc).__name__) if raises else Seen("none"), True))
                        continue
                after = _data_args(args)
                differs = ("result" in aspects and not _close(value, expected, self.tol)) or (
                    "args" in aspects and not _close(after, _data_args(case.args), _EXACT)
                )
                runs.append((Seen("value", value, after), differs))
            self._runs[key] = runs
        return self._runs[key]

    def variant_outputs(self, mistake: Mistake, function: str) -> list[list[tuple[Seen, bool]]]:
        """Per alternative of ``mistake``'s variant for ``function``, per hidden case: (what it produces, differs from the reference)."""
        variant = mistake.recognisers[function]
        assert isinstance(variant, Variant)
        return [self._run(mistake, function, i, fn, variant.aspects, variant.raises) for i, fn in enumerate(variant.alternatives)]

    def _variant_matches(self, mistake: Mistake, function: str, variant: Variant, seen: list[Seen]) -> bool:
        for index, fn in enumerate(variant.alternatives):
            runs = self._run(mistake, function, index, fn, variant.aspects, variant.raises)
            if len(runs) != len(seen):
                continue
            distinguishing = False
            for student, (mine, differs) in zip(seen, runs):
                if mine.kind == "none":
                    break
                if mine.kind == "raised":
                    if student.kind != "raised" or student.raised != mine.raised:
                        break
                elif student.kind != "value":
                    break
                elif "result" in variant.aspects and not _close(student.result, mine.result, self.tol):
                    break
                elif "args" in variant.aspects and not _close(student.args_after, mine.args_after, self.tol):
                    break
                distinguishing = distinguishing or differs
            else:
                if distinguishing:
                    return True
        return False

    def matches(self, function: str, seen: list[Seen]) -> list[tuple[Mistake, Variant | Pattern, str]]:
        """Every catalogued mistake whose recogniser for ``function`` agrees with ``seen``."""
        out = []
        cases, expected = self.hidden.cases[function], self.hidden.expected[function]
        for mistake, recogniser in recognisers_for(function):
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if isinstance(recogniser, Variant):
                        ok, detail = self._variant_matches(mistake, function, recogniser, seen), ""
                    else:
                        ok, detail = recogniser.check(seen, cases, expected, self.tol)
            except Exception:  # noqa: BLE001 - a recogniser must never stop grading
                ok, detail = False, ""
            if ok:
                out.append((mistake, recogniser, detail))
        return out

    # -- students

    def diagnose(self, student: "StudentResult") -> None:
        """Fill ``diagnoses`` of every function of ``student`` that lost credit."""
        for part in self.course.parts:
            self.diagnose_part(student.functions, part)

    def diagnose_part(self, results: dict, part) -> None:
        """Fill ``diagnoses`` of the functions of ``part`` in ``results`` (name -> FunctionResult) that lost credit."""
        found: dict[str, list[tuple[Mistake, Variant | Pattern, str]]] = {}
        for function in part.functions:
            result = results.get(function.name)
            if result is None or result.passed or result.problem or not result.cases:
                continue
            found[function.name] = self.matches(function.name, [seen_from_outcome(c) for c in result.cases])
        # mistake id -> the functions that make it themselves, for this student
        at_home: dict[str, list[str]] = {}
        for name, hits in found.items():
            for m, _, _ in hits:
                if name in m.homes:
                    at_home.setdefault(m.id, []).append(name)
        for name, hits in found.items():
            results[name].diagnoses = [_diagnosis(m, name, detail, at_home.get(m.id, [])) for m, _, detail in _choose(name, hits, at_home)]


def _choose(function: str, hits, at_home: dict[str, list[str]]):
    """Specific mistakes before general patterns (the first that matches); a mistake made in this function, or
    inherited from one that makes it, before one that is not."""
    specific = [h for h in hits if not h[0].general and not (isinstance(h[1], Variant) and h[1].needs_home and h[0].id not in at_home)]
    if specific:
        explained = [h for h in specific if function in h[0].homes or h[0].id in at_home]
        return explained or specific
    return [h for h in hits if h[0].general][:1]


def _diagnosis(m: Mistake, function: str, detail: str, homes_seen: list[str]) -> Diagnosis:
    inherited = function not in m.homes and not m.general and bool(homes_seen)
    text = m.explanation + (f" {detail}" if detail else "")
    if inherited:
        text += f" (It comes from your {', '.join(f'`{h}`' for h in homes_seen)}.)"
    return Diagnosis(m.id, m.function, m.name, text, detail, inherited)


def diagnose_class(students: Iterable["StudentResult"], course: "Course", hidden: "HiddenTests", references: dict[str, Any]) -> None:
    """Name the recognised mistakes in every student's results (``FunctionResult.diagnoses``).

    Naming a mistake is a courtesy: whatever goes wrong here, grading goes on (without a diagnosis).
    """
    diagnoser = Diagnoser(course, hidden, references)
    for student in students:
        try:
            diagnoser.diagnose(student)
        except Exception:  # noqa: BLE001
            for result in student.functions.values():
                result.diagnoses = []


# --------------------------------------------------------------------------- the instructor's summary


@dataclass
class MistakeCount:
    mistake: Mistake
    functions: list[str]
    students: list[str]


def count_mistakes(students: Iterable["StudentResult"]) -> list[MistakeCount]:
    """Each mistake seen, with the students who made it (most frequent first, then catalogue order)."""
    seen: dict[str, MistakeCount] = {}
    elsewhere: dict[str, list[str]] = {}  # functions that only inherit the mistake (or make it unlike the catalogue's home)
    for student in students:
        for result in student.functions.values():
            for d in getattr(result, "diagnoses", []) or []:
                # A mistake named by the generated error models (rnnkit.mutants) is not in the catalogue.
                mistake = CATALOGUE.get(d.mistake) or Mistake(d.mistake, d.function, d.name, d.explanation)
                entry = seen.setdefault(d.mistake, MistakeCount(mistake, [], []))
                where = entry.functions if (mistake.general or result.function.name in mistake.homes) else elsewhere.setdefault(d.mistake, [])
                if result.function.name not in where:
                    where.append(result.function.name)
                if student.student not in entry.students:
                    entry.students.append(student.student)
    for entry in seen.values():
        entry.functions = entry.functions or elsewhere.get(entry.mistake.id, [])
    order = {m: i for i, m in enumerate(CATALOGUE)}
    return sorted(seen.values(), key=lambda c: (-len(c.students), order.get(c.mistake.id, len(order)), c.mistake.id))
