"""One call of one function of the student API: its arguments and what it checks, in words."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..worker.calls import Probe


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

