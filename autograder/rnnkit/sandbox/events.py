"""The data frames a worker may send about its task, and the strict check every frame passes.

A worker has run student code, so every frame it writes may be forged. A frame
is accepted only when it is exactly one of the shapes below (no other key, every
value of its type and within its size, the function one of the task's, the
case number one of that function's, each case once; its text made writable as
UTF-8); anything else ends the
reading of that task's data (:class:`Garbled`), never anything more.

================  =====================================================================
event             keys
================  =====================================================================
``cell``          ``cell`` (int): the notebook cell about to run
``load_failed``   ``message`` (str): the file could not be read as code
``loaded``        ``errors`` (list of ``{cell, summary, traceback}``), ``defined`` (list of str)
``worker_error``  ``detail`` (str): the harness itself failed
``function_start`` ``function``
``function_end``  ``function``, ``status`` (``timeout`` / ``killed`` / ``exited``), ``signal`` or ``code``
``case``          ``function``, ``case`` (int), ``ok`` (bool); when ok, optional ``aliases`` (returned
                  arrays that are arguments' own); when not ok: ``kind``, ``error``, optional
                  ``traceback``; the payload (the result as plain data) only when ok
================  =====================================================================
"""
from __future__ import annotations

from dataclasses import dataclass, field

MAX_TEXT = 500
MAX_TRACEBACK = 4000
MAX_ERRORS = 50
CASE_KINDS = ("not_implemented", "exception", "memory", "unsendable", "too_large")
END_STATUSES = ("timeout", "killed", "exited")


class Garbled(ValueError):
    """A frame that is not one a worker may send: the task's data stops being read."""


def _text(value, limit: int, what: str) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise Garbled(f"{what} is not a string of at most {limit} characters")
    return value


def _clean(value):
    """``value`` with every string made writable as UTF-8: a lone surrogate (student text may hold one) becomes its
    ``\\udXXX`` escape, so that no file the grader writes can fail on it."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _int(value, what: str, low: int = 0, high: int = 1 << 31) -> int:
    if type(value) is not int or not low <= value < high:
        raise Garbled(f"{what} is not an integer in [{low}, {high})")
    return value


def _keys(header: dict, required: set[str], optional: set[str] = frozenset()) -> None:
    keys = set(header) - {"event"}
    if not required <= keys or not keys <= required | optional:
        raise Garbled(f"a {header.get('event')!r} frame with keys {sorted(keys)}")


@dataclass
class TaskSchema:
    """What a frame may say about one task: its functions and how many cases each has."""

    case_counts: dict[str, int]
    seen_cases: set = field(default_factory=set)

    def _function(self, value) -> str:
        if not isinstance(value, str) or value not in self.case_counts:
            raise Garbled("a frame about a function that is not in this part")
        return value

    def check(self, header: dict, payload: bytes) -> dict:
        """The header, checked; raise :class:`Garbled` for anything a worker may not send."""
        event = header.get("event")
        if event != "case" and payload:
            raise Garbled(f"a payload on a {event!r} frame")
        if event == "cell":
            _keys(header, {"cell"})
            _int(header["cell"], "the cell number", 1)
        elif event == "load_failed":
            _keys(header, {"message"})
            _text(header["message"], 2000, "the message")
        elif event == "worker_error":
            _keys(header, {"detail"})
            _text(header["detail"], 2000, "the detail")
        elif event == "loaded":
            _keys(header, {"errors", "defined"})
            errors, defined = header["errors"], header["defined"]
            if not isinstance(errors, list) or len(errors) > MAX_ERRORS or not isinstance(defined, list):
                raise Garbled("a malformed 'loaded' frame")
            for error in errors:
                if not isinstance(error, dict) or set(error) != {"cell", "summary", "traceback"}:
                    raise Garbled("a malformed cell error")
                _int(error["cell"], "a cell number", 1)
                _text(error["summary"], MAX_TEXT, "an error summary")
                _text(error["traceback"], MAX_TRACEBACK, "a traceback")
            if len(set(defined)) != len(defined):
                raise Garbled("a function listed twice")
            for name in defined:
                self._function(name)
        elif event == "function_start":
            _keys(header, {"function"})
            self._function(header["function"])
        elif event == "function_end":
            _keys(header, {"function", "status"}, {"signal", "code"})
            self._function(header["function"])
            if header["status"] not in END_STATUSES:
                raise Garbled("an unknown status")
            if "signal" in header:
                _text(header["signal"], 20, "a signal name")
            if "code" in header:
                _int(header["code"], "an exit code", 0, 256)
        elif event == "case":
            function = self._function(header.get("function"))
            number = _int(header.get("case"), "the case number", 0, self.case_counts[function])
            if (function, number) in self.seen_cases:
                raise Garbled("a case reported twice")
            self.seen_cases.add((function, number))
            if header.get("ok") is True:
                _keys(header, {"function", "case", "ok"}, {"aliases"})
                if "aliases" in header:
                    if not isinstance(header["aliases"], list) or not 0 < len(header["aliases"]) <= 20:
                        raise Garbled("a malformed list of aliases")
                    for alias in header["aliases"]:
                        _text(alias, 100, "an alias")
            elif header.get("ok") is False:
                _keys(header, {"function", "case", "ok", "kind", "error"}, {"traceback"})
                if header["kind"] not in CASE_KINDS:
                    raise Garbled("an unknown kind of failure")
                _text(header["error"], MAX_TEXT, "an error")
                if "traceback" in header:
                    _text(header["traceback"], MAX_TRACEBACK, "a traceback")
                if payload:
                    raise Garbled("a payload on a failed case")
            else:
                raise Garbled("a case frame without ok")
        else:
            raise Garbled("an unknown event")
        return _clean(header)
