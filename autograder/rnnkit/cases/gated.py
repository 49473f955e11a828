"""Cases of the gated cells' parts: the LSTM and the GRU."""
from __future__ import annotations

import numpy as np

from .blocks import _dims, _gate_params, _randn, _states
from .case import Case


# --------------------------------------------------------------------------- part lstm


def sigmoid_cases(rng):
    d = _dims(rng)
    extreme = _randn(rng, d["H"], scale=3.0)
    extreme[0], extreme[-1] = 1000.0, -1000.0
    return [
        Case("sigmoid", (_randn(rng, d["H"], scale=3.0),), "a vector of ordinary values", d, {"rank": 1}),
        Case("sigmoid", (_randn(rng, d["T"], d["H"], scale=3.0),), "a 2-D array (elementwise)", d, {"rank": 2}),
        Case("sigmoid", (extreme,), "values as large as +1000 and -1000", d, {"rank": 1}),
    ]


def _gate_cases(function, letter, rng):
    cases = []
    for about in ["non-zero h_prev and x_t", "other sizes D and H", "gate weights whose h-half and x-half differ"]:
        d = _dims(rng)
        p = _gate_params(rng, d, [letter])
        args = (_states(rng, d["H"]), _randn(rng, d["D"]), p[f"W{letter}"], p[f"b{letter}"])
        cases.append(Case(function, args, about, d))
    return cases


def forget_gate_cases(rng):
    return _gate_cases("forget_gate", "f", rng)


def input_gate_cases(rng):
    return _gate_cases("input_gate", "i", rng)


def candidate_cell_cases(rng):
    return _gate_cases("candidate_cell", "c", rng)


def output_gate_cases(rng):
    return _gate_cases("output_gate", "o", rng)


LSTM_GATES = ["f", "i", "c", "o"]
GRU_GATES = ["z", "r", "h"]


def _lstm_params(rng, d):
    # Forget and input gates pushed apart, so swapping them changes the answer a lot.
    return _gate_params(rng, d, LSTM_GATES, bias_shift={"f": 1.0, "i": -0.5})


def lstm_step_forward_cases(rng):
    cases = []
    for about in ["one step from non-zero h_prev and c_prev", "a step with other sizes D and H", "a step from a larger cell state"]:
        d = _dims(rng)
        c_prev = _randn(rng, d["H"], scale=2.5 if "larger" in about else 1.0)
        args = (_randn(rng, d["D"]), _states(rng, d["H"]), c_prev, _lstm_params(rng, d))
        cases.append(Case("lstm_step_forward", args, about, d))
    return cases


def _optional_states(rng, d, given: tuple[bool, ...]) -> tuple:
    """The trailing (h0, c0) arguments: a state where given, None where not; nothing at all when none is given."""
    states = tuple((_states(rng, d["H"]) if i == 0 else _randn(rng, d["H"])) if g else None for i, g in enumerate(given))
    return states if any(given) else ()


def _point(given: tuple[bool, ...], names=("h0", "c0")) -> dict:
    return {name: "given" if g else None for name, g in zip(names, given)}


LSTM_STATE_REGIMES = [
    ("from non-zero h0 and c0", (True, True)),
    ("with h0=None and c0=None (zeros)", (False, False)),
    ("from a non-zero h0 with c0=None", (True, False)),
    ("with h0=None from a non-zero c0", (False, True)),
    ("a longer sequence from non-zero h0 and c0", (True, True)),
]


def lstm_forward_cases(rng):
    cases = []
    for about, given in LSTM_STATE_REGIMES:
        d = _dims(rng)
        if "longer" in about:
            d["T"] += 5
        x = _randn(rng, d["T"], d["D"])
        params = _lstm_params(rng, d)
        words = about if about.startswith("a ") else f"a sequence {about}"
        cases.append(Case("lstm_forward", (x, params, *_optional_states(rng, d, given)), words, d, _point(given)))
    return cases


def lstm_backward_cases(rng):
    cases = []
    for about, given in LSTM_STATE_REGIMES:
        d = _dims(rng)
        if "longer" in about:
            d["T"] += 4
        x = _randn(rng, d["T"], d["D"])
        params = _lstm_params(rng, d)
        dh = _randn(rng, d["T"], d["H"])
        words = f"gradients of {about}" if about.startswith("a ") else f"gradients {about}"
        cases.append(Case("lstm_backward", (x, params, dh, *_optional_states(rng, d, given)), words, d, _point(given)))
    return cases


# --------------------------------------------------------------------------- part gru


def update_gate_cases(rng):
    return _gate_cases("update_gate", "z", rng)


def reset_gate_cases(rng):
    return _gate_cases("reset_gate", "r", rng)


def candidate_hidden_cases(rng):
    cases = []
    for about in ["a reset gate between 0 and 1", "another reset gate", "a reset gate near 0 for some units"]:
        d = _dims(rng)
        p = _gate_params(rng, d, ["h"])
        r = 1.0 / (1.0 + np.exp(-_randn(rng, d["H"], scale=2.0)))
        if "near 0" in about:
            r[::2] = 0.01
        args = (_states(rng, d["H"]), _randn(rng, d["D"]), r, p["Wh"], p["bh"])
        cases.append(Case("candidate_hidden", args, about, d))
    return cases


def _gru_params(rng, d, z_shift):
    return _gate_params(rng, d, GRU_GATES, bias_shift={"z": z_shift})


def gru_step_forward_cases(rng):
    cases = []
    for about, z_shift in [("update gates mostly small (z near 0)", -2.5), ("update gates mostly large (z near 1)", 2.5), ("mixed update gates", 0.0)]:
        d = _dims(rng)
        args = (_randn(rng, d["D"]), _states(rng, d["H"]), _gru_params(rng, d, z_shift))
        cases.append(Case("gru_step_forward", args, about, d))
    return cases


def gru_forward_cases(rng):
    cases = []
    for about, z_shift, with_h0 in [
        ("a sequence from a non-zero h0, update gates mostly small", -2.0, True),
        ("a sequence with h0=None (zeros), update gates mostly large", 2.0, False),
        ("a longer sequence from a non-zero h0", 0.5, True),
    ]:
        d = _dims(rng)
        if "longer" in about:
            d["T"] += 5
        x = _randn(rng, d["T"], d["D"])
        params = _gru_params(rng, d, z_shift)
        args = (x, params, _states(rng, d["H"])) if with_h0 else (x, params)
        cases.append(Case("gru_forward", args, about, d, {"h0": "given" if with_h0 else None}))
    return cases


def gru_backward_cases(rng):
    cases = []
    for about, z_shift, with_h0 in [
        ("gradients from a non-zero h0", -1.0, True),
        ("gradients with h0=None", 1.0, False),
        ("gradients of a longer sequence from a non-zero h0", 0.0, True),
    ]:
        d = _dims(rng)
        if "longer" in about:
            d["T"] += 4
        x = _randn(rng, d["T"], d["D"])
        params = _gru_params(rng, d, z_shift)
        dh = _randn(rng, d["T"], d["H"])
        args = (x, params, dh, _states(rng, d["H"])) if with_h0 else (x, params, dh)
        cases.append(Case("gru_backward", args, about, d, {"h0": "given" if with_h0 else None}))
    return cases
