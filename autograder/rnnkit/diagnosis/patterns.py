"""The general patterns: shapes of error any function can show (right up to a constant factor, only the first step right, ...).

They are general and only speak when no specific mistake matched; their
entries are the last of the catalogue (:mod:`.catalogue` imports this module
after every part).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .catalogue import _add
from .model import _EXACT, Pattern, V, _close, _data_args, _scaled


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


def _every_failed_case(seen, expected, fits) -> tuple[bool, str]:
    """Every case returned a value, and each one that failed ``fits(result, expected)`` (at least one failed)."""
    hits = 0
    for s, e in zip(seen, expected):
        if s.kind != "value":
            return False, ""
        if s.passed:
            continue
        if not fits(s.result, e):
            return False, ""
        hits += 1
    return hits > 0, ""


def _first_step_only(seen, cases, expected, tol) -> tuple[bool, str]:
    """Row 0 of every sequence returned is right; a later row is wrong."""

    def fits(result, wanted_value) -> bool:
        found, wanted = _sequences(result), _sequences(wanted_value)
        if not found or not wanted or [a.shape for a in found] != [b.shape for b in wanted]:
            return False
        first_right = all(_close(f[:1], w[:1], tol) for f, w in zip(found, wanted))
        return first_right and not all(_close(f[1:], w[1:], tol) for f, w in zip(found, wanted))

    return _every_failed_case(seen, expected, fits)


def _last_step_only(seen, cases, expected, tol) -> tuple[bool, str]:
    """The input gradient of the last step is right; an earlier one is wrong (the gradient carried back is)."""

    def fits(result, wanted_value) -> bool:
        if not isinstance(result, dict) or "x" not in result:
            return False
        try:
            found, wanted = np.asarray(result["x"], dtype=float), np.asarray(wanted_value["x"], dtype=float)
        except (TypeError, ValueError):
            return False
        if found.shape != wanted.shape or found.ndim != 2 or len(found) < 2:
            return False
        return _close(found[-1:], wanted[-1:], tol) and not _close(found[:-1], wanted[:-1], tol)

    return _every_failed_case(seen, expected, fits)


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


# --------------------------------------------------------------------------- catalogue entries
# Reported only when no specific mistake matches.

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
