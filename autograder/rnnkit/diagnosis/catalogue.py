"""The catalogue of known mistakes: every :class:`~.model.Mistake`, by id, in catalogue order.

Each part's module (:mod:`.parts`) adds its own mistakes with :func:`_add`
when it is imported. They are imported at the end of this module, in course
order, and the general patterns (:mod:`.patterns`) last: that order is the
catalogue's, which decides which match is named first (:func:`.matching._choose`)
and the order of ``mistakes.csv`` among equally frequent mistakes.
"""
from __future__ import annotations

from .model import Mistake, Pattern, Variant

CATALOGUE: dict[str, Mistake] = {}


def _add(id: str, function: str, name: str, explanation: str, general: bool = False, also: tuple[str, ...] = (), **recognisers: Variant | Pattern) -> None:
    if id in CATALOGUE:
        raise ValueError(f"duplicate mistake id {id}")
    CATALOGUE[id] = Mistake(id, function, name, explanation, dict(recognisers), general, also)


def recognisers_for(function: str) -> list[tuple[Mistake, Variant | Pattern]]:
    """The catalogue's recognisers that apply to ``function``, in catalogue order."""
    out = []
    for mistake in CATALOGUE.values():
        recogniser = mistake.recognisers.get(function) or mistake.recognisers.get("*")
        if recogniser is not None:
            out.append((mistake, recogniser))
    return out


# The entries: each module below calls _add when imported, so the order of these imports is the catalogue's.
from .parts import rnn_forward  # noqa: E402,F401
from .parts import softmax_derivative  # noqa: E402,F401
from .parts import bptt  # noqa: E402,F401
from .parts import lstm  # noqa: E402,F401
from .parts import gru  # noqa: E402,F401
from . import patterns  # noqa: E402,F401  (the general patterns: last, reported only when no specific mistake matches)
