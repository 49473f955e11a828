"""Public checks: what a student runs at any time, in the notebook or with ``rnnkit check``.

In a notebook::

    from rnnkit.checks import make_check
    check = make_check("bptt", globals())
    ...
    check("rnn_backward")

Each check calls the student's current function on a few small, fixed public
cases (``assignments/public_checks.json``, written by ``rnnkit build`` from the
reference solutions and a public seed, distinct from the hidden tests), and
reports in plain words. Gradient functions are also compared with finite
differences of the student's own forward pass, which tells a student whether
the backward pass or the forward pass is the one to fix. A function that calls
other graded functions (``lstm_step_forward`` and the gates) is run again with the
failing ones replaced by the public answers of their calls: when it then passes,
the check says that the failure comes from those helpers.
"""
from __future__ import annotations

import json
import os
import re
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .worker import calls
from .compare import changed_arguments, compare
from .course import Tolerance
from .hints import hint_for
from .spec import RETURNS

PUBLIC_FILE = "public_checks.json"
GRADING_ENV = "RNNKIT_GRADING"


# --------------------------------------------------------------------------- the public case file


def _array_to_json(a: np.ndarray) -> dict:
    return {"dtype": a.dtype.str, "shape": list(a.shape), "data": a.ravel().tolist()}


def _array_from_json(d: dict) -> np.ndarray:
    return np.array(d["data"], dtype=np.dtype(d["dtype"])).reshape(d["shape"])


def value_to_json(value: Any) -> dict:
    skeleton, arrays = calls.encode(value)
    return {"skeleton": skeleton, "arrays": [_array_to_json(a) for a in arrays]}


def value_from_json(data: dict, *, rebuild_probes: bool = True) -> Any:
    return calls.decode(data["skeleton"], [_array_from_json(a) for a in data["arrays"]], rebuild_probes=rebuild_probes)


def find_public_file(start: Path | None = None) -> Path:
    """``$RNNKIT_PUBLIC_CHECKS``, else ``public_checks.json`` here or in an ``assignments/`` above."""
    if os.environ.get("RNNKIT_PUBLIC_CHECKS"):
        return Path(os.environ["RNNKIT_PUBLIC_CHECKS"])
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for candidate in (folder / PUBLIC_FILE, folder / "assignments" / PUBLIC_FILE):
            if candidate.is_file():
                return candidate
    beside_package = Path(__file__).resolve().parents[2] / "assignments" / PUBLIC_FILE
    if beside_package.is_file():
        return beside_package
    raise FileNotFoundError(
        f"could not find {PUBLIC_FILE}: open the notebook from the assignments folder, "
        "or set RNNKIT_PUBLIC_CHECKS to the file's path"
    )


def fingerprint(value: Any) -> Any:
    """A short stand-in for a call's arguments (shapes, sums and sums of squares), to recognise the call, not to rebuild it."""
    if isinstance(value, dict):
        return ["d", [[k, fingerprint(value[k])] for k in sorted(value)]]
    if isinstance(value, (tuple, list)):
        return ["t", [fingerprint(v) for v in value]]
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        a = value.astype(float)
        return ["a", list(a.shape), float(a.sum()), float((a * a).sum())]
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return ["n", float(value)]
    return ["?", type(value).__name__]


def _same_fingerprint(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and bool(np.isclose(a, b, rtol=1e-6, atol=1e-9))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_fingerprint(x, y) for x, y in zip(a, b))
    return a == b


@dataclass
class PublicCase:
    about: str
    dims: dict[str, int]
    args: dict
    expected: dict
    #: For a function that calls other graded functions: each call's helper, its arguments' fingerprint and the public answer.
    helpers: list = field(default_factory=list)


@dataclass
class PublicChecks:
    tolerance: Tolerance
    functions: dict[str, list[PublicCase]]

    @classmethod
    def load(cls, path: Path | None = None) -> "PublicChecks":
        data = json.loads((path or find_public_file()).read_text(encoding="utf-8"))
        functions = {name: [PublicCase(**c) for c in cases] for name, cases in data["functions"].items()}
        return cls(Tolerance(**data["tolerance"]), functions)


# --------------------------------------------------------------------------- finite differences of the student's own forward


def _centred(f: Callable[[], float], array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Centred differences of f() with respect to ``array``, perturbed in place and restored."""
    grad = np.zeros(array.shape)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + eps
        plus = f()
        array[index] = saved - eps
        minus = f()
        array[index] = saved
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def _rnn_backward_from_forward(ns, args):
    x, y, U, W, V = (calls.copy_value(a) for a in args[:5])
    s0 = calls.copy_value(args[5]) if len(args) > 5 else None
    if len(args) > 6 and args[6] is not None:
        return None  # finite differences give full BPTT only
    loss = lambda: ns["cross_entropy_loss"](ns["rnn_forward"](x, U, W, V, s0)[1], y)
    return {"U": _centred(loss, U), "W": _centred(loss, W), "V": _centred(loss, V)}


def _gated_backward_from_forward(forward_name, n_states):
    def fd(ns, args):
        x, params, dh = (calls.copy_value(a) for a in args[:3])
        states = [calls.copy_value(a) for a in args[3:]] + [None] * (n_states - len(args[3:]))
        states = [np.zeros(params[next(iter(params))].shape[0]) if s is None else s for s in states]

        def loss():
            out = ns[forward_name](x, params, *states)
            h = out[0] if isinstance(out, tuple) else out
            return float(np.sum(dh * h))

        grads = {k: _centred(loss, params[k]) for k in params}
        grads["x"] = _centred(loss, x)
        for name, state in zip(("h0", "c0"), states):
            grads[name] = _centred(loss, state)
        return grads

    return fd


#: For each gradient function: the functions of the student it needs, and how to differentiate them.
FINITE_DIFFERENCES = {
    "rnn_backward": (("rnn_forward", "cross_entropy_loss"), _rnn_backward_from_forward),
    "lstm_backward": (("lstm_forward",), _gated_backward_from_forward("lstm_forward", 2)),
    "gru_backward": (("gru_forward",), _gated_backward_from_forward("gru_forward", 1)),
}


# --------------------------------------------------------------------------- running a check


@dataclass
class CheckResult:
    function: str
    status: str  # "passed", "failed", "not implemented", "not defined"
    lines: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __str__(self) -> str:
        mark = {"passed": "PASSED", "failed": "FAILED", "not implemented": "NOT IMPLEMENTED YET", "not defined": "NOT DEFINED"}[self.status]
        return "\n".join([f"{self.function}: {mark}", *("  " + line for line in self.lines)])


def _student_traceback(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(str(Path(__file__).parent))]
    text = "".join(traceback.format_list(frames[-4:]))
    return (text + "".join(traceback.format_exception_only(type(exc), exc))).rstrip()


def run_check(function: str, namespace: dict, public: PublicChecks) -> CheckResult:
    """Run the public checks of ``function`` against the definitions in ``namespace``."""
    fn = namespace.get(function)
    if not callable(fn):
        return CheckResult(function, "not defined", [f"There is no function `{function}` yet: run the cell that defines it, then check again."])
    cases = public.functions.get(function)
    if not cases:
        return CheckResult(function, "failed", [f"There are no public checks for `{function}`."])

    lines: list[str] = []
    failures = 0
    failing: list[PublicCase] = []
    finite_difference_lines: list[str] = []
    for number, case in enumerate(cases, start=1):
        args = value_from_json(case.args)
        before = calls.copy_value(args)
        expected = value_from_json(case.expected)
        try:
            with warnings.catch_warnings(record=True) as warned:
                warnings.simplefilter("always", RuntimeWarning)
                found = fn(*args)
        except NotImplementedError:
            return CheckResult(function, "not implemented", ["Not implemented yet: replace the `raise NotImplementedError(...)` line with your code."])
        except Exception as exc:  # the student's bug: show their own traceback
            failures += 1
            failing.append(case)
            lines.append(f"case {number} ({case.about}): your function raised an error:")
            lines.extend("    " + line for line in _student_traceback(exc).splitlines())
            continue
        verdict = compare(found, expected, public.tolerance, case.dims, item_names=RETURNS.get(function, ()), exact=True)
        names = changed_arguments(function, before, tuple(a for a in args if not callable(a)))
        aliased = calls.aliases(found, tuple(a for a in args if not callable(a)))
        if verdict.passed and not names and not aliased:
            lines.append(f"case {number} ({case.about}): ok{_warning_note(warned)}")
            continue
        failures += 1
        failing.append(case)
        if not verdict.passed:
            lines.append(f"case {number} ({case.about}): {verdict.message}")
        if names:
            lines.append(f"case {number} ({case.about}): your function changed its argument {', '.join(names)}; work on a copy instead (e.g. `o = o.copy()`).")
        if aliased:
            lines.append(f"case {number} ({case.about}): your function returned an array it was given, not a new one; return a copy (e.g. `g.copy()`).")
        gradient_lines = _gradient_diagnosis(function, namespace, args=value_from_json(case.args), expected=expected, tol=public.tolerance, dims=case.dims)
        lines.extend(gradient_lines)
        finite_difference_lines += gradient_lines
    if failures:
        inherited = _inherited_lines(function, namespace, public, failing)
        if inherited:  # the helper's error is the one to fix: finite differences through it would point elsewhere
            lines = [line for line in lines if line not in finite_difference_lines] + inherited
        lines.append(hint_for(function))
        return CheckResult(function, "failed", lines)
    return CheckResult(function, "passed", lines)


def _warning_note(warned: list[warnings.WarningMessage]) -> str:
    """A right answer that numpy warned about: say so (an overflow the stable form avoids)."""
    messages = sorted({str(w.message) for w in warned if issubclass(w.category, RuntimeWarning)})
    if not messages:
        return ""
    return (f", but numpy warned: {'; '.join(messages)}. The result is right and gets full credit; "
            "the numerically stable form in the text computes it without the warning.")


class _Elsewhere(Exception):
    """The function called a helper at a point the public answers do not cover."""


def _stand_in(records: list[dict], helper: str, used: list[str]) -> Callable:
    """A helper that returns the public answer of each call the reference makes (recognised by its arguments)."""
    entries = [(r["fingerprint"], r["expected"]) for r in records if r["function"] == helper]

    def stand_in(*args):
        mark = fingerprint(args)
        for recorded, expected in entries:
            if _same_fingerprint(mark, recorded):
                used.append(helper)
                return value_from_json(expected)
        raise _Elsewhere

    return stand_in


def _inherited_lines(function: str, namespace: dict, public: PublicChecks, failing: list[PublicCase]) -> list[str]:
    """When ``function`` fails only because helpers of the student's fail: say so (using public answers only)."""
    helpers = list(dict.fromkeys(r["function"] for case in failing for r in case.helpers))
    checked = {h: run_check(h, namespace, public) for h in helpers if callable(namespace.get(h))}
    broken = [h for h, result in checked.items() if result.status == "failed"]
    if not broken or not failing:
        return []
    fn, saved, used = namespace[function], {h: namespace[h] for h in broken}, []
    try:
        for case in failing:
            for h in broken:
                namespace[h] = _stand_in(case.helpers, h, used)
            args = value_from_json(case.args)
            try:
                found = fn(*args)
            except Exception:  # noqa: BLE001 - _Elsewhere, or a mistake of the function's own
                return []
            if not compare(found, value_from_json(case.expected), public.tolerance, case.dims).passed:
                return []
    finally:
        namespace.update(saved)
    if not used:
        return []  # the function does not call them: its failure is its own
    named = [h for h in broken if h in used]
    listed = ", ".join(f"`{h}`" for h in named)
    one = len(named) == 1
    # a helper that itself fails only because of its own helpers: name the end of the chain too
    roots = [m.group(1) for h in named for line in checked[h].lines for m in [_BECAUSE.search(line)] if m]
    via = f" ({'it fails' if one else 'they fail'} only because of your {', '.join(roots)})" if roots else ""
    first = ", ".join(roots) if roots else listed
    return [
        f"  With the right values from {listed} in place of yours (the public answers), your `{function}` passes: it fails only "
        f"because your {listed} {'does' if one else 'do'} not pass {'its' if one else 'their'} own check yet{via}. Fix {first} first."
    ]


_BECAUSE = re.compile(r"it fails only because your (.+?) does? not pass")


def _gradient_diagnosis(function, namespace, args, expected, tol, dims) -> list[str]:
    if function not in FINITE_DIFFERENCES:
        return []
    needs, finite_differences = FINITE_DIFFERENCES[function]
    if not all(callable(namespace.get(n)) for n in needs):
        return []
    try:
        numeric = finite_differences(namespace, args)
        if numeric is None:
            return []
        mine = namespace[function](*args)
    except Exception:
        return ["  (finite differences of your forward pass could not be computed: check the forward functions first)"]
    own = compare(mine, numeric, Tolerance(1e-4, 1e-6), dims)
    forward_ok = compare(numeric, expected, tol, dims).passed
    if own.passed and not forward_ok:
        return ["  Your gradient matches finite differences of YOUR forward pass, so the backward pass is consistent: the forward functions it uses are the ones to fix."]
    if not own.passed:
        return [f"  Finite differences of your own forward pass disagree with your gradient too ({own.message}): the backward pass itself has a mistake."]
    return []


class CheckFailed(AssertionError):
    """Raised by a ``check(...)`` made with ``raise_on_failure=True`` (the nbgrader export) when the check does not pass."""


def make_check(part: str, namespace: dict, raise_on_failure: bool = False) -> Callable[[str], CheckResult | None]:
    """The ``check(function)`` of a notebook whose definitions live in ``namespace``.

    It prints what the public checks find. With ``raise_on_failure`` (the
    notebooks of the nbgrader export) it then also raises :class:`CheckFailed`
    when they do not pass, so that ``nbgrader validate`` sees the failure; the
    attribute ``check.raise_on_failure`` can switch that off again (the hidden
    tests do, while nbgrader autogrades, to give partial credit by case).
    """
    if os.environ.get(GRADING_ENV):
        return lambda function: None  # the autograder runs its own hidden tests instead

    cache: dict[str, PublicChecks] = {}

    def check(function: str) -> CheckResult:
        if "public" not in cache:
            cache["public"] = PublicChecks.load()
        result = run_check(function, namespace, cache["public"])
        print(result)
        if check.raise_on_failure and not result.passed:
            raise CheckFailed(f"{function} does not pass its public checks yet ({result.status}): see the report above.")
        return None

    check.raise_on_failure = raise_on_failure
    check.__doc__ = f"Run the public checks of a function of part {part!r} and print what they find."
    return check
