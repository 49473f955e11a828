"""The class report (report.html): built from an output folder, and checked in a real browser."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from urllib.parse import unquote

from rnnkit.cli import main
from rnnkit.feedback import write_student
from rnnkit.outputs.store import student_folder
from rnnkit.grading import CaseOutcome, FunctionResult, PartNotes, StudentResult
from rnnkit.report import write_grades_csv
from rnnkit.report_html import read_class, render_report, write_report

from .browser import Browser, chromium_problem

ODD_NAME = 'o<b>dd & "name"'


def _result(function, kind: str) -> FunctionResult:
    if kind == "pass":
        return FunctionResult(function, [CaseOutcome("a random case", True), CaseOutcome("an edge case", True)])
    if kind == "partial":
        return FunctionResult(function, [CaseOutcome("a random case", True), CaseOutcome("an edge case", False, "entries are wrong")])
    if kind == "fail":
        return FunctionResult(function, [CaseOutcome("a random case", False, "shape (3,) instead of (4,)")])
    if kind == "stub":
        return FunctionResult(function, problem="Not implemented yet: the stub still raises NotImplementedError.", not_implemented=True)
    return FunctionResult(function, problem=f"No {function.part}.ipynb or {function.part}.py was handed in.")


def _student(course, name: str, kind_of) -> StudentResult:
    functions = {f.name: _result(f, kind_of(f)) for f in course.functions}
    return StudentResult(name, functions, {p.name: PartNotes(f"{p.name}.ipynb") for p in course.parts})


@pytest.fixture
def graded_folder(course, tmp_path) -> Path:
    """An output folder as `rnnkit grade` leaves it, for five students of known results."""
    students = [
        _student(course, "ada", lambda f: "pass"),
        _student(course, "ben", lambda f: "fail" if f.name == "rnn_backward" else "stub" if f.part == "gru" else "pass"),
        _student(course, "cy", lambda f: "stub"),
        _student(course, "dee", lambda f: "partial" if f.part == "bptt" else "missing" if f.part in ("lstm", "gru") else "pass"),
        _student(course, ODD_NAME, lambda f: "fail" if f.part == "rnn_forward" else "missing"),
    ]
    for student in students:
        write_student(student, course, student_folder(tmp_path, student.student))
    write_grades_csv(students, course, tmp_path / "grades.csv")
    (tmp_path / "mistakes.csv").write_text(  # as rnnkit.report.write_mistakes_csv writes it
        "mistake,function,explanation,students,student_ids\n"
        "bptt-state-off-by-one,rnn_backward,uses s[t] where s[t-1] is needed,2,\"ben\ndee\"\n"
        "softmax-no-shift,softmax,no shift by the maximum: overflow at large logits,12,\"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\"\n"
        "lstm-concat-order,lstm_forward,\"stacks [x; h] instead of [h; x]\",1,ben\n",
        encoding="utf-8",
    )
    return tmp_path


def test_the_report_reads_what_grading_wrote(graded_folder, course):
    data = read_class(graded_folder, course)
    assert [s.student for s in data.students] == ["ada", "ben", "cy", "dee", ODD_NAME]
    by_name = {s.student: s for s in data.students}
    assert by_name["ben"].statuses["rnn_backward"] == "failed" and by_name["ben"].statuses["gru_forward"] == "not_implemented"
    assert by_name["dee"].statuses["rnn_backward"] == "partial" and by_name["dee"].statuses["lstm_forward"] == "missing"
    assert by_name["ada"].percent > 100  # the bonus counts
    assert data.mistakes[0] == ["mistake", "function", "explanation", "students", "student_ids"]


def test_without_mistakes_csv_the_section_is_left_out(graded_folder, course):
    (graded_folder / "mistakes.csv").write_text("mistake,function,explanation,students,student_ids\n", encoding="utf-8")
    assert "No known mistake was recognised" in render_report(read_class(graded_folder, course))
    (graded_folder / "mistakes.csv").unlink()
    page = render_report(read_class(graded_folder, course))
    assert 'id="mistakes"' not in page and 'id="students"' in page


def test_rnnkit_report_rebuilds_the_page_and_explains_a_wrong_folder(graded_folder, tmp_path_factory):
    runner = CliRunner()
    result = runner.invoke(main, ["report", str(graded_folder)])
    assert result.exit_code == 0, result.output
    assert (graded_folder / "report.html").is_file()
    empty = tmp_path_factory.mktemp("empty")
    result = runner.invoke(main, ["report", str(empty)])
    assert result.exit_code != 0 and "grades.csv" in result.output and "rnnkit grade" in result.output


def _png_colours(path: Path) -> set[tuple[int, int, int]]:
    """The distinct RGB colours of a PNG."""
    from matplotlib.image import imread

    pixels = np.round(imread(path)[:, :, :3] * 255).astype(np.int64).reshape(-1, 3)
    packed = np.unique(pixels[:, 0] << 16 | pixels[:, 1] << 8 | pixels[:, 2])
    return {(int(v) >> 16, (int(v) >> 8) & 255, int(v) & 255) for v in packed}


@pytest.mark.skipif(chromium_problem() is not None, reason=f"no browser: {chromium_problem()}")
def test_the_report_renders_in_a_real_browser(graded_folder, course, tmp_path_factory):
    path = write_report(graded_folder, course, generated="2024-01-01 12:00")
    with Browser(width=1200, height=2400) as browser:
        browser.open(path.resolve().as_uri())
        page = browser.run(
            """
            const text = (sel) => [...document.querySelectorAll(sel)].map(e => e.innerText.trim());
            const box = (el) => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
            const segs = [...document.querySelectorAll('#pass-rates rect.seg')];
            return {
              title: document.title,
              headings: text('h2'),
              stats: text('#stats .stat'),
              bands: [...document.querySelectorAll('#histogram rect.bar')].map(r => [r.dataset.band, +r.dataset.count, box(r)[1]]),
              segments: segs.map(r => [r.dataset.function, r.dataset.status, +r.dataset.count, box(r)[0]]),
              students: [...document.querySelectorAll('#students tr.student')].map(tr => ({
                  name: tr.cells[0].innerText, score: tr.cells[1].innerText,
                  link: tr.querySelector('a') && tr.querySelector('a').getAttribute('href'),
                  dots: tr.querySelectorAll('.dot').length })),
              mistakes: text('#mistakes tbody tr'),
              injected: document.querySelectorAll('main b:not(.stat b)').length,
              scripts: document.scripts.length,
              external: [...document.querySelectorAll('[src], link[href]')].length,
              overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
              charts: [...document.querySelectorAll('svg.chart')].map(box),
            };
            """
        )
        shot = browser.screenshot(tmp_path_factory.mktemp("screenshot") / "report.png")

    assert page["title"] == f"{course.title}: class report"
    assert page["headings"] == ["Score distribution", "Pass rate per function", "Most frequent mistakes", "Students"]
    assert "5\nstudents" in page["stats"][0]

    # The histogram: one bar per band, five students in all, bar heights in proportion.
    bands = {band: (count, height) for band, count, height in page["bands"]}
    assert sum(count for count, _ in bands.values()) == 5
    assert bands["100+"][0] == 1 and bands["0–9"][0] == 2  # ada; cy and the odd name
    assert bands["0–9"][1] == pytest.approx(2 * bands["100+"][1], rel=0.02)

    # Pass rates: what each function's bar shows, segment by segment.
    shown = {(f, s): (n, w) for f, s, n, w in page["segments"]}
    assert shown[("rnn_backward", "passed")][0] == 1 and shown[("rnn_backward", "failed")][0] == 1
    assert shown[("rnn_backward", "partial")][0] == 1 and shown[("rnn_backward", "not_implemented")][0] == 1
    assert shown[("rnn_backward", "missing")][0] == 1
    assert shown[("softmax", "passed")][0] == 3
    assert shown[("softmax", "passed")][1] == pytest.approx(3 * shown[("rnn_backward", "passed")][1], rel=0.02)
    assert all(w > 0 for _, w in shown.values())

    # The students, in order, each linked to the feedback file that exists.
    students = page["students"]
    assert [s["name"] for s in students] == ["ada", "ben", "cy", "dee", ODD_NAME]
    assert all(s["dots"] == len(course.functions) for s in students)
    for s in students:
        assert (graded_folder / unquote(s["link"])).is_file()
    assert page["injected"] == 0, "a student's name must show as text, never as markup"

    # The mistakes, most frequent first.
    assert page["mistakes"][0].startswith("softmax-no-shift") and "\t12\t" in page["mistakes"][0]
    assert page["mistakes"][0].endswith("a, b, c, d, e, f and 6 more")
    assert "stacks [x; h] instead of [h; x]" in page["mistakes"][2]

    # Self-contained, and it fits the window.
    assert page["scripts"] == 0 and page["external"] == 0
    assert page["overflow"] <= 0
    assert all(w > 300 and h > 100 for w, h in page["charts"])

    # What a person sees: the pass colour and the fail colour are on the screen.
    colours = _png_colours(shot)
    assert (0x2E, 0x7D, 0x32) in colours and (0xC6, 0x28, 0x28) in colours
