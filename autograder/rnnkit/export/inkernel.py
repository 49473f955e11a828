"""Hidden tests that run inside a notebook's own kernel, for nbgrader and otter-grader.

**Not a sandbox.** These functions run in the same Python process as the
student's code, as nbgrader's and otter's tests always do: a submission can
patch numpy, replace these functions, read the packed answers, or stop the
kernel. They exist so that courses already run on nbgrader or otter get the
kit's hidden cases and its plain-words messages; the secure paths are
``rnnkit grade`` (also ``rnnkit grade --nbgrader``) and the Gradescope export,
which run student code in the kit's sandbox.

What they do protect against is *accidental* disclosure: nothing that reaches
an output or an exception message holds a hidden input or answer. The cases
travel packed (:func:`pack`), the messages come from :mod:`..compare` (which
describes differences without values), and the student's own exceptions are
reported with the student's frames only.

This module is copied verbatim into the student edition of the kit
(``rnnkit release``), so it imports only numpy and the public-check modules.
"""
from __future__ import annotations

import base64
import contextlib
import io
import json
import sys
import traceback
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import PublicChecks, run_check, value_from_json
from ..compare import changed_arguments, compare
from ..course import Tolerance
from ..spec import RETURNS

_KIT_DIR = str(Path(__file__).resolve().parents[1])


def pack(data: Any) -> str:
    """JSON-able ``data`` as one ASCII string (zlib, then base64): no value readable at a glance."""
    return base64.b64encode(zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 9)).decode("ascii")


def unpack(text: str) -> Any:
    return json.loads(zlib.decompress(base64.b64decode(text)).decode())


class _NotImplemented(Exception):
    pass


@contextlib.contextmanager
def _quiet():
    """No warnings and nothing on stderr while student code runs (nbgrader zeroes a cell that writes to stderr)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def _student_frames(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_KIT_DIR)]
    text = "".join(traceback.format_list(frames[-3:])) + "".join(traceback.format_exception_only(type(exc), exc))
    return text.rstrip()[:1500]


def run_case(namespace: dict, function: str, case: dict, tolerance: Tolerance) -> tuple[bool, str]:
    """Call ``namespace[function]`` on one packed case: (passed, what was wrong in words).

    Raises :class:`_NotImplemented` when the function is still a stub. Mirrors the
    kit's grader: the same comparison, and a case fails when it changes an argument.
    """
    fn = namespace.get(function)
    if not callable(fn):
        return False, f"there is no function `{function}`"
    args = value_from_json(case["args"])
    before = value_from_json(case["args"])
    try:
        with _quiet():
            found = fn(*args)
    except NotImplementedError:
        raise _NotImplemented() from None
    except (Exception, SystemExit) as exc:
        summary = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
        return False, f"your function raised {summary[-1] if summary else type(exc).__name__}\n{_student_frames(exc)}"
    expected = value_from_json(case["expected"])
    with _quiet():
        verdict = compare(found, expected, tolerance, case.get("dims", {}), item_names=RETURNS.get(function, ()))
        changed = changed_arguments(function, before, tuple(a for a in args if not callable(a)))
    messages = [] if verdict.passed else [verdict.message]
    if changed:
        messages.append(f"your function changed its argument {', '.join(changed)}; work on a copy")
    return not messages, " ".join(messages)


def _tolerance(data: dict) -> Tolerance:
    return Tolerance(*data["tolerance"])


_held: list = []


def hold_stderr() -> None:
    """Send stderr aside until :func:`hidden_score` ends (a numpy warning must not zero an nbgrader cell)."""
    _held.append(sys.stderr)
    sys.stderr = io.StringIO()


_quietened_checks: list = []


def begin_hidden_test(namespace: dict) -> None:
    """The start of an nbgrader test cell while nbgrader autogrades (the hidden region before ``check(...)``).

    Holds stderr (:func:`hold_stderr`) and lets the cell's public check report
    without raising, so the cell ends in :func:`hidden_score`'s partial credit
    rather than in an error worth 0; both are undone when :func:`hidden_score` ends.
    """
    hold_stderr()
    check = namespace.get("check")
    if getattr(check, "raise_on_failure", False):
        check.raise_on_failure = False
        _quietened_checks.append(check)


def _release_stderr() -> None:
    if _held:
        sys.stderr = _held[0]  # the first one held is the kernel's own
        _held.clear()
    for check in _quietened_checks:
        check.raise_on_failure = True
    _quietened_checks.clear()


def hidden_score(namespace: dict, function: str, points: float, packed: str) -> float:
    """nbgrader: run every hidden case of ``function``, print a report in words, return the points earned.

    The last expression of an nbgrader test cell is its partial credit, so the
    cell ends with a call of this function. The score is the kit's:
    ``points * passed / cases``, rounded to 0.01.
    """
    try:
        return _hidden_score(namespace, function, points, packed)
    finally:
        _release_stderr()


def _hidden_score(namespace: dict, function: str, points: float, packed: str) -> float:
    data = unpack(packed)
    cases = data["cases"]
    lines, passed = [], 0
    try:
        for number, case in enumerate(cases, start=1):
            ok, message = run_case(namespace, function, case, _tolerance(data))
            passed += ok
            lines.append(f"  hidden case {number} ({case['about']}): " + ("ok" if ok else message.replace("\n", "\n    ")))
    except _NotImplemented:
        print(f"{function}: not implemented yet, 0 of {points:g} points.")
        return 0.0
    score = round(points * passed / len(cases), 2) if cases else 0.0
    print(f"{function}: {passed} of {len(cases)} hidden cases passed, {score:g} of {points:g} points.")
    print("\n".join(lines))
    return score


def otter_public_test(env: dict, function: str) -> None:
    """otter: the kit's public check of ``function`` (public_checks.json beside the notebook)."""
    result = run_check(function, env, PublicChecks.load())
    if not result.passed:
        raise AssertionError("\n" + str(result)) from None


def otter_hidden_test(env: dict, function: str, packed: str) -> None:
    """otter: one hidden case; raises AssertionError with a message in words when it fails."""
    data = unpack(packed)
    case = data["case"]
    try:
        ok, message = run_case(env, function, case, _tolerance(data))
    except _NotImplemented:
        ok, message = False, "not implemented yet"
    if not ok:
        raise AssertionError(f"{case['about']}: {message}") from None
