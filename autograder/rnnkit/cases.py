"""Test cases for every function of the student API: inputs only, never answers.

Each generator takes a random generator and returns a list of :class:`Case`.
The same generators serve the hidden tests (drawn from the grading seed) and
the public checks (drawn from a fixed public seed), so both exercise the same
situations. Answers are computed from the reference solutions by whoever holds
them (the grader, or ``rnnkit build`` for the public checks), never here.

Every case is built to catch real mistakes: D, H, K and T all differ (a
transposed matrix changes a shape or a value, never neither), T >= 3,
initial states and biases are non-zero, W is not symmetric, and each function
has the edge cases named in its generator.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .worker.calls import Probe

DEFAULT_SEED = 20261124
PUBLIC_SEED = 7
#: The probes' seed: diagnostic cases every student's functions also run, never scored (see :mod:`.hidden_tests`).
PROBE_SEED = 31415926
PROBES_PER_FUNCTION = 2


@dataclass
class Case:
    """One call of one function: positional arguments, plus what the case checks, in words."""

    function: str
    args: tuple
    about: str
    dims: dict[str, int] = field(default_factory=dict)
    #: Where the case lies in the function's input domain (:data:`rnnkit.spec.DOMAINS`).
    point: dict[str, Any] = field(default_factory=dict)

    def call_args(self) -> tuple:
        """The arguments with every :class:`Probe` turned into its callable."""
        return tuple(_build_probes(a) for a in self.args)


def _build_probes(value: Any) -> Any:
    if isinstance(value, Probe):
        return value.build()
    if isinstance(value, dict):
        return {k: _build_probes(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- building blocks


def _dims(rng: np.random.Generator, low: int = 3, high: int = 9) -> dict[str, int]:
    """T, D, H, K: four different sizes, so every axis can be told apart by its length."""
    T, D, H, K = (int(v) for v in rng.choice(np.arange(low, high + 1), size=4, replace=False))
    return {"T": T, "D": D, "H": H, "K": K}


def _randn(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return scale * rng.standard_normal(shape)


def _nonsymmetric(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    """A square matrix far from symmetric (its transpose is a different matrix)."""
    A = _randn(rng, n, n, scale=scale)
    return A + np.triu(np.full((n, n), 0.6 * scale), k=1)


def _rnn_params(rng, d):
    U = _randn(rng, d["H"], d["D"], scale=1.0 / np.sqrt(d["D"]))
    W = _nonsymmetric(rng, d["H"], scale=1.1 / np.sqrt(d["H"]))
    V = _randn(rng, d["K"], d["H"], scale=1.0 / np.sqrt(d["H"]))
    return U, W, V


def _states(rng, *shape):
    """Values inside (-1, 1), like tanh outputs, not too close to 0."""
    return np.tanh(_randn(rng, *shape, scale=1.2))


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _gate_weight(rng, d):
    """(H, H + D) weights whose h-half and x-half differ in scale and offset."""
    H, D = d["H"], d["D"]
    Wh = _randn(rng, H, H, scale=0.9 / np.sqrt(H)) + 0.15
    Wx = _randn(rng, H, D, scale=1.3 / np.sqrt(D)) - 0.1
    return np.hstack([Wh, Wx])


def _gate_params(rng, d, names, bias_scale=0.5, bias_shift=None):
    bias_shift = bias_shift or {}
    params = {}
    for name in names:
        params[f"W{name}"] = _gate_weight(rng, d)
        params[f"b{name}"] = _randn(rng, d["H"], scale=bias_scale) + bias_shift.get(name, 0.0)
    return params


# --------------------------------------------------------------------------- part rnn_forward


def softmax_cases(rng):
    d = _dims(rng)
    K, T = d["K"], d["T"]
    cases = [
        Case("softmax", (_randn(rng, K, scale=2.0),), "a vector of ordinary logits", d, {"rank": 1}),
        Case("softmax", (_randn(rng, T, K, scale=2.0),), "a (T, K) array: one distribution per row", d, {"rank": 2}),
    ]
    big = _randn(rng, K, scale=3.0) + 1000.0 * np.sign(_randn(rng, K))
    cases.append(Case("softmax", (big,), "a vector with logits near +1000 and -1000", d, {"rank": 1}))
    rows = _randn(rng, T, K, scale=2.0)
    rows[0] += 1000.0
    rows[1] = rows[1] * 0.01 - 1000.0
    rows[2] *= 300.0
    cases.append(Case("softmax", (rows,), "a (T, K) array whose rows have very different scales (near +1000, near -1000, spread wide)", d, {"rank": 2}))
    rows = _randn(rng, T, K)
    rows[:, -1] += 5.0
    cases.append(Case("softmax", (rows,), "a (T, K) array whose largest logit is in the last column", d, {"rank": 2}))
    return cases


def rnn_step_forward_cases(rng):
    cases = []
    for about in ["one step from a non-zero previous state", "a step with other sizes D and H", "a step with larger inputs"]:
        d = _dims(rng)
        U, W, _ = _rnn_params(rng, d)
        x_t = _randn(rng, d["D"], scale=3.0 if "larger" in about else 1.0)
        s_prev = _states(rng, d["H"])
        cases.append(Case("rnn_step_forward", (x_t, s_prev, U, W), about, d))
    return cases


def rnn_forward_cases(rng):
    cases = []
    for about, with_s0 in [
        ("a sequence from a non-zero initial state s0", True),
        ("a sequence with s0=None (start from zeros)", False),
        ("a longer sequence from a non-zero initial state s0", True),
    ]:
        d = _dims(rng)
        if "longer" in about:
            d["T"] = d["T"] + 6
        U, W, V = _rnn_params(rng, d)
        x = _randn(rng, d["T"], d["D"])
        args = (x, U, W, V, _states(rng, d["H"])) if with_s0 else (x, U, W, V)
        cases.append(Case("rnn_forward", args, about, d, {"s0": "given" if with_s0 else None}))
    return cases


def cross_entropy_loss_cases(rng):
    cases = []
    for about in ["outputs of a random network", "a longer sequence", "confident outputs (some probabilities near 0 and 1)"]:
        d = _dims(rng)
        T = d["T"] + (6 if "longer" in about else 0)
        scale = 6.0 if "confident" in about else 1.5
        o = _softmax(_randn(rng, T, d["K"], scale=scale))
        y = rng.integers(0, d["K"], size=T)
        cases.append(Case("cross_entropy_loss", (o, y), about, {**d, "T": T}))
    return cases


# --------------------------------------------------------------------------- part softmax_derivative


def softmax_jacobian_cases(rng):
    cases = []
    for about, scale in [("a spread-out distribution", 1.0), ("another distribution", 2.0), ("a peaked distribution (one probability near 1)", 6.0)]:
        d = _dims(rng)
        y = _softmax(_randn(rng, d["K"], scale=scale))
        cases.append(Case("softmax_jacobian", (y,), about, d))
    return cases


def softmax_cross_entropy_grad_cases(rng):
    cases = []
    for about in ["outputs of a random network", "another sequence", "a sequence where some targets repeat"]:
        d = _dims(rng)
        o = _softmax(_randn(rng, d["T"], d["K"], scale=1.5))
        y = rng.integers(0, d["K"], size=d["T"])
        if "repeat" in about:
            y[: d["T"] // 2 + 1] = y[0]
        cases.append(Case("softmax_cross_entropy_grad", (o, y), about, d))
    return cases


# --------------------------------------------------------------------------- part bptt


def rnn_backward_cases(rng):
    cases = []
    regimes = [
        (None, True, "full BPTT (bptt_truncate=None) from a non-zero s0"),
        (None, False, "full BPTT with the defaults (s0=None, bptt_truncate=None)"),
        (0, True, "bptt_truncate=0: no gradient flows to earlier steps"),
        (1, True, "bptt_truncate=1: one step back"),
        (2, True, "bptt_truncate=2: two steps back"),
        ("T", True, "bptt_truncate >= T: the same as full BPTT"),
        (0, False, "s0=None with bptt_truncate=0"),
        (2, False, "s0=None with bptt_truncate=2"),
        ("T", False, "s0=None with bptt_truncate >= T"),
    ]
    for truncate, with_s0, about in regimes:
        d = _dims(rng, low=3, high=8)
        d["T"] = max(d["T"], 5)
        U, W, V = _rnn_params(rng, d)
        x = _randn(rng, d["T"], d["D"])
        y = rng.integers(0, d["K"], size=d["T"])
        s0 = _states(rng, d["H"]) if with_s0 else None
        point = {"s0": "given" if with_s0 else None, "bptt_truncate": {None: None, 0: 0, "T": ">= T"}.get(truncate, "small")}
        if truncate == "T":
            truncate = d["T"] + 2
        args = (x, y, U, W, V) if (s0 is None and truncate is None) else (x, y, U, W, V, s0, truncate)
        cases.append(Case("rnn_backward", args, about, d, point))
    return cases


def state_jacobian_cases(rng):
    cases = []
    for about in ["a state s_t and a non-symmetric W", "another state and W, of another size", "a third state and W"]:
        d = _dims(rng)
        W = _nonsymmetric(rng, d["H"], scale=1.0)
        cases.append(Case("state_jacobian", (_states(rng, d["H"]), W), about, d))
    return cases


def jacobian_product_cases(rng):
    d = _dims(rng)
    T = max(d["T"], 6)
    d["T"] = T
    s = _states(rng, T, d["H"])
    W = _nonsymmetric(rng, d["H"], scale=1.2 / np.sqrt(d["H"]))
    spans = [(3, 3, "t == k: the identity"), (2, 1, "one step: t = k + 1"), (4, 1, "three steps back"), (T - 1, 0, "from the last step back to the first")]
    return [Case("jacobian_product", (s, W, t, k), about, d) for t, k, about in spans]


def clip_gradient_norm_cases(rng):
    cases = []
    for about, factor in [
        ("a global norm well above max_norm", 8.0),
        ("a global norm above max_norm, one array much larger than the others", None),
        ("a global norm below max_norm: nothing changes", 0.5),
    ]:
        d = _dims(rng)
        grads = {
            "U": _randn(rng, d["H"], d["D"]),
            "W": _randn(rng, d["H"], d["H"]),
            "V": _randn(rng, d["K"], d["H"]),
        }
        if factor is None:
            grads["W"] *= 10.0
            factor = 4.0
        norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
        max_norm = float(norm / factor)
        cases.append(Case("clip_gradient_norm", (grads, max_norm), about, d, {"norm": "below max_norm" if factor < 1 else "above max_norm"}))
    return cases


def numerical_gradient_cases(rng):
    d = _dims(rng)
    H, D = d["H"], d["D"]
    x1 = _randn(rng, H)
    x2 = _randn(rng, H, D, scale=0.5)
    x3 = _randn(rng, 2, D, H, scale=0.5)
    A = _randn(rng, 4, H * D, scale=0.5)
    return [
        Case("numerical_gradient", (Probe("weighted_sines", {"c": _randn(rng, H)}), x1), "a vector x with the default eps", d, {"rank": 1, "eps": "default"}),
        Case("numerical_gradient", (Probe("coupled", {"A": A, "b": _randn(rng, 4)}), x2, 1e-4), "a 2-D x whose entries interact", d, {"rank": 2, "eps": "given"}),
        Case("numerical_gradient", (Probe("exponential", {"c": _randn(rng, H, D)}), x2 * 2.0, 0.25), "a 2-D x with a large eps (the exact centred formula matters)", d, {"rank": 2, "eps": "given"}),
        Case("numerical_gradient", (Probe("weighted_sines", {"c": _randn(rng, H)}), x1 * 2.0, 0.1), "a vector x with eps=0.1", d, {"rank": 1, "eps": "given"}),
        Case("numerical_gradient", (Probe("weighted_sines", {"c": _randn(rng, H, D)}), x2 * 1.5), "a 2-D x with the default eps", d, {"rank": 2, "eps": "default"}),
        Case("numerical_gradient", (Probe("weighted_sines", {"c": _randn(rng, H)}), x3, 0.05), "a 3-D x (every axis counts)", d, {"rank": 3, "eps": "given"}),
        Case("numerical_gradient", (Probe("weighted_sines", {"c": _randn(rng, H)}), x3 * 0.7), "a 3-D x with the default eps", d, {"rank": 3, "eps": "default"}),
    ]


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


GENERATORS: dict[str, Callable[[np.random.Generator], list[Case]]] = {
    name.removesuffix("_cases"): fn for name, fn in globals().items() if name.endswith("_cases") and callable(fn)
}


def cases_for(function: str, seed: int = DEFAULT_SEED) -> list[Case]:
    """The cases of ``function`` drawn from ``seed`` (the same seed always gives the same cases)."""
    rng = np.random.default_rng([seed, zlib.crc32(function.encode())])
    return GENERATORS[function](rng)


def public_cases_for(function: str, count: int = 3) -> list[Case]:
    """The first few cases drawn from the public seed: what the students' checks use."""
    return cases_for(function, PUBLIC_SEED)[:count]
