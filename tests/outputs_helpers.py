"""Checks shared by the output tests: a graded folder is complete, and its files agree with each other."""
from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt

from rnnkit.outputs.safe import csv_uncell

MD = MarkdownIt("commonmark")


class _ReportRows(HTMLParser):
    """The rows of report.html's student table: (name, score text, link), and every element seen in <main>."""

    def __init__(self):
        super().__init__()
        self.rows: list[list] = []
        self.tags: list[str] = []
        self._row = None
        self._cell = None
        self.sections: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "section" and attrs.get("id"):
            self.sections.append(attrs["id"])
        if tag == "tr" and attrs.get("class") == "student":
            self._row = {"cells": [], "link": None}
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "a" and self._row is not None:
            self._row["link"] = attrs.get("href")

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row["cells"].append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None


def read_report(path: Path) -> _ReportRows:
    parser = _ReportRows()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def grades_rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return {csv_uncell(r[0]): dict(zip(rows[0], r)) for r in rows[1:]}


def mistakes_rows(out: Path) -> list[dict[str, str]]:
    with open(out / "mistakes.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def score_lines(markdown: str) -> list[str]:
    """The text of every bold run that starts with "Score:" in the rendered markdown (a real CommonMark parser)."""
    tokens = MD.parse(markdown)
    found = []
    for token in tokens:
        if token.type != "inline":
            continue
        children = token.children or []
        for i, child in enumerate(children):
            if child.type == "strong_open" and i + 1 < len(children) and children[i + 1].type == "text":
                if children[i + 1].content.startswith("Score:"):
                    found.append(children[i + 1].content)
    return found


def html_tokens(markdown: str) -> list[str]:
    """Raw HTML the markdown would pass through (there must be none)."""
    out = []
    for token in MD.parse(markdown):
        if token.type == "html_block":
            out.append(token.content)
        for child in token.children or []:
            if child.type == "html_inline":
                out.append(child.content)
    return out


def assert_consistent(out: Path, ids: set[str], course) -> dict[str, float]:
    """Every file of ``out`` is there, whole, and says the same about each of ``ids``; returns the totals."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is True and manifest["finished"]
    assert set(manifest["students"]) == ids
    grades = grades_rows(out)
    assert set(grades) == ids, f"grades.csv has {sorted(grades)}"
    totals = {}
    for student in ids:
        folder = out / "students" / student
        total = float(grades[student]["total"])
        assert sum(float(grades[student][f.name]) for f in course.functions) == pytest.approx(total)
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        assert results["score"] == pytest.approx(total), student
        for test, fn in zip(results["tests"], course.functions):
            assert float(grades[student][fn.name]) == pytest.approx(test["score"]), (student, fn.name)
        record = json.loads((folder / "grade.json").read_text(encoding="utf-8"))
        assert record["total"] == pytest.approx(total) and record["student"] == student
        feedback = (folder / "feedback.md").read_text(encoding="utf-8")
        assert score_lines(feedback) == [f"Score: {total:g} / {course.possible:g}"], (student, score_lines(feedback))
        totals[student] = total
    for row in mistakes_rows(out):
        named = [csv_uncell(x) for x in row["student_ids"].split("\n")]
        assert set(named) <= ids and len(named) == int(row["students"]), row
    report = read_report(out / "report.html")
    shown = {row["cells"][0]: row for row in report.rows}
    assert set(shown) == ids, f"report.html shows {sorted(shown)}"
    for student, row in shown.items():
        assert re.match(rf"{re.escape(f'{totals[student]:g}')} / ", row["cells"][1]), (student, row["cells"][1])
        assert row["link"] and (out / unquote(row["link"])).resolve() == (out / "students" / student / "feedback.md").resolve()
    assert "incomplete" not in report.sections
    assert not list(out.rglob("*.tmp")), "temporary files left behind"
    return totals


def csv_text(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
