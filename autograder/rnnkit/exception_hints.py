"""What a common Python or numpy exception means in a student's own line, in a sentence.

:func:`hint_for` reads the exception's text and the last source line of its traceback (both
come from student code: they are only matched as text, never run) and returns a short
explanation, or "" when the exception is none of the common slips below. Shape and
broadcasting errors are said in the function's own sizes elsewhere
(:func:`rnnkit.scoring.sizes_in_words`).
"""
from __future__ import annotations

import re

#: A case's message for an exception: ``RAISED`` + the exception's text (student text: shown as code), then, when
#: the kit has words for it, ``EXPLAINED`` + those words (shown as text). :mod:`rnnkit.feedback` splits at the last one.
RAISED = "your function raised "
EXPLAINED = " \u2014 "

#: The spec's optional arguments: a missing one is None, and ``if arg`` is not how to test for it.
OPTIONAL = ("s0", "h0", "c0", "bptt_truncate")

_FRAME = re.compile(r'^\s*File "[^"]*", line \d+, in .*$')
_NAME = r"[A-Za-z_][A-Za-z_0-9]*(?:\[[^\]]*\])?"


def failing_line(trace: str) -> str:
    """The source line of the traceback's last frame ("" when the traceback shows none)."""
    lines = trace.splitlines()
    line = ""
    for i, text in enumerate(lines[:-1]):
        if _FRAME.match(text) and not _FRAME.match(lines[i + 1]):
            line = lines[i + 1].strip()
    return line


def _tested_name(line: str) -> str | None:
    """The name a line tests for truth: ``if s0``, ``s0 or ...``, ``not h0``, ``while dh``..."""
    for pattern in (rf"\b(?:if|elif|while|not)\s+({_NAME})\s*(?:$|:|else\b|or\b|and\b|\))", rf"\b({_NAME})\s+(?:or|and)\b"):
        match = re.search(pattern, line)
        if match and match.group(1) not in ("None", "True", "False"):
            return match.group(1)
    return None


def _ambiguous_truth(line: str) -> str:
    name = _tested_name(line)
    if name in OPTIONAL:
        return (f"`{name}` is an array here, and numpy cannot say whether a whole array is true or false. "
                f"To test whether the optional argument was given, write `if {name} is None:`.")
    if name:
        return (f"`{name}` is an array, and numpy cannot say whether a whole array is true or false: "
                "compare explicitly (`is None`), or use `.any()` / `.all()`.")
    return ("an array was used where Python needs one True or False (an `if`, `and`, `or` or `not`): "
            "test an optional argument with `is None`, an array with `.any()` / `.all()`.")


def _none_operand(error: str, line: str) -> str:
    named = [n for n in OPTIONAL if re.search(rf"\b{n}\b", line)]
    if named:
        return (f"`{named[0]}` is None here (the caller did not pass it): "
                f"replace it by its default first, e.g. zeros when `{named[0]} is None`.")
    return "a value in this line is None: a function that returns nothing, or an optional argument that was not given."


def _float_index(line: str) -> str:
    if "/" in line and "//" not in line:
        return "an index or a count here is a float: `/` always gives a float in Python 3; use `//` or `int(...)`."
    return "an index or a count here is not an integer: use `//` for division, or `int(...)`."


_OUT_OF_BOUNDS = re.compile(r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)")


def _out_of_bounds(error: str) -> str:
    match = _OUT_OF_BOUNDS.search(error)
    if not match:
        return ""
    index, size = int(match.group(1)), int(match.group(3))
    if index < 0:
        return (f"index {index} counts from the end in numpy, and went past the start: an index (a time step?) went below "
                "0; check your loop's lower bound (for a window back in time, `max(0, t - k)`)")
    if index == size:
        return f"index {index} is one past the end of an axis of {size}: `range({size})` stops at {size - 1}; check your loop's upper bound"
    return ""


def hint_for(error: str, trace: str) -> str:
    """A sentence for the common slip behind ``error`` ("" when it is none of them)."""
    line = failing_line(trace)
    if "truth value of an array with more than one element is ambiguous" in error:
        return _ambiguous_truth(line)
    if "NoneType" in error and ("unsupported operand" in error or "not subscriptable" in error or "has no attribute" in error):
        return _none_operand(error, line)
    if ("'float' object cannot be interpreted as an integer" in error or "slice indices must be integers" in error
            or "only integers, slices" in error or "only integer scalar arrays" in error):
        return _float_index(line)
    if error.startswith("IndexError"):
        return _out_of_bounds(error)
    return ""
