"""Illustrations in the notebooks: small experiments, drawn with the student's own functions.

A plot cell (tagged ``plot`` in ``solutions/<part>.py``) defines a function and
decorates it with :func:`illustration`::

    @illustration
    def vanishing_gradients():
        ...  # compute with the student's functions, then draw with matplotlib

The function runs at once when the cell runs in a student's notebook. It does
not run while the autograder loads the notebook (``RNNKIT_GRADING`` is set in
the sandbox), nor while the capstone reads a student's notebook for its
functions, so plots never cost grading time and a stub never adds an error to
the feedback. When a function the plot needs is still a stub, the student sees
one sentence instead of a traceback.

This module imports nothing heavy: matplotlib is imported inside the plot
functions, only when they draw.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Callable

_quiet = 0


@contextmanager
def quiet():
    """Within this block, :func:`illustration` draws nothing (the capstone uses it)."""
    global _quiet
    _quiet += 1
    try:
        yield
    finally:
        _quiet -= 1


def drawing() -> bool:
    """Whether illustrations run here (not while grading, not inside :func:`quiet`)."""
    return not os.environ.get("RNNKIT_GRADING") and not _quiet


def illustration(fn: Callable[[], object]) -> Callable[[], object]:
    """Run ``fn`` now, unless grading; a stub it calls gives a message, not a traceback."""
    if drawing():
        try:
            fn()
        except NotImplementedError as exc:
            print(
                f"This plot uses a function that is not written yet ({exc}). "
                "Finish it, run its cell, then run this cell again."
            )
    return fn
