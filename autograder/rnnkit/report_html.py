"""The class report: ``OUT_DIR/report.html``, one self-contained page for the instructor.

Built only from the files grading leaves in ``OUT_DIR`` (read by :mod:`.report_data`),
so ``rnnkit report OUT_DIR`` can rebuild it at any time:

* ``grades.csv``: the points of every student per function, total and possible
  (ids read back through :func:`~.outputs.safe.csv_uncell`);
* ``students/<id>/results.json``: per function, passed, partly passed, not
  implemented, or not handed in;
* ``students/<id>/feedback.md``: linked from the per-student table;
* ``mistakes.csv`` (when present): the most frequent mistakes;
* ``manifest.json`` (when present): whether the run that wrote the folder
  finished (a banner says when it did not) and the folders refused as ids.

The page has no scripts and loads nothing: its CSS is inline and its charts
are inline SVG. Every name that comes from a file is escaped.
"""
from __future__ import annotations

import datetime as _dt
import html
import re
import statistics
from pathlib import Path
from urllib.parse import quote

from .course import Course
from .outputs.files import write_atomic
from .outputs.safe import csv_uncell
from .outputs.store import STUDENTS
from .report_data import MISTAKES_FILE, STATUSES, ClassData, number, read_class
from .report_style import CSS as _CSS

REPORT_FILE = "report.html"


# --------------------------------------------------------------------------- charts (inline SVG)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _inline_code(text: str) -> str:
    """Escaped text, with markdown's `code` spans as <code> (the explanations are written for feedback.md)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(text))


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x - round(x, 2)) < 1e-9 else f"{x:.2f}"


def histogram_svg(percents: list[float]) -> str:
    """Students per band of 10 % of the possible points; a last band for full marks (bonus included)."""
    bands = [0] * 11
    for p in percents:
        bands[10 if p >= 100 - 1e-9 else max(0, min(9, int(p // 10)))] += 1
    labels = [f"{10 * i}–{10 * i + 9}" for i in range(10)] + ["100+"]
    width, height, left, bottom, top = 640, 260, 40, 40, 20
    plot_w, plot_h = width - left - 10, height - bottom - top
    most = max(bands) or 1
    bar_w = plot_w / len(bands)
    parts = [
        f'<svg class="chart" id="histogram" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="Score distribution: students per band of the possible points">'
    ]
    for tick in range(0, most + 1, max(1, most // 5 or 1)):
        y = top + plot_h - plot_h * tick / most
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{tick}</text>')
    for i, count in enumerate(bands):
        h = plot_h * count / most
        x = left + i * bar_w + 3
        y = top + plot_h - h
        colour = "#2e7d32" if i == 10 else "#3f6fb5"
        parts.append(
            f'<rect class="bar" data-band="{_e(labels[i])}" data-count="{count}" x="{x:.1f}" y="{y:.1f}" width="{bar_w - 6:.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>{_e(labels[i])} %: {count} student{"s" if count != 1 else ""}</title></rect>'
        )
        if count:
            parts.append(f'<text x="{x + (bar_w - 6) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" class="count">{count}</text>')
        parts.append(f'<text x="{x + (bar_w - 6) / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">{_e(labels[i])}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle" class="axis">% of the possible points</text>')
    parts.append("</svg>")
    return "".join(parts)


def pass_rate_svg(data: ClassData) -> str:
    """One stacked bar per function: the share of students in each status."""
    count = len(data.students) or 1
    row_h, label_w, bar_w, right = 22, 230, 360, 60
    height = row_h * len(data.functions) + 8
    width = label_w + bar_w + right
    parts = [
        f'<svg class="chart" id="pass-rates" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="Pass rate per function">'
    ]
    for row, fn in enumerate(data.functions):
        y = 4 + row * row_h
        label = fn.name + (" (bonus)" if fn.bonus else "")
        parts.append(f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end" class="fn">{_e(label)}</text>')
        x = float(label_w)
        for status, (words, colour) in STATUSES.items():
            n = sum(1 for s in data.students if s.statuses.get(fn.name) == status)
            if not n:
                continue
            w = bar_w * n / count
            parts.append(
                f'<rect class="seg {status}" data-function="{_e(fn.name)}" data-status="{status}" data-count="{n}" x="{x:.1f}" y="{y}" '
                f'width="{w:.1f}" height="{row_h - 6}" fill="{colour}"><title>{_e(fn.name)}: {n} {words}</title></rect>'
            )
            x += w
        passed = sum(1 for s in data.students if s.statuses.get(fn.name) == "passed")
        parts.append(f'<text x="{label_w + bar_w + 8}" y="{y + 14}" class="rate">{100 * passed / count:.0f}%</text>')
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- the page



def _legend() -> str:
    return '<div class="legend">' + "".join(f'<span><i style="background:{c}"></i>{_e(w)}</span>' for w, c in STATUSES.values()) + "</div>"


def _mistakes_section(data: ClassData, limit: int = 15) -> str:
    """The rows of mistakes.csv, most frequent first (``mistake,function,explanation,students,student_ids``).

    Any other columns are shown as they are; a column of student ids is cut short.
    """
    if data.mistakes is None:
        return ""
    header, rows = data.mistakes
    names = [h.strip().lower() for h in header]
    count_col = next((i for i, h in enumerate(names) if h in ("students", "count", "n", "times", "occurrences", "frequency")), None)
    ids_col = next((i for i, h in enumerate(names) if h in ("student_ids", "ids", "who")), None)
    if count_col is not None:
        rows = sorted(rows, key=lambda r: -number(r[count_col]) if count_col < len(r) else 0)
    shown = rows[:limit]
    if not shown:
        return (
            '<section id="mistakes"><h2>Most frequent mistakes</h2><p class="note">No known mistake was recognised '
            f'in this class (<a href="{MISTAKES_FILE}">{MISTAKES_FILE}</a> is empty).</p></section>'
        )

    def cell(i: int, value: str) -> str:
        if i == count_col:
            return f'<td class="num">{_e(value)}</td>'
        if i == ids_col:  # one id per line (rnnkit.report.mistakes_csv_text): never split an id
            ids = [csv_uncell(line) for line in value.split("\n") if line]
            more = f" and {len(ids) - 6} more" if len(ids) > 6 else ""
            return '<td class="ids">' + ", ".join(f'<span class="id">{_e(x)}</span>' for x in ids[:6]) + _e(more) + "</td>"
        if names[i] in ("mistake", "function") if i < len(names) else False:
            return f"<td><code>{_e(value)}</code></td>"
        return f"<td>{_inline_code(value)}</td>"

    labels = {"student_ids": "who"}
    head = "".join(f'<th{" class=num" if i == count_col else ""}>{_e(labels.get(names[i], h))}</th>' for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell(i, v) for i, v in enumerate(row[: len(header)])) + "</tr>" for row in shown)
    more = f'<p class="note">The {len(shown)} most frequent of {len(rows)} recognised; all of them are in <a href="{MISTAKES_FILE}">{MISTAKES_FILE}</a>.</p>'
    return (
        f'<section id="mistakes"><h2>Most frequent mistakes</h2><div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>{more}</section>"
    )


def _students_section(data: ClassData) -> str:
    parts_in_order = list(dict.fromkeys(fn.part for fn in data.functions))
    head = ['<th>student</th><th class="num">score</th><th class="num">%</th>']
    for part in parts_in_order:
        available = sum(fn.points for fn in data.functions if fn.part == part and not fn.bonus)
        name = _e(part).replace("_", "_<wbr>")
        head.append(f'<th class="num part">{name}<br><span class="note">/ {_fmt(available)}</span></th>')
    head.append("<th>functions</th><th>feedback</th>")
    body = []
    for s in sorted(data.students, key=lambda r: r.student.lower()):
        cells = [f"<td>{_e(s.student)}</td>", f'<td class="num">{_fmt(s.total)} / {_fmt(s.possible)}</td>', f'<td class="num">{s.percent:.0f}</td>']
        for part in parts_in_order:
            got = sum(s.scores.get(fn.name, 0.0) for fn in data.functions if fn.part == part)
            cells.append(f'<td class="num">{_fmt(got)}</td>')
        dots, previous = [], None
        for fn in data.functions:
            status = s.statuses.get(fn.name, "failed")
            words, colour = STATUSES[status]
            gap = " part-gap" if previous is not None and fn.part != previous else ""
            dots.append(f'<span class="dot{gap}" style="background:{colour}" title="{_e(fn.name)}: {_e(words)}, {_fmt(s.scores.get(fn.name, 0.0))} pt"></span>')
            previous = fn.part
        cells.append(f'<td class="dots">{"".join(dots)}</td>')
        link = f'<a href="{STUDENTS}/{_e(quote(s.student, safe=""))}/feedback.md">feedback.md</a>' if s.has_feedback else '<span class="note">none</span>'
        cells.append(f"<td>{link}</td>")
        body.append('<tr class="student">' + "".join(cells) + "</tr>")
    return (
        '<section id="students"><h2>Students</h2>'
        '<p class="note">Points per part; one square per function in course order (hover for its name); '
        "each student's feedback, as they received it.</p>"
        f'{_legend()}<div class="scroll"><table><thead><tr>{"".join(head)}</tr></thead><tbody>{"".join(body)}</tbody></table></div></section>'
    )


def _state_section(data: ClassData) -> str:
    """A warning when the run that wrote the folder did not finish; the folders refused as student ids."""
    out = []
    state = data.state
    if state and not state.get("complete", True):
        out.append(
            '<section id="incomplete" class="warning"><h2>This folder is from a grading run that did not finish</h2>'
            f'<p>A run started {_e(state.get("started") or "at an unknown time")} has not completed: some students\' files '
            "may be newer than this page and grades.csv. Run <code>rnnkit grade</code> into this folder again: it re-grades "
            "what is missing or out of date and makes every file agree.</p></section>"
        )
    refused = state.get("refused") or []
    if refused:
        items = "".join(f"<li>{_e(r.get('reason', r.get('name', '')))}</li>" for r in refused if isinstance(r, dict))
        out.append(f'<section id="refused"><h2>Folders not graded</h2><ul>{items}</ul></section>')
    return "\n".join(out)


def render_report(data: ClassData, generated: str | None = None) -> str:
    """The report page (HTML text) for ``data``."""
    generated = generated or _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    n = len(data.students)
    percents = [s.percent for s in data.students]
    totals = [s.total for s in data.students]
    possible = data.students[0].possible if data.students else 0.0
    full = sum(1 for p in percents if p >= 100 - 1e-9)
    stats = [
        (str(n), "students"),
        (f"{statistics.mean(totals):.1f} / {_fmt(possible)}" if n else "–", "mean score"),
        (f"{statistics.median(totals):.1f}" if n else "–", "median score"),
        (f"{_fmt(min(totals))} – {_fmt(max(totals))}" if n else "–", "lowest – highest"),
        (f"{full}", "with full marks"),
    ]
    stat_html = "".join(f'<div class="stat"><b>{_e(v)}</b><span>{_e(k)}</span></div>' for v, k in stats)
    weakest = sorted(
        (fn for fn in data.functions if not fn.bonus),
        key=lambda fn: sum(1 for s in data.students if s.statuses.get(fn.name) == "passed"),
    )[:3]
    weakest_html = ", ".join(f"<code>{_e(fn.name)}</code>" for fn in weakest)
    body = f"""
<main>
<header>
  <h1>{_e(data.title)}</h1>
  <p>Class report · generated {_e(generated)} · from <a href="grades.csv">grades.csv</a> and each student's results</p>
  <div class="stats" id="stats">{stat_html}</div>
</header>
{_state_section(data)}
<section id="distribution">
  <h2>Score distribution</h2>
  <p class="note">Students per band of the {_fmt(possible)} possible points; bonus points count, so a score can pass 100 %.</p>
  {histogram_svg(percents)}
</section>
<section id="functions">
  <h2>Pass rate per function</h2>
  <p class="note">The share of students whose function passed every hidden case (the percentage on the right).
  Fewest passes among the required functions: {weakest_html or "–"}.</p>
  {_legend()}
  {pass_rate_svg(data)}
</section>
{_mistakes_section(data)}
{data.similarity_html}
{_students_section(data)}
</main>"""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(data.title)}: class report</title>\n<style>{_CSS}</style>\n</head>\n<body>{body}\n</body>\n</html>\n"
    )


def write_report(out_dir: Path, course: Course | None = None, generated: str | None = None, state: dict | None = None) -> Path:
    """Write ``out_dir/report.html`` whole (temporary file, then rename) from the files in ``out_dir``; return its path.

    ``state`` (``complete``, ``started``, ``refused``) overrides what ``manifest.json`` says: a run writes the page
    just before it marks the manifest complete.
    """
    out_dir = Path(out_dir)
    data = read_class(out_dir, course)
    if state is not None:
        data.state = state
    return write_atomic(out_dir / REPORT_FILE, render_report(data, generated))
