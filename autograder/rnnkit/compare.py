"""Compare a student's answer with the reference answer, and say what differs.

Two kinds of message:

* value-free (the default, for hidden cases): structure, shape, dtype,
  non-finite values, which item, how many entries and which ones are wrong,
  which time steps, the *order of magnitude* of the largest error and its sign
  (too large / too small). Nothing from which an expected value could be
  reconstructed: no error sizes to three digits, no relative error of one entry.
* exact (``exact=True``, for the public checks, whose inputs are public): the
  size of the largest error and its relative error, to three digits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .worker.calls import Probe
from .course import Tolerance
from .spec import ARGUMENTS


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str = ""
    #: Largest normalised error over the answer (0 when passed exactly; inf when incomparable).
    error: float = 0.0


PASS = Verdict(True)


def length_names(dims: dict[str, int]) -> dict[int, str]:
    """Each length that is the size of exactly one of ``dims`` (``{6: "T", 5: "H"}``): an unambiguous name."""
    by_length: dict[int, list[str]] = {}
    for name, length in dims.items():
        by_length.setdefault(length, []).append(name)
    return {length: names[0] for length, names in by_length.items() if len(names) == 1}


def shape_words(shape: tuple[int, ...], dims: dict[str, int], expected: tuple[int, ...] | None = None) -> str:
    """``(6, 5)`` plus, when every length has an unambiguous name, ``[T, H]``.

    With the ``expected`` shape, a length one away from the expected one on the same axis reads as such (``H + 1``).
    On the time axis it does so even when the length equals another size, unless the expected shape has that length
    too (a transpose): a state array with one row too many (s0 kept as a row) is far likelier than one with K rows.
    """
    named = length_names(dims)
    words = []
    for axis, n in enumerate(shape):
        wanted = expected[axis] if expected is not None and axis < len(expected) and len(expected) == len(shape) else None
        one_off_in_time = named.get(wanted) == "T" and n not in expected  # (T + 1, H), but not (H, T) when H = T - 1
        if wanted is not None and abs(n - wanted) == 1 and wanted in named and (n not in named or one_off_in_time):
            words.append(f"{named[wanted]} {'+' if n > wanted else '-'} 1")
        elif n in named:
            words.append(named[n])
        else:
            words.append(None)
    text = "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
    if shape and all(words):
        text += " [" + ", ".join(words) + "]"
    return text


def describe(value: Any) -> str:
    """A few words for the type and shape of a value, for "expected X, found Y"."""
    if isinstance(value, np.ndarray):
        return "a single number (0-d array)" if value.ndim == 0 else f"an array of shape {value.shape}"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return "a single number"
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)}"
    return f"a {type(value).__name__}"


def _index_words(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def compare(
    found: Any,
    expected: Any,
    tol: Tolerance,
    dims: dict[str, int] | None = None,
    where: str = "",
    item_names: tuple[str, ...] = (),
    exact: bool = False,
) -> Verdict:
    """Compare ``found`` with ``expected`` (any nesting of tuples, dicts, arrays and numbers).

    ``item_names`` name the items of a returned tuple in messages (``("s", "o")``). ``exact=False`` (the default)
    words the message without values (for hidden cases); ``exact=True`` gives error sizes (public checks only).
    """
    dims = dims or {}
    label = f"{where}: " if where else ""

    if isinstance(expected, tuple):
        if not isinstance(found, (tuple, list)):
            return Verdict(False, f"{label}expected a tuple of {len(expected)} items; found {describe(found)}.", np.inf)
        if len(found) != len(expected):
            return Verdict(False, f"{label}expected a tuple of {len(expected)} items; found {len(found)} items.", np.inf)
        names = [f"`{item_names[i]}` (item {i})" if i < len(item_names) else f"item {i}" for i in range(len(expected))]
        return _worst(compare(f, e, tol, dims, f"{where}{names[i]}".strip(), exact=exact) for i, (f, e) in enumerate(zip(found, expected)))

    if isinstance(expected, dict):
        if not isinstance(found, dict):
            return Verdict(False, f"{label}expected a dict with keys {sorted(expected)}; found {describe(found)}.", np.inf)
        missing = [k for k in expected if k not in found]
        if missing:
            return Verdict(False, f"{label}the dict has no key(s) {', '.join(map(repr, missing))}; expected keys {sorted(expected)}.", np.inf)
        return _worst(compare(found[k], e, tol, dims, f"{where}[{k!r}]".strip(), exact=exact) for k, e in expected.items())

    return _compare_numbers(found, expected, tol, dims, label, exact)


def agrees(found: Any, expected: Any, tol: Tolerance) -> bool:
    """``compare(found, expected, tol).passed``, without the words: for the diagnosis, which asks it thousands of times."""
    if isinstance(expected, tuple):
        return isinstance(found, (tuple, list)) and len(found) == len(expected) and all(agrees(f, e, tol) for f, e in zip(found, expected))
    if isinstance(expected, dict):
        return isinstance(found, dict) and all(k in found for k in expected) and all(agrees(found[k], e, tol) for k, e in expected.items())
    if isinstance(found, (bool, np.bool_)):
        return False
    if isinstance(found, (int, float, np.integer, np.floating)):
        found = np.asarray(float(found))
    elif not isinstance(found, np.ndarray) or found.dtype.kind not in "iuf":
        return False
    expected = np.asarray(expected, dtype=float)
    if found.shape != expected.shape:
        return False
    found = found.astype(float, copy=False)
    if not np.isfinite(found).all():
        return False
    magnitude = np.abs(expected)
    scale = max(1.0, float(magnitude.max(initial=0.0)))
    with np.errstate(over="ignore", invalid="ignore"):
        return not (np.abs(found - expected) > tol.rtol * magnitude + tol.atol * scale).any()


def _worst(verdicts) -> Verdict:
    verdicts = list(verdicts)
    failed = [v for v in verdicts if not v.passed]
    if not failed:
        return Verdict(True, error=max((v.error for v in verdicts), default=0.0))
    return max(failed, key=lambda v: v.error)


def _compare_numbers(found: Any, expected: Any, tol: Tolerance, dims: dict[str, int], label: str, exact: bool = False) -> Verdict:
    expected_arr = np.asarray(expected, dtype=float)
    is_scalar = expected_arr.ndim == 0
    if isinstance(found, (bool, np.bool_)) or (isinstance(found, np.ndarray) and found.dtype.kind == "b"):
        return Verdict(False, f"{label}expected {'a number' if is_scalar else 'an array of numbers'}; found booleans.", np.inf)
    if isinstance(found, (int, float, np.integer, np.floating)):
        found_arr = np.asarray(float(found))
    elif isinstance(found, np.ndarray):
        found_arr = found
    else:
        wanted = "a single number" if is_scalar else f"an array of shape {shape_words(expected_arr.shape, dims)}"
        return Verdict(False, f"{label}expected {wanted}; found {describe(found)}.", np.inf)

    if found_arr.shape != expected_arr.shape:
        if is_scalar:
            return Verdict(False, f"{label}expected a single number (a float); found an array of shape {found_arr.shape}.", np.inf)
        if found_arr.ndim == 0:
            return Verdict(False, f"{label}expected an array of shape {shape_words(expected_arr.shape, dims)}; found a single number.", np.inf)
        return Verdict(
            False,
            f"{label}expected shape {shape_words(expected_arr.shape, dims)}; found shape {shape_words(found_arr.shape, dims, expected_arr.shape)}.",
            np.inf,
        )
    if found_arr.dtype.kind not in "iuf":
        return Verdict(False, f"{label}expected real numbers; found dtype {found_arr.dtype}.", np.inf)

    found_f = found_arr.astype(float)
    finite = np.isfinite(found_f)
    if not finite.all():
        bad = np.argwhere(~finite)
        first = tuple(int(i) for i in bad[0])
        kinds = sorted({"nan" if np.isnan(v) else "inf" for v in found_f[~finite].ravel()[:100]})
        where = "" if is_scalar else f" at {len(bad)} of {found_f.size} entries, first at {_index_words(first)}"
        return Verdict(
            False,
            f"{label}found non-finite values ({' and '.join(kinds)}){where}. "
            "Look for an overflow in np.exp, a division by zero or log(0).",
            np.inf,
        )

    scale = max(1.0, float(np.max(np.abs(expected_arr), initial=0.0)))
    with np.errstate(over="ignore", invalid="ignore"):  # a student's 1e308 overflows the difference: it is simply outside
        diff = np.abs(found_f - expected_arr)
        allowed = tol.rtol * np.abs(expected_arr) + tol.atol * scale
        outside = diff > allowed
        relative = float(np.max(diff / (np.abs(expected_arr) + scale), initial=0.0))
    if not outside.any():
        return Verdict(True, error=relative)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        worst = np.unravel_index(int(np.argmax(np.where(outside, diff / allowed, -1.0))), diff.shape)
    if not exact:
        return Verdict(False, label + _value_free(found_f, expected_arr, outside, worst, scale, dims), relative)
    if is_scalar:
        return Verdict(False, f"{label}the value is off by {diff.item():.3g} ({_relative(diff.item(), expected_arr.item())}).", relative)
    worst_index = tuple(int(i) for i in worst)
    return Verdict(
        False,
        f"{label}{int(outside.sum())} of {diff.size} entries are wrong; the largest error is "
        f"{diff[worst]:.3g} at {_index_words(worst_index)} ({_relative(diff[worst], expected_arr[worst])}).",
        relative,
    )


def magnitude_words(x: float) -> str:
    """``about 1e-3``: the nearest power of ten, never more digits."""
    if not np.isfinite(x) or x <= 0:
        return "not measurable"
    k = int(np.round(np.log10(x)))
    return {0: "about 1", 1: "about 10", -1: "about 0.1"}.get(k, f"about 1e{k}")


def _value_free(found: np.ndarray, expected: np.ndarray, outside: np.ndarray, worst: tuple, scale: float, dims: dict[str, int]) -> str:
    """Where the answer is wrong, how badly (a power of ten) and in which direction; no value of the answer."""
    worst_error = float(abs(found[worst] - expected[worst]) / (abs(expected[worst]) + scale))
    size = f"{magnitude_words(worst_error)} relative to the answer's size"
    high = int(np.sum(outside & (found > expected)))
    low = int(np.sum(outside)) - high
    if expected.ndim == 0:
        direction = "too large" if high else "too small"
        return f"the value is wrong: it is {direction}, by {size}."
    wrong = np.argwhere(outside)
    count = len(wrong)
    counted = f"all {count} entries are wrong" if count == expected.size else f"{count} of {expected.size} entries are wrong"
    if 1 < count <= 4 and count < expected.size:
        counted += " (" + ", ".join(f"`{_index_words(tuple(int(i) for i in w))}`" for w in wrong) + ")"
    steps = ""
    if expected.ndim >= 1 and "T" in dims and dims["T"] == expected.shape[0] and list(dims.values()).count(dims["T"]) == 1:
        ts = sorted({int(w[0]) for w in wrong})
        if len(ts) == dims["T"]:
            steps = ", at every time step"
        else:
            shown = ", ".join(map(str, ts[:8])) + (", ..." if len(ts) > 8 else "")
            steps = f", at time step{'s' if len(ts) > 1 else ''} t = {shown} of T = {dims['T']}"
    sign = "all too large" if not low else "all too small" if not high else f"too large at {high} and too small at {low} of them"
    if count == 1:
        sign = "too large" if high else "too small"
    zeros = " Every value you return is 0." if found.size > 1 and not found.any() else ""  # a factor that became 0 (`//`)
    return (
        f"{counted}{steps}; the largest error is {size}, at `{_index_words(tuple(int(i) for i in worst))}`; "
        f"your value{'s are' if count > 1 else ' is'} {sign}.{zeros}"
    )


def _relative(error: float, reference: float) -> str:
    if reference == 0:
        return "where the answer is 0"
    return f"relative error {abs(error / reference):.2g}"


def changed_arguments(function: str, before: tuple, after: tuple) -> list[str]:
    """The spec's names of the arguments of ``function`` that differ between ``before`` and ``after``.

    Callable arguments (and the :class:`Probe` standing for one) are skipped. One-ulp differences are forgiven (restoring
    ``x[i]`` by adding and subtracting ``eps`` is not the mistake this catches).
    """
    names = ARGUMENTS.get(function, ())
    data = [(i, b) for i, b in enumerate(before) if not (callable(b) or isinstance(b, Probe))]
    if len(data) != len(after):
        return ["its arguments"]
    changed: list[str] = []
    for (index, b), a in zip(data, after):
        name = names[index] if index < len(names) else f"#{index + 1}"
        changed += [f"`{name}{path}`" for path in _differences(b, a)]
    return changed


def _differences(before: Any, after: Any, path: str = "") -> list[str]:
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape:
            return [path]
        if np.array_equal(after, before):  # the usual case, and much cheaper than allclose
            return []
        scale = max(1.0, float(np.max(np.abs(before), initial=0.0))) if before.dtype.kind in "iuf" else 1.0
        same = np.allclose(after, before, rtol=1e-12, atol=1e-14 * scale, equal_nan=True)
        return [] if same else [path]
    if isinstance(before, dict):
        if not isinstance(after, dict) or set(after) != set(before):
            return [path]
        return [p for k in before for p in _differences(before[k], after[k], f"{path}[{k!r}]")]
    if isinstance(before, (tuple, list)):
        if not isinstance(after, (tuple, list)) or len(after) != len(before):
            return [path]
        return [p for i, (b, a) in enumerate(zip(before, after)) for p in _differences(b, a, f"{path}[{i}]")]
    return []
