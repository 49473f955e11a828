"""Student ids and student text, made safe for every format the kit writes.

* :func:`id_problem`: why a folder name cannot be a student id (control
  characters, bytes that are not UTF-8), or ``""`` when it can. Every other name
  is an id as it is, and is also its folder under ``OUT/students/``.
* :func:`csv_cell` / :func:`csv_uncell`: a text cell neutralised against formula
  injection (OWASP: a cell starting with ``= + - @``, tab or carriage return gets a
  ``'`` in front; so does one starting with ``'``, which keeps the rule reversible).
* :func:`md_text`, :func:`md_code`, :func:`md_block`: markdown that stays text:
  backslash-escaped punctuation, and code spans and fences longer than any
  backtick run inside them (CommonMark), so nothing quoted can close them.
* :func:`html_text`: ``html.escape`` with quotes.
"""
from __future__ import annotations

import html
import re
import unicodedata

#: Categories a student id may not contain: controls, surrogates (bytes that are not UTF-8), line and paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
#: Characters that can start markup anywhere in a line (emphasis, code, links, HTML, entities, tables, math);
#: ``_`` inside a word (``rnn_forward``) cannot, and stays as it is.
_MD_PUNCTUATION = re.compile(r"([\\`*<>#!|~&$\[]|\](?=[(\[:])|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")
#: What starts a block at the beginning of a line (list item, heading underline, ordered item, quote, heading).
_LINE_START = re.compile(r"[-+=]|\d+(?=[.)])")


def id_problem(name: str) -> str:
    """Why ``name`` cannot be a student id (one sentence for the instructor), or ``""`` if it can."""
    if not name or name in (".", ".."):
        return "an empty name is not a student id"
    for ch in name:
        category = unicodedata.category(ch)
        if category in _REFUSED_CATEGORIES:
            what = "bytes that are not UTF-8" if category == "Cs" else f"the control character U+{ord(ch):04X}"
            return f"its name holds {what}, which the grades files cannot show faithfully; rename the folder"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "its name cannot be written as UTF-8; rename the folder"
    return ""


def shown_name(name: str) -> str:
    """A printable rendering of a refused name: controls, separators and bad bytes as ``\\xNN`` / ``\\uNNNN`` escapes."""
    out = []
    for ch in name:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            code = ord(ch)
            out.append(f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out) or "''"


def csv_cell(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet never runs as a formula (a ``'`` before a dangerous first character)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_uncell(cell: str) -> str:
    """The text :func:`csv_cell` was given."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START) else cell


def md_text(text: str, line_start: bool = True) -> str:
    """``text`` as literal markdown text on one line: markup characters backslash-escaped, line breaks as spaces.

    With ``line_start`` (the text may begin a line), leading spaces are dropped and a leading ``-``, ``+``, ``=`` or
    ``1.`` is escaped too, so it cannot start a list, a heading underline or an indented code block.
    """
    flat = " ".join(str(text).replace("\r", " ").split("\n"))
    escaped = _MD_PUNCTUATION.sub(r"\\\1", flat)
    if not line_start:
        return escaped
    escaped = escaped.lstrip()
    match = _LINE_START.match(escaped)
    if match:
        cut = match.end()
        escaped = escaped[:cut - 1] + "\\" + escaped[cut - 1:] if not match.group(0)[0].isdigit() else escaped[:cut] + "\\" + escaped[cut:]
    return escaped


def _longest_run(text: str, char: str = "`") -> int:
    return max((len(m) for m in re.findall(f"{re.escape(char)}+", text)), default=0)


def md_code(text: str) -> str:
    """``text`` as one inline code span on one line; its delimiters are longer than any backtick run inside."""
    flat = " ".join(str(text).replace("\r", " ").split("\n"))
    ticks = "`" * (_longest_run(flat) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or flat.startswith(" ") or not flat.strip() else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def md_block(text: str, info: str = "text") -> str:
    """``text`` as one fenced code block whose fence is longer than any backtick run inside (at least three)."""
    body = str(text).replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    fence = "`" * max(3, _longest_run(body) + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def html_text(text: object) -> str:
    """``text`` escaped for HTML text and attribute values."""
    return html.escape(str(text), quote=True)
