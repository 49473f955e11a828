"""What a student's notebook imports from the kit, as a worker provides it: inert stand-ins.

The notebooks say ``from rnnkit.checks import make_check`` and
``from rnnkit.plots import illustration``. While grading, checks do nothing
(the hidden tests replace them) and illustrations do not draw, so the worker
installs these two small modules instead of the kit's own: nothing else of the
kit is loaded in a worker, or readable from it.
"""
from __future__ import annotations

import sys
import types


def _make_check(part, namespace, raise_on_failure=False, **_options):
    """The kit's ``make_check`` signature (the nbgrader export passes ``raise_on_failure=True``); checks nothing."""

    def check(function, *args, **kwargs):
        return None

    check.raise_on_failure = raise_on_failure
    return check


def _illustration(fn):
    return fn


def install() -> None:
    """Put the stand-ins in ``sys.modules`` (imports of them then read no file)."""
    package = sys.modules.get("rnnkit")
    for name, attributes in {"checks": {"make_check": _make_check}, "plots": {"illustration": _illustration}}.items():
        module = types.ModuleType(f"rnnkit.{name}", "Not available while grading: an inert stand-in.")
        module.__dict__.update(attributes)
        sys.modules[module.__name__] = module
        if package is not None:
            setattr(package, name, module)
