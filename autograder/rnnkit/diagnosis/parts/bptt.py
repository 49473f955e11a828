"""Part bptt: rnn_backward, state_jacobian, jacobian_product, clip_gradient_norm and numerical_gradient.

The variants (what each mistake computes, from the part's reference
functions), then the part's entries in the catalogue (``_add`` of
:mod:`rnnkit.diagnosis.catalogue`).
"""
from __future__ import annotations

import math

import numpy as np

from ..catalogue import _add
from ..model import IN_PLACE, V


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


# --------------------------------------------------------------------------- catalogue entries

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
