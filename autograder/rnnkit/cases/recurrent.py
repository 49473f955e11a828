"""Cases of the plain RNN's parts: the forward pass, the softmax derivative, backpropagation through time."""
from __future__ import annotations

import numpy as np

from ..worker.calls import Probe
from .blocks import _dims, _nonsymmetric, _randn, _rnn_params, _softmax, _states
from .case import Case


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
    # Confidently wrong: at every other step the target's logit lies 17 to 20 below the largest, so its probability is
    # about 1e-8 to 1e-9 (far from float underflow). The exact loss is large there; clipping o before the log shows.
    d = _dims(rng)
    z = _randn(rng, d["T"], d["K"], scale=1.5)
    y = rng.integers(0, d["K"], size=d["T"])
    steps = np.arange(0, d["T"], 2)
    z[steps, y[steps]] = z[steps].max(axis=1) - rng.uniform(17.0, 20.0, size=len(steps))
    cases.append(Case("cross_entropy_loss", (_softmax(z), y), "confidently wrong outputs (the target's probability near 1e-9 at some steps)", d))
    return cases


# --------------------------------------------------------------------------- part softmax_derivative


def softmax_jacobian_cases(rng):
    cases = []
    for about, scale in [("a spread-out distribution", 1.0), ("another distribution", 2.0), ("a peaked distribution (one probability near 1)", 1.0)]:
        d = _dims(rng)
        z = _randn(rng, d["K"], scale=scale)
        if "peaked" in about:  # one probability about 0.9 to 0.97: peaked, yet J's entries stay far above the tolerance
            z[rng.integers(d["K"])] = z.max() + rng.uniform(4.0, 5.0)
        y = _softmax(z)
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
