"""Part rnn_forward: softmax, rnn_step_forward, rnn_forward and cross_entropy_loss.

The variants (what each mistake computes, from the part's reference
functions), then the part's entries in the catalogue (``_add`` of
:mod:`rnnkit.diagnosis.catalogue`).
"""
from __future__ import annotations

import numpy as np

from ..catalogue import _add
from ..model import IN_PLACE, V, _both_precisions


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


# --------------------------------------------------------------------------- catalogue entries

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
