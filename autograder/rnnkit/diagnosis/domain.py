"""Localisation by the input domain: the failed cases are exactly those at one point of the spec's domain.

Each hidden case states its point in the function's domain (:data:`rnnkit.spec.DOMAINS`: an optional
argument given or None, a truncation of 0, a rank of x...). When the cases that fail are exactly the
cases with one value on one axis (or the cases that pass are), that value is where to look:
"only the cases with ``bptt_truncate=0`` fail". Said only when one axis singles the split out; when
several do (they coincide in these cases), it says they coincide and names no cause.
"""
from __future__ import annotations

from ..spec import ARGUMENTS, DOMAINS

#: What to look at, per (axis, value, whether the cases with it are the failing or the passing ones); a key that
#: starts with a function's name is for that function only.
ADVICE = {
    ("s0", "given", "fail"): "look at how you start from `s0` (and, for gradients, use it as the state before step 0)",
    ("s0", None, "fail"): "with `s0=None`, start from zeros of shape (H,)",
    ("h0", "given", "fail"): "look at how you start from `h0`",
    ("h0", None, "fail"): "with `h0=None`, start from zeros of shape (H,)",
    ("c0", "given", "fail"): "look at how you start from `c0`",
    ("c0", None, "fail"): "with `c0=None`, start the cell from zeros of shape (H,), whatever `h0` is",
    ("bptt_truncate", 0, "fail"): (
        "0 is a truncation (each E_t reaches s_t only), not full BPTT: `if not bptt_truncate` treats 0 like None, "
        "so test `bptt_truncate is None`"
    ),
    ("bptt_truncate", None, "pass"): "full BPTT is right: look at where your truncated walk back stops",
    ("bptt_truncate", 0, "pass"): "with no step back your gradients are right: the error is in the walk back through time",
    ("bptt_truncate", "small", "fail"): "look at where your walk back stops: at `max(0, t - bptt_truncate)`, that state included",
    ("bptt_truncate", ">= T", "fail"): "a truncation of T steps or more is full BPTT: check your loop's lower bound (`max(0, ...)`)",
    ("rank", 1, "pass"): "perturb one entry at a time over every axis (`np.ndindex(x.shape)`), not one row",
    ("rank", 3, "fail"): "perturb one entry at a time over every axis (`np.ndindex(x.shape)`)",
    ("rank", 2, "fail"): "work along the last axis (`axis=-1, keepdims=True`), one row at a time",
    ("sigmoid", "rank", 2, "fail"): "work on the whole array, entry by entry (`np.where`, not an `if` on the array)",
    ("eps", "given", "fail"): "use the `eps` you are given, not a fixed number",
    ("norm", "above max_norm", "fail"): "look at the scaling: every array times `max_norm / norm`, with one global norm",
    ("norm", "below max_norm", "fail"): "below the threshold every array comes back unchanged, as a new copy",
}


def _advice(function: str, axis: str, value, kind: str) -> str | None:
    return ADVICE.get((function, axis, value, kind)) or ADVICE.get((axis, value, kind))


def _value_words(function: str, axis: str, value) -> str:
    if axis in ("s0", "h0", "c0"):
        return f"`{axis}` given" if value == "given" else f"`{axis}=None`"
    if axis == "bptt_truncate":
        return {None: "`bptt_truncate=None` (full BPTT)", 0: "`bptt_truncate=0`", "small": "a small `bptt_truncate` (1 or 2)",
                ">= T": "`bptt_truncate` >= T"}.get(value, f"`bptt_truncate` {value}")
    if axis == "rank":  # the array argument: softmax's and sigmoid's z, numerical_gradient's x
        return f"a {value}-D `{'z' if 'z' in ARGUMENTS.get(function, ()) else 'x'}`"
    if axis == "eps":
        return "`eps` given" if value == "given" else "the default `eps`"
    if axis == "norm":
        return f"a global norm {value}"
    return f"{axis} {value}"


def _singles_out(points: list[dict], others: list[dict], where) -> bool:
    """Whether every point of ``points`` and no point of ``others`` satisfies ``where``."""
    return all(where(p) for p in points) and not any(where(p) for p in others)


def _single(axes: dict, failed: list[dict], passed: list[dict]) -> list[tuple]:
    found = []
    for axis, values in axes.items():
        on_axis = []
        for value in values:
            at = lambda p, a=axis, v=value: p.get(a, "missing") == v  # noqa: E731
            if _singles_out(failed, passed, at):
                on_axis.append((axis, value, "fail"))
            elif _singles_out(passed, failed, at):
                on_axis.append((axis, value, "pass"))
        on_axis.sort(key=lambda f: f[2] != "fail")  # s0 given failing, rather than s0=None passing: one fact, said once
        found += on_axis[:1]
    return found


def _pair(function: str, axes: dict, failed: list[dict], passed: list[dict]) -> str:
    """The sentence for two options that single the failures (or the passes) out together ("" when none do)."""
    names = list(axes)
    said = []
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            for v1 in axes[first]:
                for v2 in axes[second]:
                    both = lambda p: p.get(first, "missing") == v1 and p.get(second, "missing") == v2  # noqa: E731
                    for kind, ones, others in (("fail", failed, passed), ("pass", passed, failed)):
                        if _singles_out(ones, others, both):
                            said.append((kind, (first, v1), (second, v2)))
    if len(said) != 1:
        return ""
    kind, (a1, v1), (a2, v2) = said[0]
    head = f"Only the cases with {_value_words(function, a1, v1)} and {_value_words(function, a2, v2)} {kind}"
    if kind == "fail":
        # The one option that is a default (None) is where the slip usually is: a default that depends on the other.
        defaults = [(a, v) for a, v in ((a1, v1), (a2, v2)) if v is None]
        advice = _advice(function, *defaults[0], "fail") if len(defaults) == 1 else None
    else:
        advice = "look at how you use what you are given" if v1 is None and v2 is None else None
    return f"{head}: {advice}." if advice else f"{head}."


def by_domain(function: str, cases: list, outcomes: list) -> str:
    """One sentence when the failed cases of ``function`` are exactly those at one point of its domain ("" otherwise).

    ``cases``: the function's hidden cases (each with its ``point``); ``outcomes``: their outcomes, in order. One
    option first; when none singles the split out, two options together (``h0`` given and ``c0=None``).
    """
    axes = DOMAINS.get(function)
    if not axes or len(outcomes) != len(cases):
        return ""
    failed = [c.point for c, o in zip(cases, outcomes) if not o.passed]
    passed = [c.point for c, o in zip(cases, outcomes) if o.passed]
    if not failed or not passed:
        return ""
    found = _single(axes, failed, passed)
    if not found:
        return _pair(function, axes, failed, passed)
    if len(found) > 1:  # the cases confound several options: say so, and name no cause
        sides = [f"{'with' if kind == 'fail' else 'without'} {_value_words(function, a, v)}" for a, v, kind in found]
        return f"Only the cases {sides[0]} fail; here they are also the cases {' and '.join(sides[1:])}: look at both."
    axis, value, kind = found[0]
    head = f"Only the cases with {_value_words(function, axis, value)} {kind}"
    advice = _advice(function, axis, value, kind)
    return f"{head}: {advice}." if advice else f"{head}."
