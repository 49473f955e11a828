"""Token text for fingerprinting, as copydetect's ``filter_code`` makes it, faster.

copydetect turns code into a token text before fingerprinting: every variable,
argument and attribute becomes ``V``, a defined function's name ``F``, a
class's ``O``, a string ``S``; comments and white space vanish; keywords,
builtins, operators and numbers stay as they are. It lexes with pygments, which
takes most of the similarity report's time. This module makes the same token
text with the standard library's :mod:`tokenize` (several times faster) and
falls back to pygments, classified as copydetect does, for code ``tokenize``
refuses (a chunk whose indentation or brackets the removed boilerplate broke).

Either way it also records, for every token character, where it came from in
the code (``starts``/``ends``), so a match can be highlighted in the original.
"""
from __future__ import annotations

import builtins
import io
import keyword
import tokenize
from dataclasses import dataclass, field

import numpy as np

from ..lean_imports import copydetect_utils

_BUILTINS = frozenset(dir(builtins)) | {"self", "cls"}
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER, tokenize.ENCODING}
for _name in ("FSTRING_MIDDLE", "FSTRING_END"):  # Python 3.12+: an f-string is one S
    if hasattr(tokenize, _name):
        _SKIP.add(getattr(tokenize, _name))
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)


@dataclass
class Fingerprint:
    """copydetect's winnowed fingerprints of one chunk, with the way back to its code."""

    filtered_code: str
    starts: np.ndarray  # code index of each token character's token start
    ends: np.ndarray  # code index just after it
    k: int
    hashes: set = field(default_factory=set)
    hash_idx: dict = field(default_factory=dict)

    def code_range(self, start: int, end: int) -> tuple[int, int]:
        """The code characters behind token characters ``start:end``."""
        return int(self.starts[start]), int(self.ends[max(start, end - 1)])


def _emit(out: list[str], starts: list[int], ends: list[int], text: str, a: int, b: int) -> None:
    out.append(text)
    starts.extend([a] * len(text))
    ends.extend([b] * len(text))


def _string(text: str) -> str:
    """As copydetect writes a string: ``"S"`` (``""`` when empty), a docstring-like one ``S``, a prefix ``S``."""
    body = text.lstrip("rRbBuUfF")
    prefix = "S" if len(body) < len(text) else ""
    if body[:3] in ('"""', "'''"):
        return prefix + "S"
    return prefix + ('""' if len(body) == 2 else '"S"')


def _stdlib(code: str) -> tuple[str, list[int], list[int]]:
    line_starts = [0]
    for line in code.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))

    def at(pos: tuple[int, int]) -> int:
        row, col = pos
        return line_starts[row - 1] + col if row - 1 < len(line_starts) else len(code)

    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    previous = None  # the previous significant token
    module = in_from = False  # "import a.b as c", "from a.b": names of modules, kept (pygments: Name.Namespace)
    statement_start = True
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        kind, text = tok.type, tok.string
        if kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            module = in_from = False
            statement_start = True
        if kind in _SKIP:
            continue
        a, b = at(tok.start), at(tok.end)
        starts_statement, statement_start = statement_start or (previous is not None and previous.string in (";", ":")), False
        if kind == tokenize.NAME and text == "from" and starts_statement:
            module = in_from = True
        elif kind == tokenize.NAME and text == "import":
            module = not in_from
        if kind == tokenize.NAME and module and not keyword.iskeyword(text):
            _emit(out, starts, ends, text, a, b)
        elif kind == tokenize.NAME:
            after_dot = previous is not None and previous.type == tokenize.OP and previous.string == "."
            if previous is not None and previous.type == tokenize.NAME and previous.string == "def":
                _emit(out, starts, ends, "F", a, b)
            elif previous is not None and previous.type == tokenize.NAME and previous.string == "class":
                _emit(out, starts, ends, "O", a, b)
            elif keyword.iskeyword(text) or (text in _BUILTINS and not after_dot):
                _emit(out, starts, ends, text, a, b)
            else:
                _emit(out, starts, ends, "V", a, b)
        elif kind == tokenize.STRING:
            _emit(out, starts, ends, _string(text), a, b)
        elif kind == _FSTRING_START:
            _emit(out, starts, ends, "S", a, b)
        else:
            _emit(out, starts, ends, text.strip(), a, b)
        previous = tok
    return "".join(out), starts, ends


def _pygments(code: str) -> tuple[str, list[int], list[int]]:
    """copydetect's classification of pygments' tokens (``copydetect.utils.filter_code``), positions kept."""
    from pygments import token
    from pygments.lexers import PythonLexer

    variables = {token.Name, token.Name.Variable, token.Name.Attribute}
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, kind, text in PythonLexer(stripnl=False, ensurenl=False).get_tokens_unprocessed(code):
        b = index + len(text)
        if kind in variables:
            _emit(out, starts, ends, "V", index, b)
        elif kind in token.Name.Function:
            _emit(out, starts, ends, "F", index, b)
        elif kind in token.Name.Class:
            _emit(out, starts, ends, "O", index, b)
        elif kind == token.Comment.Preproc or kind == token.Comment.Hashbang:
            _emit(out, starts, ends, "P", index, b)
        elif kind in token.Text or kind in token.Comment:
            continue
        elif kind in token.Literal.String:
            if not out or out[-1] != "S":  # the pieces of one string are one S
                _emit(out, starts, ends, "S", index, b)
            else:
                ends[-1] = b
        else:
            _emit(out, starts, ends, text.strip(), index, b)
    return "".join(out), starts, ends


def token_text(code: str) -> tuple[str, np.ndarray, np.ndarray]:
    """(token text, starts, ends) of ``code``."""
    try:
        text, starts, ends = _stdlib(code)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        text, starts, ends = _pygments(code)
    return text, np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


def fingerprint(code: str, k: int, window: int) -> Fingerprint | None:
    """The chunk's winnowed fingerprints (copydetect's k-gram hashing and winnowing), or None when it has no k-gram."""
    if not code.strip():
        return None
    text, starts, ends = token_text(code)
    if len(text) < k:
        return None
    hashes, idx = copydetect_utils().get_document_fingerprints(text, k, max(1, window))
    return Fingerprint(text, starts, ends, k, hashes, idx)
