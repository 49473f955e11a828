"""The data model of the mistake catalogue, and the small helpers its recognisers share.

A :class:`Mistake` is recognised in a function's outputs by a :class:`Variant`
(what the mistake computes) or a :class:`Pattern` (the shape of its error); a
:class:`Diagnosis` is what a student is told. ``_close`` is the grader's rule for
"these outputs agree", shared by the variants' matching (:mod:`.matching`) and
the general patterns (:mod:`.patterns`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..compare import agrees
from ..course import Tolerance
from ..worker.calls import Probe


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


# --------------------------------------------------------------------------- agreement (matching and the general patterns)


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
    return agrees(f, t, tol)


def _data_args(args: tuple) -> tuple:
    """The arguments the sandbox sends back after a call: all but the functions."""
    return tuple(a for a in args if not (callable(a) or isinstance(a, Probe)))
