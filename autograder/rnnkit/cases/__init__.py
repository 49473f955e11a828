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
from typing import Callable

import numpy as np

from . import gated, recurrent
from .case import Case

__all__ = ["Case", "DEFAULT_SEED", "GENERATORS", "PROBES_PER_FUNCTION", "PROBE_SEED", "PUBLIC_SEED", "cases_for", "public_cases_for"]

DEFAULT_SEED = 20261124
PUBLIC_SEED = 7
#: The probes' seed: diagnostic cases every student's functions also run, never scored (see :mod:`..hidden_tests`).
PROBE_SEED = 31415926
PROBES_PER_FUNCTION = 2

#: Each function's generator: ``<function>_cases(rng) -> [Case]`` in :mod:`.recurrent` and :mod:`.gated`.
GENERATORS: dict[str, Callable[[np.random.Generator], list[Case]]] = {
    name.removesuffix("_cases"): fn
    for module in (recurrent, gated)
    for name, fn in vars(module).items()
    if name.endswith("_cases") and not name.startswith("_") and callable(fn)
}


def cases_for(function: str, seed: int = DEFAULT_SEED) -> list[Case]:
    """The cases of ``function`` drawn from ``seed`` (the same seed always gives the same cases)."""
    rng = np.random.default_rng([seed, zlib.crc32(function.encode())])
    return GENERATORS[function](rng)


def public_cases_for(function: str, count: int = 3) -> list[Case]:
    """The first few cases drawn from the public seed: what the students' checks use."""
    return cases_for(function, PUBLIC_SEED)[:count]
