"""The similarity outputs: ``similarity.csv``, one evidence page per listed pair, the report's section.

``similarity.csv`` has one row per listed pair and part both students handed
in (a pair sharing only mistakes has one row with an empty ``part``), the
strongest pair first:

=================  ==========================================================
column             meaning
=================  ==========================================================
``rank``           the pair's rank, 1 = most alike
``student_a``      one student id (the smaller, in sort order)
``student_b``      the other
``flagged``        ``yes`` when the pair is flagged (a reason to look), else ``no``
``score``          the pair's score: ``code + mistakes_weight * mistakes``
``code``           the pair's code similarity over every part both handed in, 0..1
``mistakes``       evidence from shared rare named mistakes, 0..1
``part``           the part of this row
``part_code``      the code similarity of this part, 0..1
``shared_mistakes``  the named mistakes both make, ``function:mistake`` separated by ``;``
``reasons``        why the pair is flagged
``page``           the evidence page, relative to the output folder
=================  ==========================================================

A part file whose source is hidden (:mod:`.hidden`) has a row of its own
before the pairs: ``student_a`` the student, ``student_b``, ``rank`` and the
scores empty, ``flagged`` ``yes``, ``part`` its part, ``reasons``
``source hidden: cannot be compared: ...`` (why, with the cell and line).

Every page is self-contained (inline CSS, no scripts) and every piece of
student text in it is HTML-escaped.
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from pathlib import Path

from ..outputs.files import write_atomic

COLUMNS = ["rank", "student_a", "student_b", "flagged", "score", "code", "mistakes", "part", "part_code", "shared_mistakes", "reasons", "page"]
PAGES = "similarity"

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em} h2{font-size:1.1em;margin-top:1.6em}
table.sbs{width:100%;border-collapse:collapse;table-layout:fixed}
table.sbs td,table.sbs th{vertical-align:top;border:1px solid #ccc;padding:.3em;width:50%}
pre{margin:0;white-space:pre-wrap;word-break:break-all;font-size:.85em;line-height:1.35}
mark{background:#ffd54f;color:#000}
.note{color:#555;font-size:.9em}
table.ev{border-collapse:collapse} table.ev td,table.ev th{border:1px solid #ccc;padding:.2em .5em;text-align:left}
"""


def _slug(student: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]", "_", student).replace("--", "-_")[:40] or "student"
    if slug != student:  # a changed name gets a hash of the real one: two students never share a page
        slug += "-" + hashlib.sha1(student.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return slug


def page_name(a: str, b: str) -> str:
    return f"{PAGES}/{_slug(a)}--{_slug(b)}.html"


def _mistake_list(pair) -> str:
    return "; ".join(f"{m.function}:{m.mistake}" for m in pair.shared_mistakes)


def write_outputs(out_dir: Path, report, codes: dict[str, dict[str, str]]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = out_dir / PAGES
    if pages.is_dir() and not pages.is_symlink():
        for old in pages.glob("*.html"):  # pages of an earlier run
            if old.is_file() and not old.is_symlink():
                old.unlink()
    if report.pairs:
        pages.mkdir(exist_ok=True)
    used: set[str] = set()
    for pair in report.pairs:
        pair.page = page_name(pair.a, pair.b)
        if pair.page.lower() in used:  # "a--b" with "c" and "a" with "b--c" (or names differing in case only)
            pair.page = pair.page[: -len(".html")] + f"-{len(used)}.html"
        used.add(pair.page.lower())
        write_atomic(out_dir / pair.page, pair_page(pair, codes, report.settings), durable=False)
    report.csv_path = out_dir / "similarity.csv"
    with io.StringIO(newline="") as f:  # written whole, and readable by you only, as grades.csv is
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for h in getattr(report, "hidden", []):
            writer.writerow(["", h.student, "", "yes", "", "", "", h.part, "", "", h.summary, ""])
        for rank, pair in enumerate(report.pairs, start=1):
            head = [rank, pair.a, pair.b, "yes" if pair.flagged else "no", f"{pair.score:.3f}", f"{pair.code:.3f}", f"{pair.mistakes:.3f}"]
            tail = [_mistake_list(pair), "; ".join(pair.reasons), pair.page or ""]
            matches = sorted(pair.parts.values(), key=lambda m: -m.code)
            for m in matches or [None]:
                writer.writerow(head + ([m.part, f"{m.code:.3f}"] if m else ["", ""]) + tail)
        write_atomic(report.csv_path, f.getvalue())


#: The most of one student's code an evidence page shows (a file of megabytes would make a page of megabytes).
SHOWN_CHARACTERS = 100_000


def _shown(code: str, ranges) -> str:
    """``code`` highlighted, cut after :data:`SHOWN_CHARACTERS` with a line saying how much was left out."""
    if len(code) <= SHOWN_CHARACTERS:
        return _highlighted(code, list(ranges))
    cut = f"\n\n[... {len(code) - SHOWN_CHARACTERS:,} more characters not shown; see the student's file]"
    return _highlighted(code[:SHOWN_CHARACTERS], list(ranges)) + html.escape(cut)


def _highlighted(code: str, ranges: list[tuple[int, int]]) -> str:
    out, at = [], 0
    for start, end in sorted(ranges):
        start, end = max(start, at), min(end, len(code))
        if end <= start:
            continue
        out.append(html.escape(code[at:start]))
        out.append("<mark>" + html.escape(code[start:end]) + "</mark>")
        at = end
    out.append(html.escape(code[at:]))
    return "".join(out)


def pair_page(pair, codes: dict[str, dict[str, str]], settings: dict) -> str:
    e = html.escape
    a, b = e(pair.a), e(pair.b)
    body = [
        f"<h1>Similarity: {a} and {b}</h1>",
        f"<p>Score <b>{pair.score:.2f}</b> (code {pair.code:.2f}, shared mistakes {pair.mistakes:.2f}); "
        f"{'<b>flagged</b>: ' + e('; '.join(pair.reasons)) if pair.flagged else 'not flagged'}.</p>",
        "<p class=note>A flag is a reason to look at the two files, not a verdict: correct solutions "
        "converge, and students may have worked together as allowed. Shown: each student's own code "
        "(the released notebook's lines, blank lines and comments removed); highlighted: the passages "
        "whose tokens match (names, comments and layout ignored), the starter code excepted.</p>",
    ]
    if pair.shared_mistakes:
        rows = "".join(
            f"<tr><td>{e(m.function)}</td><td>{e(m.name)}</td><td>{m.students}</td><td>{m.bits:.1f}</td></tr>"
            for m in pair.shared_mistakes
        )
        body.append(
            "<h2>Named mistakes both make</h2><table class=ev><tr><th>function</th><th>mistake</th>"
            f"<th>students who make it</th><th>rarity (bits)</th></tr>{rows}</table>"
        )
    for m in sorted(pair.parts.values(), key=lambda m: -m.code):
        left = "".join(codes.get(m.part, {}).get(pair.a, []))
        right = "".join(codes.get(m.part, {}).get(pair.b, []))
        sa, sb = m.passages if m.passages else ([], [])
        body.append(
            f"<h2>{e(m.part)}: code similarity {m.code:.2f}</h2><table class=sbs><tr><th>{a}</th><th>{b}</th></tr>"
            f"<tr><td><pre>{_shown(left, sa)}</pre></td><td><pre>{_shown(right, sb)}</pre></td></tr></table>"
        )
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>Similarity: {a} and {b}</title><style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def html_section(report) -> str:
    """The report's section: flagged pairs with links to their pages (every student id escaped)."""
    e = html.escape
    s = report.settings
    head = (
        "<section id=similarity><h2>Similarity</h2>"
        f"<p>{report.compared_pairs} pairs of {report.students} students compared. A flag is a reason to look "
        "at the two files, not a verdict. Thresholds: <code>similarity:</code> in <code>course.yml</code> "
        f"(score ≥ {float(s['threshold']):.2f}"
        + (f", or one part's code ≥ {float(s['part_threshold']):.2f}" if s["part_threshold"] is not None else "")
        + "). "
        "All listed pairs: <code>similarity.csv</code>.</p>"
    )
    flagged = report.flagged
    hidden = _hidden_section(report)
    if not flagged:
        return head + hidden + "<p>No pair is flagged.</p></section>"
    rows = []
    for pair in flagged:
        strongest = pair.strongest_part
        part = f"{e(strongest.part)} ({strongest.code:.2f})" if strongest else ""
        mistakes = e(", ".join(f"{m.function}: {m.mistake}" for m in pair.shared_mistakes[:4]))
        link = f'<a href="{e(pair.page or "", quote=True)}">evidence</a>' if pair.page else ""
        rows.append(
            f"<tr><td>{e(pair.a)}</td><td>{e(pair.b)}</td><td>{pair.score:.2f}</td><td>{pair.code:.2f}</td>"
            f"<td>{part}</td><td>{mistakes}</td><td>{link}</td></tr>"
        )
    return (
        head + hidden + "<table><thead><tr><th>student</th><th>student</th><th>score</th><th>code</th>"
        "<th>most alike part</th><th>shared mistakes</th><th></th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></section>"
    )


def _hidden_section(report) -> str:
    """The part files whose source is hidden, with the reasons (every piece of student text escaped)."""
    hidden = getattr(report, "hidden", [])
    if not hidden:
        return ""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(h.student)}</td><td>{e(h.part)}</td><td><ul>{''.join(f'<li>{e(r)}</li>' for r in h.reasons)}</ul></td></tr>"
        for h in hidden
    )
    return (
        f"<h3>Source hidden: cannot be compared ({len({h.student for h in hidden})} students)</h3>"
        "<p>These files get their graded functions from code that is not in them as source (made at run time, "
        "decoded from a blob, imported): such a file can hold a classmate's exact code and match nothing, "
        "and its grade says nothing about what its author wrote. Read the file.</p>"
        f"<table><thead><tr><th>student</th><th>part</th><th>why</th></tr></thead><tbody>{rows}</tbody></table>"
    )
