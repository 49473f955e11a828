"""Heavy libraries imported without the parts of them the kit never uses.

Each of these costs a second or more in every command on a machine with Jupyter's
extras installed (``make test``'s set-up), for features the grader does not touch.
Each function imports its library once, leaves out only what is named, and never
changes what a later direct import of the left-out module gets.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from contextlib import contextmanager


@contextmanager
def _without(*names: str):
    """Make ``import name`` raise ImportError meanwhile, for each name not loaded yet."""
    blocked = [name for name in names if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in blocked:
            del sys.modules[name]


def jsonschema() -> types.ModuleType:
    """``jsonschema`` without ``rfc3987_syntax``, which it imports if it can and which builds its grammars
    at import (1.7 s here). The course schema checks no IRI format."""
    with _without("rfc3987_syntax"):
        return importlib.import_module("jsonschema")


def jupytext() -> types.ModuleType:
    """``jupytext`` without its Jupyter contents managers (1 s: they import ``jupyter_server`` and
    ``tornado``); the kit only reads and writes percent-format files. It imports ``nbformat``, which
    imports ``jsonschema``: that comes first, lean."""
    jsonschema()
    with _without("jupytext.sync_contentsmanager", "jupytext.async_contentsmanager"):
        return importlib.import_module("jupytext")


_COPYDETECT = "rnnkit_copydetect"


def copydetect_utils() -> types.ModuleType:
    """``copydetect.utils`` (k-gram hashing, winnowing, copied slices) without the package's ``__init__``,
    which imports ``matplotlib.pyplot`` (1.6 s) for the plots of copydetect's own report.

    The package's folder is mounted under a private name whose ``__init__`` never runs, and its
    ``utils`` (with its ``winnow`` extension, a relative import) imported from there.
    """
    if "copydetect.utils" in sys.modules:
        return sys.modules["copydetect.utils"]
    if _COPYDETECT not in sys.modules:
        found = importlib.util.find_spec("copydetect")  # found, not imported
        if found is None or not found.submodule_search_locations:
            raise ImportError("copydetect is not installed")
        package = types.ModuleType(_COPYDETECT)
        package.__path__ = list(found.submodule_search_locations)
        sys.modules[_COPYDETECT] = package
    return importlib.import_module(f"{_COPYDETECT}.utils")
