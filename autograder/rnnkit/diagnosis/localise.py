"""Localisation: *where* a failed function goes wrong, when no single named change explains it.

Four kinds of evidence, each said only when it singles something out:

* the controlled probes (:mod:`.controls`): wrong on the base probe, right once one term is
  switched off, so the error involves that term ("With W = 0 your gradients are right: the error
  involves how the gradient flows back through time");
* the items returned (``s`` right, ``o`` wrong; ``dU`` right, ``dW`` wrong), with the gate they
  belong to for the LSTM's and GRU's gradients, and which half of a gate's weight gradient
  (the columns for ``h_{t-1}`` or for ``x_t``) is wrong;
* the time steps: the same steps wrong in every case (only the last, every one but the first...);
* when every item is wrong in the ordinary cases (an error spreads through time), the items of
  the T = 1 probe, where it has not spread yet;
* inherited failures (:mod:`.inherit`), said by :func:`rnnkit.diagnosis.further.explain_further`.

Nothing here names a mistake: it says where to look. Values are never shown.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..spec import RETURNS
from .controls import LOCALISERS, control_slice

Close = Callable[[Any, Any], bool]

#: The formula each returned item implements, in the notebooks' notation.
FORMULAS = {
    ("rnn_forward", "s"): "s_t = tanh(U x_t + W s_{t-1})",
    ("rnn_forward", "o"): "o_t = softmax(V s_t)",
    ("lstm_step_forward", "h_t"): "h_t = o_t ⊙ tanh(C_t)",
    ("lstm_step_forward", "c_t"): "C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t",
    ("lstm_forward", "h"): "h_t = o_t ⊙ tanh(C_t)",
    ("lstm_forward", "c"): "C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t",
}

#: Functions that return gradients by key ("W" -> dW).
GRADIENTS = {"rnn_backward", "lstm_backward", "gru_backward"}
GATES = {
    "lstm_backward": {"f": "the forget gate f_t", "i": "the input gate i_t", "c": "the candidate C̃_t", "o": "the output gate o_t"},
    "gru_backward": {"z": "the update gate z_t", "r": "the reset gate r_t", "h": "the candidate h̃_t"},
}


def _are(noun: str) -> str:
    return "are" if noun.endswith("s") or noun.startswith("(") else "is"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def by_controls(function: str, seen: list, answers: list, close: Close) -> str:
    """The controlled probes' verdict, in words ("" when they single nothing out)."""
    localiser, where = LOCALISERS.get(function), control_slice(function)
    if localiser is None or len(seen) < where.stop or len(answers) < where.stop:
        return ""
    if seen[0] is None or close(seen[0], answers[0]):
        return ""  # right (or no value) on the base probe: switching a term off there says nothing
    if _shapes_differ(function, seen[0], answers[0]):
        return ""  # a wrong shape stays wrong whatever term is switched off: the shape message says it all
    right, wrong = [], []
    for control, value, answer in zip(localiser.controls, seen[where], answers[where]):
        if value is not None:
            (right if close(value, answer) else wrong).append(control)
    noun, are = localiser.noun, _are(localiser.noun)
    if len(right) == 1:
        return f"With {right[0].when} your {noun} {are} right: the error involves {right[0].where}."
    if right:
        withs = ", and with ".join(c.when for c in right)
        if len({c.topic or c.name for c in right}) == 1:  # several ways of switching off the same thing
            return f"With {withs}, your {noun} {are} right each time: the error involves {right[0].where}."
        return f"With {withs}, your {noun} {are} right each time: the error involves both {_join([c.where for c in right])}."
    if wrong and len(wrong) == len(localiser.controls):
        if localiser.none_right:
            return f"{localiser.none_right[0].upper()}{localiser.none_right[1:]}."
        said = [f"Even with {c.when} your {noun} {are} wrong: {c.wrong}." for c in wrong if c.wrong]
        return " ".join(said)
    return ""


# --------------------------------------------------------------------------- items, gate slices, time steps


def _leaves(function: str, value: Any, expected: Any) -> list[tuple[str, Any, Any]] | None:
    """(name, found, expected) per returned item; None when the structure differs."""
    if isinstance(expected, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(expected):
            return None
        names = RETURNS.get(function, ())
        return [(names[i] if i < len(names) else f"item {i}", v, e) for i, (v, e) in enumerate(zip(value, expected))]
    if isinstance(expected, dict):
        if not isinstance(value, dict) or set(value) != set(expected):
            return None
        return [((f"d{k}" if function in GRADIENTS else f"[{k!r}]"), value[k], expected[k]) for k, e in expected.items()]
    return [("", value, expected)]


def _shapes_differ(function: str, value: Any, expected: Any) -> bool:
    """Whether ``value`` has another structure than ``expected``, or an item of another shape."""
    leaves = _leaves(function, value, expected)
    return leaves is None or any(np.shape(f) != np.shape(e) for _, f, e in leaves if not isinstance(f, (dict, tuple, list)))


def _wrong_steps(found: Any, expected: Any, close: Close, T: int) -> list[int] | None:
    e = np.asarray(expected)
    try:
        f = np.asarray(found, dtype=float)
    except (TypeError, ValueError):
        return None
    if e.ndim < 1 or e.shape[0] != T or f.shape != e.shape:
        return None
    return [t for t in range(T) if not close(f[t], e[t])]


def _steps_words(steps: list[int], T: int) -> str:
    if len(steps) == T:
        return "every time step"
    if steps == [0]:
        return "the first step only"
    if steps == [T - 1]:
        return "the last step only"
    if steps == list(range(1, T)):
        return "every step but the first"
    if steps == list(range(T - 1)):
        return "every step but the last"
    return ""


def by_items(function: str, cases: list, expected: list, dims: list[dict], close: Close, scope: str = " in every case") -> list[str]:
    """Which returned items are wrong (and where in time, and which gate or half of a weight)."""
    wrong: dict[str, int] = {}
    right: dict[str, int] = {}
    steps: dict[str, set[str]] = {}
    halves: dict[str, set[str]] = {}
    for outcome, answer, d in zip(cases, expected, dims):
        if outcome.found is None:
            continue
        leaves = _leaves(function, outcome.found, answer)
        if leaves is None:
            return []
        for name, found, target in leaves:
            if close(found, target):
                right[name] = right.get(name, 0) + 1
                continue
            wrong[name] = wrong.get(name, 0) + 1
            T = d.get("T")
            if T and list(d.values()).count(T) == 1:
                ws = _wrong_steps(found, target, close, T)
                steps.setdefault(name, set()).add(_steps_words(ws, T) if ws else "")
            H = d.get("H")
            e = np.asarray(target)
            if H and e.ndim == 2 and e.shape[1] > H and e.shape[1] == H + d.get("D", -1) and np.shape(found) == e.shape:
                f = np.asarray(found, dtype=float)
                halves.setdefault(name, set()).add(("h" if not close(f[:, :H], e[:, :H]) else "") + ("x" if not close(f[:, H:], e[:, H:]) else ""))
    if not wrong:
        return []
    said = []
    always_right = [n for n in right if n not in wrong]
    def label(n: str) -> str:
        return f"`{n}`"

    named = [n for n in wrong if n]
    if always_right and named:
        formula = FORMULAS.get((function, named[0])) if len(named) == 1 else None
        said.append(f"Of what you return, {_join([label(n) for n in always_right])} {'is' if len(always_right) == 1 else 'are'} right{scope}; "
                    f"{_join([label(n) for n in named])} {'is' if len(named) == 1 else 'are'} wrong"
                    + (f": look at {formula}." if formula else "."))
        said += _gate_words(function, named, always_right)
    for name in wrong:
        kinds = steps.get(name, set())
        if len(kinds) == 1 and next(iter(kinds)) and next(iter(kinds)) != "every time step":
            said.append(f"{label(name) if name else 'Your result'} is wrong at {next(iter(kinds))}, in every case where it is wrong.")
        cut = halves.get(name, set())
        if len(cut) == 1 and next(iter(cut)) in ("h", "x"):
            bad, good = ("h_{t-1}", "x_t") if next(iter(cut)) == "h" else ("x_t", "h_{t-1}")
            said.append(f"In {label(name)}, the columns for {good} are right and those for {bad} are wrong (the columns follow [h_{{t-1}}; x_t]).")
    return said


class _Seen:
    def __init__(self, found: Any):
        self.found = found


def by_items_on_one_step(function: str, seen: list, answers: list, dims: dict, close: Close) -> list[str]:
    """Which items are wrong on the T = 1 probe, where no error has spread through time yet ("" when it has none)."""
    localiser, where = LOCALISERS.get(function), control_slice(function)
    if localiser is None:
        return []
    for offset, control in enumerate(localiser.controls):
        index = where.start + offset
        if control.name == "T = 1" and index < len(seen) and seen[index] is not None and not close(seen[index], answers[index]):
            said = by_items(function, [_Seen(seen[index])], [answers[index]], [{**dims, "T": 1}], close, scope="")
            return [f"With {control.when}: {s[0].lower()}{s[1:]}" if i == 0 else s for i, s in enumerate(said)]
    return []


def _gate_words(function: str, wrong: list[str], right: list[str]) -> list[str]:
    gates = GATES.get(function)
    if not gates:
        return []
    def gate(name: str) -> str | None:
        key = name[1:]
        return key[1:] if key[:1] in "Wb" and key[1:] in gates else None
    touched = {gate(n) for n in wrong if gate(n)}
    others = {gate(n) for n in right if gate(n)}
    if len(touched) == 1 and others - touched:
        (g,) = touched
        return [f"Among the weights, only those of {gates[g]} are wrong: the error is in its gradient δ{gates[g].split()[-1]} or in what leads to it."]
    return []
