"""Controlled probes: extra hidden cases that switch one term off, to say *where* a failed function goes wrong.

Each is made from the function's first ordinary probe (:data:`rnnkit.cases.PROBE_SEED`) by one
change: W = 0 (no recurrence), U = 0, T = 1, the upstream gradient ``dh`` at the last step only,
a gate saturated shut or open, a bias or half of ``[h_{t-1}; x_t]`` set to zero. Like every probe
they are the same for every student, run in the sandbox with the student's code, never scored,
and answered by the reference in the grader only (:class:`rnnkit.hidden_tests.Probes`).

The rule that turns them into words is in :mod:`.localise`: a student wrong on the base probe but
right once a term is switched off has a mistake that involves that term.

A :class:`Control` is declarative: ``change(args) -> args`` (a fresh copy of the base probe's
arguments, changed), ``when`` (the change, in the notebook's notation, as it reads after
"With ...") and ``where`` (the term it switches off, as it reads after "the error involves ...").
``wrong``, when given, is what it means that the student is wrong *even* with the change.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..cases import PROBE_SEED, PROBES_PER_FUNCTION, Case, cases_for
from ..spec import ARGUMENTS
from ..worker import calls

#: A bias this large saturates a sigmoid gate: sigmoid(+30) = 1 and sigmoid(-30) = 0 to 1e-13.
SATURATE = 30.0


@dataclass(frozen=True)
class Control:
    name: str
    change: Callable[[tuple], tuple]
    #: The change, after "With ": "W = 0 (no recurrence)".
    when: str
    #: The term it switches off, after "the error involves ": "the recurrent term W s_{t-1}".
    where: str
    #: What it means to be wrong even with the change (optional): "the error is already in a single step".
    wrong: str = ""
    #: Controls with one topic point at the same thing (W = 0 and T = 1 both stop the flow in time).
    topic: str = ""


@dataclass(frozen=True)
class Localiser:
    """The controls of one function, and what is said when the student is wrong on every one of them."""

    controls: tuple[Control, ...]
    #: What the function returns, for "your ... is right" ("s_t", "gradients").
    noun: str
    #: Said when every control is wrong too (optional).
    none_right: str = ""


def _at(function: str, name: str) -> int:
    return ARGUMENTS[function].index(name)


def _set(function: str, name: str, value: Callable[[np.ndarray], np.ndarray]) -> Callable[[tuple], tuple]:
    """Replace the argument ``name`` (or ``params[name]`` when ``name`` is a key of a ``params`` dict)."""

    def change(args: tuple) -> tuple:
        args = list(args)
        if name in ARGUMENTS[function]:
            args[_at(function, name)] = value(args[_at(function, name)])
        else:
            params = dict(args[_at(function, "params")])
            params[name] = value(params[name])
            args[_at(function, "params")] = params
        return tuple(args)

    return change


def _zero(function: str, name: str) -> Callable[[tuple], tuple]:
    return _set(function, name, np.zeros_like)


def _bias(function: str, name: str, value: float) -> Callable[[tuple], tuple]:
    return _set(function, name, lambda b: np.full_like(b, value))


def _first_step(function: str) -> Callable[[tuple], tuple]:
    """T = 1: every per-step argument (x, y, dh) cut to its first row."""
    per_step = {"x", "y", "dh"}

    def change(args: tuple) -> tuple:
        return tuple(a[:1] if n in per_step and isinstance(a, np.ndarray) else a for n, a in zip(ARGUMENTS[function], args))

    return change


def _dh_last_only(function: str) -> Callable[[tuple], tuple]:
    def change(args: tuple) -> tuple:
        args = list(args)
        dh = np.zeros_like(args[_at(function, "dh")])
        dh[-1] = args[_at(function, "dh")][-1]
        args[_at(function, "dh")] = dh
        return tuple(args)

    return change


# --------------------------------------------------------------------------- the declarations, in the notebooks' notation


def _one_step(function: str, what: str, returns_start: bool = False) -> Control:
    """T = 1. ``returns_start``: the function also returns the gradient of the initial state, which T = 1 still
    carries back one step; being wrong there then says nothing."""
    wrong = "" if returns_start else "the error is already in a single step: the step itself, or the state it starts from"
    return Control("T = 1", _first_step(function), "T = 1 (a single step)", f"what is carried from one step to the next ({what})", wrong, topic="time")


def _gate(function: str, letter: str, gate: str, symbol: str) -> Localiser:
    W, b = f"W_{letter}", f"b_{letter}"
    return Localiser((
        Control(f"{b} = 0", _zero(function, f"b{letter.lower()}"), f"{b} = 0", f"how the bias {b} enters {symbol}"),
        Control("h_{t-1} = 0", _zero(function, "h_prev"), "h_{t-1} = 0", f"the h_{{t-1}} half of [h_{{t-1}}; x_t] (its columns of {W})"),
        Control("x_t = 0", _zero(function, "x_t"), "x_t = 0", f"the x_t half of [h_{{t-1}}; x_t] (its columns of {W})"),
    ), symbol, f"with {b} = 0, with h_{{t-1}} = 0 and with x_t = 0 alike your {symbol} is still wrong: the error is in what "
       f"they share, {symbol} = {gate}({W} [h_{{t-1}}; x_t] + {b}) itself")


_GRU_MIX = "h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t"

LOCALISERS: dict[str, Localiser] = {
    "rnn_step_forward": Localiser((
        Control("W = 0", _zero("rnn_step_forward", "W"), "W = 0 (no recurrence)", "the recurrent term W s_{t-1}"),
        Control("U = 0", _zero("rnn_step_forward", "U"), "U = 0 (no input)", "the input term U x_t"),
    ), "s_t", "s_t is wrong with W = 0 and with U = 0 alike: the error is in what both share, the sum U x_t + W s_{t-1} or the tanh around it"),
    "rnn_forward": Localiser((
        Control("W = 0", _zero("rnn_forward", "W"), "W = 0 (no recurrence: each step on its own)", "the recurrence: W s_{t-1}, or which state is carried to the next step", topic="time"),
        _one_step("rnn_forward", "s_{t-1} into step t"),
    ), "outputs"),
    "rnn_backward": Localiser((
        Control("W = 0", _zero("rnn_backward", "W"), "W = 0 (nothing flows back through W)",
                "how the gradient flows back through time: from s_t to s_{t-1}, through W^T and tanh'", topic="time"),
        _one_step("rnn_backward", "the gradient from step t back to step t-1"),
    ), "gradients"),
    "forget_gate": _gate("forget_gate", "f", "σ", "f_t"),
    "input_gate": _gate("input_gate", "i", "σ", "i_t"),
    "candidate_cell": _gate("candidate_cell", "C", "tanh", "C̃_t"),
    "output_gate": _gate("output_gate", "o", "σ", "o_t"),
    "lstm_step_forward": Localiser((
        Control("i_t = 0", _bias("lstm_step_forward", "bi", -SATURATE), "the input gate shut (i_t = 0)", "the term i_t ⊙ C̃_t of C_t"),
        Control("f_t = 0", _bias("lstm_step_forward", "bf", -SATURATE), "the forget gate shut (f_t = 0)", "the term f_t ⊙ C_{t-1} of C_t"),
        Control("o_t = 1", _bias("lstm_step_forward", "bo", SATURATE), "the output gate open (o_t = 1)", "the output gate o_t in h_t = o_t ⊙ tanh(C_t)"),
    ), "(h_t, C_t)"),
    "lstm_forward": Localiser((_one_step("lstm_forward", "h_{t-1} and C_{t-1} into step t"),), "(h, c)"),
    "lstm_backward": Localiser((
        _one_step("lstm_backward", "δh and δC handed from step t back to step t-1", returns_start=True),
        Control("dh at the last step only", _dh_last_only("lstm_backward"), "dh given at the last step only",
                "how each step's own dh_t is added to the gradient coming back from step t+1"),
    ), "gradients"),
    "update_gate": _gate("update_gate", "z", "σ", "z_t"),
    "reset_gate": _gate("reset_gate", "r", "σ", "r_t"),
    "candidate_hidden": Localiser((
        Control("r_t = 1", _set("candidate_hidden", "r_t", np.ones_like), "r_t = 1 (nothing reset)", "how r_t enters h̃_t (r_t ⊙ h_{t-1})"),
        Control("b_h = 0", _zero("candidate_hidden", "bh"), "b_h = 0", "how the bias b_h enters h̃_t"),
    ), "h̃_t"),
    "gru_step_forward": Localiser((
        Control("z_t = 0", _bias("gru_step_forward", "bz", -SATURATE), "z_t = 0 (the state copied: h_t = h_{t-1})", f"the candidate's side of the blend, z_t ⊙ h̃_t (h̃_t, r_t, or z_t there) in {_GRU_MIX}"),
        Control("z_t = 1", _bias("gru_step_forward", "bz", SATURATE), "z_t = 1 (h_t = h̃_t)", f"the copy path (1 - z_t) ⊙ h_{{t-1}} of {_GRU_MIX}"),
        Control("r_t = 1", _bias("gru_step_forward", "br", SATURATE), "the reset gate open (r_t = 1)", "the reset gate r_t inside h̃_t"),
    ), "h_t"),
    "gru_forward": Localiser((_one_step("gru_forward", "h_{t-1} into step t"),), "h"),
    "gru_backward": Localiser((
        _one_step("gru_backward", "δh handed from step t back to step t-1", returns_start=True),
        Control("dh at the last step only", _dh_last_only("gru_backward"), "dh given at the last step only",
                "how each step's own dh_t is added to the gradient coming back from step t+1"),
    ), "gradients"),
}


def base_case(function: str) -> Case:
    """The case every control of ``function`` changes: its first ordinary probe."""
    return cases_for(function, PROBE_SEED)[0]


def control_cases(function: str) -> list[Case]:
    """The controlled probes of ``function``, in :data:`LOCALISERS` order (none for a function not declared)."""
    localiser = LOCALISERS.get(function)
    if localiser is None:
        return []
    base = base_case(function)
    return [Case(function, c.change(calls.copy_value(base.args)), f"controlled probe: {c.name}", {**base.dims, "T": 1} if c.name == "T = 1" else base.dims,
                 base.point) for c in localiser.controls]


def control_slice(function: str) -> slice:
    """Where the controlled probes of ``function`` sit among its probes (after the ordinary ones)."""
    return slice(PROBES_PER_FUNCTION, PROBES_PER_FUNCTION + len(LOCALISERS[function].controls) if function in LOCALISERS else 0)
