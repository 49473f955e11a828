"""Can the capstone train with a student's function? Small probes that need no reference answers.

Each probe calls the student's function on a tiny input (T = 4 steps, D = K = 5
inputs and classes, H = 3 hidden units) and checks only what follows from the
function's own contract or from the student's *other* functions:

* shapes, finiteness, and simple facts (probabilities are >= 0 and each row
  sums to 1; a tanh state lies in [-1, 1]; a loss is one number >= 0 that falls
  when the targets get more probability; clipping scales every array by one
  common factor to the threshold);
* agreement between two of the student's functions: a step function gives the
  states of the student's own sequence function, and a backward pass gives
  the directional derivatives of the student's own forward pass (centred
  differences along a random direction, one parameter at a time);
* the arguments are left unchanged (the training loop reuses them).

Nothing here computes a graded function: there is no answer to compare with.
:func:`probe` returns ``None`` when a function is usable, otherwise the reason,
worded to follow the function's name ("is not written yet").
"""
from __future__ import annotations

import contextlib
import io
import signal
import threading
import warnings
from typing import Any, Callable

import numpy as np

from .spec import ARGUMENTS

T, D, H = 4, 5, 3
K = D  # the capstone's inputs are one-hot characters
SECONDS = 10  # per call, on these tiny inputs
LSTM_KEYS = ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")
GRU_KEYS = ("Wz", "bz", "Wr", "br", "Wh", "bh")

#: The other student functions a probe uses (it waits for them to be usable).
USES: dict[str, tuple[str, ...]] = {
    "rnn_step_forward": ("rnn_forward",),
    "softmax_cross_entropy_grad": ("softmax", "cross_entropy_loss"),
    "rnn_backward": ("rnn_forward", "cross_entropy_loss"),
    "lstm_step_forward": ("lstm_forward",),
    "lstm_backward": ("lstm_forward",),
    "gru_step_forward": ("gru_forward",),
    "gru_backward": ("gru_forward",),
}
#: The order in which functions are probed: what a probe uses comes first.
ORDER = (
    "softmax", "cross_entropy_loss", "rnn_forward", "rnn_step_forward", "softmax_cross_entropy_grad",
    "rnn_backward", "clip_gradient_norm", "lstm_forward", "lstm_step_forward", "lstm_backward",
    "gru_forward", "gru_step_forward", "gru_backward",
)


class Unusable(Exception):
    """Raised inside a probe; its message is the reason, in words."""


class TookTooLong(BaseException):  # not an Exception: a student's `except Exception` cannot swallow it
    """Raised by :func:`time_limit` in the code it limits."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Interrupt the code of this block after ``seconds`` with :class:`TookTooLong` (main thread on POSIX; else no limit)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(signum, frame):
        raise TookTooLong(f"still running after {seconds:g} s")

    before = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _unchanged(before: Any, after: Any) -> bool:
    if isinstance(before, dict):
        return isinstance(after, dict) and before.keys() == after.keys() and all(_unchanged(before[k], after[k]) for k in before)
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and after.shape == before.shape and np.array_equal(after, before)
    return True


def _innermost(exc: BaseException) -> str | None:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_name if tb is not None else None


def call(name: str, fn: Callable, *args) -> Any:
    """``fn(*args)`` on copies, quietly; :class:`Unusable` when it fails or changes an argument."""
    given = [_copy(a) for a in args]
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), time_limit(SECONDS):
            warnings.simplefilter("ignore")
            result = fn(*given)
    except NotImplementedError as exc:
        inner = _innermost(exc)
        if inner and inner not in (name, "<module>") and not inner.startswith("<"):
            raise Unusable(f"calls {inner}, which is not written yet") from None
        raise Unusable("is not written yet") from None
    except TookTooLong:
        raise Unusable(f"did not finish within {SECONDS} s on a tiny input (an endless loop?)") from None
    except Exception as exc:  # noqa: BLE001 - any error of the student's code becomes a reason in words
        message = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise Unusable(f"raises {type(exc).__name__}{': ' + message if message else ''} on a small input") from None
    for n, (before, after) in enumerate(zip(args, given)):
        if not _unchanged(before, after):
            names = ARGUMENTS.get(name, ())
            what = names[n] if n < len(names) else f"number {n + 1}"
            raise Unusable(f"changes its argument {what} (the training loop reuses its arguments)")
    return result


def _array(value: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    try:
        out = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Unusable(f"returns {type(value).__name__} for {what}; expected an array of shape {shape}") from None
    if out.shape != shape:
        raise Unusable(f"returns {what} of shape {out.shape}; expected {shape}")
    if not np.all(np.isfinite(out)):
        raise Unusable(f"returns {what} with nan or inf entries")
    return out


def _pair(value: Any, what: str) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise Unusable(f"returns {type(value).__name__}; expected a tuple {what}")
    return tuple(value)


def _grads(value: Any, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    if not isinstance(value, dict):
        raise Unusable(f"returns {type(value).__name__}; expected a dict of gradients")
    missing = [k for k in shapes if k not in value]
    if missing:
        raise Unusable(f"returns no gradient for {', '.join(missing)}")
    return {k: _array(value[k], shape, f'the gradient "{k}"') for k, shape in shapes.items()}


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-4) -> bool:
    return bool(np.all(np.abs(a - b) <= rtol * np.abs(b) + 1e-6 * max(1.0, float(np.max(np.abs(b))))))


def _gradient_agrees(loss: Callable[[dict], float], params: dict, grads: dict, keys, against: str) -> None:
    """For each key, the gradient's directional derivative along a random direction matches centred differences of ``loss``.

    The step (1e-3) and tolerance (2 %) let a float32 forward pass through; the
    usual slips are off by far more.
    """
    rng = np.random.default_rng(7)
    for key in keys:
        direction = rng.standard_normal(np.shape(params[key]))
        direction /= np.linalg.norm(direction)
        moved = {}
        for sign in (1.0, -1.0):
            shifted = dict(params)
            shifted[key] = params[key] + sign * 1e-3 * direction
            moved[sign] = loss(shifted)
        numeric = (moved[1.0] - moved[-1.0]) / 2e-3
        analytic = float(np.sum(grads[key] * direction))
        if abs(numeric - analytic) > 0.02 * max(abs(numeric), abs(analytic)) + 1e-4:
            raise Unusable(
                f'gives a gradient for "{key}" that does not match finite differences of your {against} '
                f"({analytic:.4g} against {numeric:.4g} along a random direction)"
            )


# --------------------------------------------------------------------------- the probes


def _inputs() -> dict:
    rng = np.random.default_rng(20241201)
    probs = rng.uniform(0.2, 1.0, (T, K))
    gate = lambda keys: {k: rng.standard_normal((H, H + D) if k[0] == "W" else H) * (0.6 if k[0] == "W" else 0.3) for k in keys}
    return {
        "x": np.eye(K)[rng.integers(0, K, T)] + 0.1 * rng.standard_normal((T, D)),
        "y": rng.integers(0, K, T),
        "z": 2.0 * rng.standard_normal((T, K)),
        "o": probs / probs.sum(axis=1, keepdims=True),  # rows of probabilities (not a softmax)
        "U": 1.5 * rng.standard_normal((H, D)), "W": 0.8 * rng.standard_normal((H, H)), "V": 0.5 * rng.standard_normal((K, H)),
        "s0": np.tanh(rng.standard_normal(H)), "c0": rng.standard_normal(H), "dh": rng.standard_normal((T, H)),
        "lstm": gate(LSTM_KEYS), "gru": gate(GRU_KEYS),
        "grads": {"a": 3.0 * rng.standard_normal((3, 4)), "b": 3.0 * rng.standard_normal(5)},
    }


def _probabilities(p: np.ndarray, what: str) -> None:
    if np.any(p < -1e-12) or not np.allclose(p.sum(axis=-1), 1.0, atol=1e-6):
        raise Unusable(f"returns {what} that are not probabilities (each row must be >= 0 and sum to 1)")


def _probe_softmax(fn, fns, v):
    """z (T, K) and (K,): probabilities of the same shape, unchanged when a row's logits all move by 3."""
    for z in (v["z"], v["z"][0]):
        _probabilities(_array(call("softmax", fn, z), z.shape, "an output"), "outputs")
    shifted = _array(call("softmax", fn, v["z"] + 3.0), v["z"].shape, "an output")
    if not _close(shifted, _array(call("softmax", fn, v["z"]), v["z"].shape, "an output"), 1e-5):
        raise Unusable("changes when every logit of a row moves by the same amount (a softmax does not)")


def _probe_cross_entropy_loss(fn, fns, v):
    """o (T, K) rows of probabilities, y (T,): one number >= 0 that falls when o moves towards onehot(y)."""
    o, y = v["o"], v["y"]
    loss = call("cross_entropy_loss", fn, o, y)
    if np.ndim(loss) != 0:
        raise Unusable(f"returns shape {np.shape(loss)}; expected one number")
    loss = float(_array(loss, (), "the loss"))
    better = 0.5 * o + 0.5 * np.eye(K)[y]  # more probability on every target
    lower = float(_array(call("cross_entropy_loss", fn, better, y), (), "the loss"))
    if loss < 0 or not lower < loss:
        raise Unusable("does not fall when the targets get more probability (it should be -sum of log o[t, y[t]])")


def _probe_rnn_forward(fn, fns, v):
    """x (T, D), U (H, D), W (H, H), V (K, H), s0 (H,): s (T, H) in [-1, 1] and o (T, K) rows of probabilities."""
    s, o = _pair(call("rnn_forward", fn, v["x"], v["U"], v["W"], v["V"], v["s0"]), "(s, o)")
    s, o = _array(s, (T, H), "states s"), _array(o, (T, K), "outputs o")
    if np.any(np.abs(s) > 1 + 1e-9):
        raise Unusable("returns states outside [-1, 1] (each state is a tanh)")
    _probabilities(o, "outputs o")


def _probe_rnn_step_forward(fn, fns, v):
    """x_t (D,), s_prev (H,): s_t (H,) in [-1, 1], the rows of your rnn_forward's s when it is usable."""
    s1 = _array(call("rnn_step_forward", fn, v["x"][0], v["s0"], v["U"], v["W"]), (H,), "a state")
    if np.any(np.abs(s1) > 1 + 1e-9):
        raise Unusable("returns a state outside [-1, 1] (a state is a tanh)")
    if "rnn_forward" in fns:
        s = np.asarray(call("rnn_forward", fns["rnn_forward"], v["x"], v["U"], v["W"], v["V"], v["s0"])[0], dtype=float)
        s2 = _array(call("rnn_step_forward", fn, v["x"][1], s[0], v["U"], v["W"]), (H,), "a state")
        if not (_close(s1, s[0]) and _close(s2, s[1])):
            raise Unusable("gives other states than your rnn_forward on the same inputs (sampling uses one, training the other)")


def _probe_softmax_cross_entropy_grad(fn, fns, v):
    """o = your softmax(z) (T, K), y (T,): dE/dz (T, K) matching differences of your loss of your softmax."""
    z, y = v["z"], v["y"]
    loss = lambda p: float(call("cross_entropy_loss", fns["cross_entropy_loss"], call("softmax", fns["softmax"], p["z"]), y))
    o = np.asarray(call("softmax", fns["softmax"], z), dtype=float)
    g = _array(call("softmax_cross_entropy_grad", fn, o, y), (T, K), "dE/dz")
    _gradient_agrees(loss, {"z": z}, {"z": g}, ["z"], "softmax and cross_entropy_loss")


def _probe_rnn_backward(fn, fns, v):
    """dU (H, D), dW (H, H), dV (K, H) matching differences of your cross_entropy_loss(rnn_forward(...)[1], y)."""
    x, y, s0 = v["x"], v["y"], v["s0"]
    params = {k: v[k] for k in "UWV"}
    out = call("rnn_backward", fn, x, y, params["U"], params["W"], params["V"], s0)
    grads = _grads(out, {k: p.shape for k, p in params.items()})
    forward = lambda p: call("rnn_forward", fns["rnn_forward"], x, p["U"], p["W"], p["V"], s0)[1]
    loss = lambda p: float(call("cross_entropy_loss", fns["cross_entropy_loss"], np.asarray(forward(p), dtype=float), y))
    _gradient_agrees(loss, params, grads, "UWV", "rnn_forward and cross_entropy_loss")


def _probe_clip_gradient_norm(fn, fns, v):
    """grads {a: (3, 4), b: (5,)}: kept as they are under a large max_norm, scaled by one factor to norm 1 under max_norm = 1."""
    grads = v["grads"]
    shapes = {k: g.shape for k, g in grads.items()}
    size = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
    same = _grads(call("clip_gradient_norm", fn, grads, 10 * size), shapes)
    if not all(_close(same[k], grads[k]) for k in grads):
        raise Unusable("changes gradients whose norm is already below max_norm")
    clipped = _grads(call("clip_gradient_norm", fn, grads, 1.0), shapes)
    factor = sum(float(np.sum(clipped[k] * grads[k])) for k in grads) / size**2
    if not all(_close(clipped[k], factor * grads[k]) for k in grads):
        raise Unusable("does not scale every array by one common factor (it should keep the direction of the gradient)")
    if abs(size * factor - 1.0) > 1e-3:
        raise Unusable(f"brings a gradient of norm {size:.3g} to norm {size * factor:.4g}, not to max_norm = 1")


def _probe_gated_forward(name, two):
    """lstm_forward: (h, c), each (T, H); gru_forward: h (T, H); h in [-1, 1]."""

    def probe(fn, fns, v):
        states = (v["s0"], v["c0"]) if two else (v["s0"],)
        out = call(name, fn, v["x"], v["lstm" if two else "gru"], *states)
        h = _array(_pair(out, "(h, c)")[0] if two else out, (T, H), "h")
        if two:
            _array(out[1], (T, H), "c")
        if np.any(np.abs(h) > 1 + 1e-9):
            raise Unusable("returns hidden states outside [-1, 1]")
    return probe


def _probe_gated_step(name, forward, two):
    """lstm_step_forward: (h_t, c_t), each (H,); gru_step_forward: h_t (H,); h_t is row 0 of your forward's h."""

    def probe(fn, fns, v):
        params = v["lstm" if two else "gru"]
        states = (v["s0"], v["c0"]) if two else (v["s0"],)
        out = call(name, fn, v["x"][0], *states, params)
        h1 = _array(_pair(out, "(h_t, c_t)")[0] if two else out, (H,), "h_t")
        if two:
            _array(out[1], (H,), "c_t")
        if forward in fns:
            seq = call(forward, fns[forward], v["x"], params, *states)
            first = np.asarray(seq[0] if two else seq, dtype=float)[0]
            if not _close(h1, first):
                raise Unusable(f"gives another h_t than your {forward} on the same inputs (sampling uses one, training the other)")
    return probe


def _probe_gated_backward(name, forward, keys, two):
    """A gradient shaped like each of ``params`` matching differences of L = sum(dh * h), h from your forward (T, H)."""

    def probe(fn, fns, v):
        params, x, dh = v["lstm" if two else "gru"], v["x"], v["dh"]
        states = (v["s0"], v["c0"]) if two else (v["s0"],)
        out = call(name, fn, x, params, dh, *states)
        grads = _grads(out, {k: params[k].shape for k in keys})

        def loss(p):
            seq = call(forward, fns[forward], x, p, *states)
            return float(np.sum(dh * np.asarray(seq[0] if two else seq, dtype=float)))

        _gradient_agrees(loss, params, grads, keys, forward)
    return probe


PROBES: dict[str, Callable] = {
    "softmax": _probe_softmax,
    "cross_entropy_loss": _probe_cross_entropy_loss,
    "rnn_forward": _probe_rnn_forward,
    "rnn_step_forward": _probe_rnn_step_forward,
    "softmax_cross_entropy_grad": _probe_softmax_cross_entropy_grad,
    "rnn_backward": _probe_rnn_backward,
    "clip_gradient_norm": _probe_clip_gradient_norm,
    "lstm_forward": _probe_gated_forward("lstm_forward", True),
    "lstm_step_forward": _probe_gated_step("lstm_step_forward", "lstm_forward", True),
    "lstm_backward": _probe_gated_backward("lstm_backward", "lstm_forward", LSTM_KEYS, True),
    "gru_forward": _probe_gated_forward("gru_forward", False),
    "gru_step_forward": _probe_gated_step("gru_step_forward", "gru_forward", False),
    "gru_backward": _probe_gated_backward("gru_backward", "gru_forward", GRU_KEYS, False),
}


def probe(name: str, fn: Any, usable: dict[str, Callable]) -> str | None:
    """None when ``fn`` can serve as the capstone's ``name``; else the reason, following the name.

    ``usable``: the student's functions already found usable, by name (a probe
    compares with those it lists in :data:`USES`; an optional one may be absent,
    a required one must be there).
    """
    if not callable(fn):
        return f"is not a function (it is a {type(fn).__name__})"
    needed = [n for n in USES.get(name, ()) if n not in usable and not name.endswith("step_forward")]
    if needed:
        return f"cannot be tried until your {' and '.join(needed)} {'works' if len(needed) == 1 else 'work'}"
    try:
        PROBES[name](fn, usable, _inputs())
    except Unusable as exc:
        return str(exc)
    return None
