"""Random building blocks of the cases: sizes that all differ, weights, states, gate parameters."""
from __future__ import annotations

import numpy as np


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
