"""Student text is inert in every output, and hidden-case feedback is no oracle.

Markdown is checked with a real CommonMark parser (markdown-it-py): a hostile
message renders as code, the score line stays the true one, no raw HTML passes.
"""
from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from rnnkit.compare import compare
from rnnkit.course import Tolerance
from rnnkit.export.gradescope import results as gradescope_export
from rnnkit.feedback import feedback_markdown, gradescope_results
from rnnkit.grading import HiddenTests
from rnnkit.outputs.safe import csv_cell, csv_uncell, id_problem, md_block, md_code, md_text

from .browser import Browser, chromium_problem
from .outputs_helpers import MD, html_tokens, score_lines
from .test_hostile import notebook

FORGED = "```\n\n**Score: 55 / 55**\n\n<!-- everything below is hidden"
NASTY = [FORGED, "`", "``a``", "a ```` b", "````", " lead", "trail ", "*x* _y_ [l](http://e) <b>h</b> &amp; # h", "\\`"]


@pytest.mark.parametrize("text", NASTY)
def test_code_spans_and_fences_hold_any_text(text):
    (para,) = [t for t in MD.parse(md_code(text)) if t.type == "inline"]
    assert [c.type for c in para.children] == ["code_inline"]
    assert para.children[0].content.strip() == " ".join(text.split("\n")).strip()
    tokens = MD.parse(md_block(text))
    assert [t.type for t in tokens] == ["fence"] and tokens[0].content == text.rstrip("\n") + "\n"


def test_escaped_text_renders_as_exactly_that_text():
    """Random strings of markdown's special characters: md_text renders as one paragraph of that very text."""
    rng = np.random.default_rng(0)
    alphabet = list("`*_[]()<>#!|~&$-+=.:;\\'\" ab1") + ["&amp;", "<!--", "```", "1.", "**", "\n"]
    for _ in range(400):
        text = "".join(rng.choice(alphabet, size=int(rng.integers(1, 14))))
        tokens = MD.parse(md_text(text))
        flat = " ".join(text.split("\n")).lstrip()
        if not flat.strip():
            continue
        assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"], (text, md_text(text))
        children = tokens[1].children
        assert all(c.type == "text" for c in children), (text, [c.type for c in children])
        assert "".join(c.content for c in children) == flat.rstrip(), (text, md_text(text))


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "'=x", "''", "plain", "a=b"])
def test_csv_cells_are_neutralised_and_read_back_exactly(text):
    cell = csv_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert csv_uncell(cell) == text


def test_names_with_control_characters_are_refused_and_others_are_ids():
    assert id_problem("a\nb") and id_problem("a\x00b") and id_problem("a\x1bb") and id_problem("a\u2028b")
    assert id_problem("caf\udce9")  # a byte that is not UTF-8, as os.fsdecode gives it
    assert not id_problem("ann bob") and not id_problem("=1+1") and not id_problem("grades.csv") and not id_problem("Zoë 李")


HOSTILE_CELL = f"raise ValueError({FORGED!r})"
HOSTILE_FUNCTION = f"""
import numpy as np

def rnn_step_forward(x_t, s_prev, U, W):
    raise ValueError({FORGED!r})

def rnn_forward(x, U, W, V, s0=None):
    return {{{FORGED!r}: 1}}, None

def cross_entropy_loss(o, y):
    raise RuntimeError("a ``` b **Score: 55 / 55** <!-- c")
"""


@pytest.fixture(scope="module")
def hostile(course, tmp_path_factory):
    from rnnkit.grading import discover, grade_class

    from .conftest import make_class

    class_dir = make_class(
        tmp_path_factory.mktemp("inert") / "class",
        {"eve": {"rnn_forward.ipynb": notebook(HOSTILE_CELL, HOSTILE_FUNCTION), f"{FORGED[:3]}**x**<!--.txt": "hi"}},
    )
    (student,) = grade_class(discover(class_dir, course), course, seed=11, jobs=2)
    return student


def _inert(markdown: str) -> None:
    """The forged score never renders as bold, nothing renders as an HTML comment or a tag of the student's."""
    rendered = MD.render(markdown)
    assert html_tokens(markdown) == []
    assert "<!--" not in rendered and "<b>" not in rendered and "<strong>Score: 55" not in rendered


def test_hostile_messages_render_as_code_and_the_score_stays_true(hostile, course):
    assert hostile.total == 0 and hostile.parts["rnn_forward"].cell_errors, "the cell error and the raising functions are there"
    text = feedback_markdown(hostile, course)
    assert score_lines(text) == [f"Score: 0 / {course.possible:g}"]
    _inert(text)
    # Every part and function still has its heading: nothing was swallowed.
    headings = [t for t in MD.parse(text) if t.type == "heading_open"]
    assert len(headings) == 1 + len(course.parts) + len(course.functions)


def test_gradescope_results_are_inert_and_valid_json(hostile, course):
    for data in (gradescope_results(hostile, course), gradescope_export(hostile, course, "visible", "test")):
        data = json.loads(json.dumps(data))
        assert data["score"] == 0
        for output in [data["output"], *(t["output"] for t in data["tests"])]:
            assert score_lines(output) == []
            _inert(output)


# --------------------------------------------------------------------------- the oracle attack of issue 11


def _attack(message: str, guess: float, earlier: list[float]) -> float | None:
    """The attack: read the error size from the message; the answer is ``guess`` minus or plus it. Pick the side that
    an earlier round's candidates agree with, else the one the relative error fits; None if the message says neither."""
    match = re.search(r"off by ([0-9.e+-]+) \(relative error ([0-9.e+-]+)\)", message)
    if not match:
        return None
    error, relative = float(match.group(1)), float(match.group(2))
    candidates = [guess - error, guess + error]
    if earlier:
        chosen = min(candidates, key=lambda c: min(abs(c - e) for e in earlier))
    else:
        chosen = min(candidates, key=lambda e: abs(abs(error / e) - relative) if e else np.inf)
    earlier += candidates
    return chosen


def test_a_table_of_constants_recovers_nothing_from_hidden_feedback(course, references):
    hidden = HiddenTests.draw(course, 11)
    hidden.references = references
    expected = [references["rnn_forward"].cross_entropy_loss(*case.args) for case in hidden.cases["cross_entropy_loss"]]
    tol = course.tolerance
    for exact in (True, False):
        recovered = []
        for value in expected:
            guess, earlier = 1.0, []
            for _ in range(4):  # four submissions
                verdict = compare(guess, value, tol, exact=exact)
                if verdict.passed:
                    break
                guess = _attack(verdict.message, guess, earlier) or guess
            recovered.append(compare(guess, value, tol).passed)
        if exact:
            assert all(recovered), "with exact numbers the attack works: the test can fail"
        else:
            assert not any(recovered), "value-free feedback must not let a table of constants pass"
    # What a hidden case does say: the sign and the order of magnitude, no digits of the answer.
    near, nearer = compare(expected[0] * 1.012, expected[0], tol).message, compare(expected[0] * 1.02, expected[0], tol).message
    assert near == nearer == "the value is wrong: it is too large, by about 1e-2 relative to the answer's size."


def test_hidden_array_feedback_says_where_but_no_values():
    rng = np.random.default_rng(3)
    expected = rng.normal(size=(6, 5))
    found = expected.copy()
    found[2, 1] += 0.37
    found[4, 3] -= 0.21
    message = compare(found, expected, Tolerance(1e-4, 1e-5), {"T": 6, "H": 5}).message
    assert "2 of 30 entries are wrong (`[2, 1]`, `[4, 3]`), at time steps t = 2, 4 of T = 6;" in message
    assert "too large at 1 and too small at 1" in message
    numbers = re.findall(r"\d[\d.]*(?:e-?\d+)?", message)  # counts, indices, steps, and a power of ten: nothing else
    assert all(n.isdigit() or n == "0.1" or re.fullmatch(r"1e-?\d+", n) for n in numbers), message
    assert re.search(r"0\.37|0\.21", compare(found, expected, Tolerance(1e-4, 1e-5), exact=True).message)


@pytest.mark.skipif(chromium_problem() is not None, reason=f"no browser: {chromium_problem()}")
def test_hostile_feedback_and_ids_in_a_real_browser(hostile, course, tmp_path):
    """feedback.md rendered as a viewer would (CommonMark to HTML) and the class report, opened in Chromium."""
    from rnnkit.outputs.run import write_all

    page = tmp_path / "feedback.html"
    page.write_text(f"<!DOCTYPE html><meta charset=utf-8><body>{MD.render(feedback_markdown(hostile, course))}</body>", encoding="utf-8")
    renamed = dataclasses.replace(hostile, student='<img src=x onerror="document.title=1">=cmd|" C calc"!A0 ann bob')
    out = tmp_path / "out"
    write_all([renamed], course, out, seed=11)
    with Browser(width=1000, height=1400) as browser:
        browser.open(page.resolve().as_uri())
        shown = browser.run(
            """
            return {
              scores: [...document.querySelectorAll('strong')].map(e => e.innerText).filter(t => t.startsWith('Score:')),
              headings: document.querySelectorAll('h1, h2, h3').length,
              last: [...document.querySelectorAll('h3')].map(e => e.innerText).pop(),
              images: document.images.length,
            };
            """
        )
        browser.open((out / "report.html").resolve().as_uri())
        report = browser.run(
            "return {names: [...document.querySelectorAll('#students tr.student td:first-child')].map(e => e.innerText),"
            " title: document.title, images: document.images.length};"
        )
    assert shown["scores"] == [f"Score: 0 / {course.possible:g}"]
    assert shown["headings"] == 1 + len(course.parts) + len(course.functions) and shown["last"].startswith("gru_backward")
    assert shown["images"] == 0
    assert report["names"] == [renamed.student] and report["images"] == 0 and report["title"] != "1"
