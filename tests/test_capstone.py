"""The capstone (assignments/char_rnn.ipynb), `rnnkit demo`, and the plots of Parts 3 and 4."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import jupytext
import nbformat
import numpy as np
import pytest
from click.testing import CliRunner
from nbclient import NotebookClient

from rnnkit import content, demo
from rnnkit.cli import main
from rnnkit.examples import BOB_MISTAKES, _mutate
from rnnkit.grading import discover

from .conftest import reference_source

#: Sizes that make the capstone take seconds: what the kit's tests and nothing else use.
SMALL = {"RNNKIT_DEMO_STEPS": "12", "RNNKIT_DEMO_HIDDEN": "12", "RNNKIT_DEMO_SAMPLE_LENGTH": "40"}


def _outputs(notebook) -> tuple[str, list[dict]]:
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    text = "\n".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    return text, outputs


def test_the_capstone_is_built_ungraded_and_never_graded(course, tmp_path):
    assert [e.name for e in course.extras] == ["char_rnn"]
    assert "char_rnn" not in {p.name for p in course.parts}
    notebook = nbformat.read(course.assignments_dir / "char_rnn.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["rnnkit"] == {"extra": "char_rnn", "graded": False, "generated_from": "solutions/char_rnn.py"}
    assert not content.solution_regions(content.read_source(course.solutions_dir, "char_rnn"))
    # A student who hands it in is graded on the parts only.
    (tmp_path / "ann").mkdir()
    shutil.copy(course.assignments_dir / "char_rnn.ipynb", tmp_path / "ann")
    (submission,) = discover(tmp_path, course)
    assert submission.files == {}


def test_the_capstone_runs_top_to_bottom_on_the_reference_solutions(course, tmp_path, monkeypatch):
    """As a student would run it: in the folder of their completed notebooks (here: the references)."""
    for name, value in SMALL.items():
        monkeypatch.setenv(name, value)
    shutil.copy(course.assignments_dir / "char_rnn.ipynb", tmp_path)
    for part in course.parts:
        if part.name in ("bptt", "gru"):  # completed notebooks, check and plot cells included
            nbformat.write(jupytext.read(content.source_path(course.solutions_dir, part.name)), tmp_path / f"{part.name}.ipynb")
        else:  # completed modules
            (tmp_path / f"{part.name}.py").write_text(reference_source(course, part.name), encoding="utf-8")
    notebook = nbformat.read(tmp_path / "char_rnn.ipynb", as_version=4)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    seconds = time.perf_counter() - start
    printed, outputs = _outputs(notebook)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert "13 of 13 functions are yours." in printed
    assert "rnn_backward" in printed and "from bptt.ipynb" in printed and "from rnn_forward.py" in printed
    for model in ("vanilla RNN", "LSTM", "GRU"):
        assert f"--- {model}, before training ---" in printed
        assert f"--- {model}, after 12 updates ---" in printed
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 1, "one plot: the training curves"
    assert "NOT IMPLEMENTED" not in printed and "PASS" not in printed, "the parts' check cells are not run"
    assert seconds < 60


def test_unfinished_parts_fall_back_to_the_kits_stand_ins_with_a_reason(course, tmp_path, capsys):
    (tmp_path / "rnn_forward.py").write_text(reference_source(course, "rnn_forward"), encoding="utf-8")
    bptt = _mutate(reference_source(course, "bptt"), "bptt", BOB_MISTAKES["bptt"])
    (tmp_path / "bptt.py").write_text(bptt, encoding="utf-8")
    stubbed_step = '\n\ndef lstm_step_forward(x_t, h_prev, c_prev, params):\n    raise NotImplementedError("Not implemented yet.")\n'
    (tmp_path / "lstm.py").write_text(reference_source(course, "lstm") + stubbed_step, encoding="utf-8")
    (tmp_path / "gru.ipynb").write_text("{ not a notebook", encoding="utf-8")
    fns = demo.load_functions(tmp_path)
    shown = capsys.readouterr().out
    choices = fns.choices
    assert all(choices[n].yours for n in ("softmax", "rnn_step_forward", "rnn_forward", "cross_entropy_loss", "clip_gradient_norm"))
    assert not choices["rnn_backward"].yours and "different numbers" in choices["rnn_backward"].note
    assert "no softmax_derivative.ipynb or softmax_derivative.py" in choices["softmax_cross_entropy_grad"].note
    assert choices["lstm_step_forward"].note == "not done yet (still a stub)"
    assert choices["lstm_forward"].note == "not done yet: it calls lstm_step_forward, which is still a stub"
    assert choices["lstm_backward"].yours
    assert "not a valid notebook" in choices["gru_forward"].note and "not a valid notebook" in choices["gru_backward"].note
    assert "6 of 13 functions are yours." in shown and "stand-in is used, for the reason given" in shown
    # Whatever was chosen trains: the stand-ins are exact.
    x, y = np.eye(4)[[0, 1, 2]], np.array([1, 2, 3])
    rng = np.random.default_rng(0)
    U, W, V = rng.standard_normal((3, 4)), rng.standard_normal((3, 3)), rng.standard_normal((4, 3))
    assert set(fns.rnn_backward(x, y, U, W, V)) == {"U", "W", "V"}


def test_the_stand_ins_agree_with_the_reference_everywhere(references):
    for part, names in demo.USED.items():
        for name in names:
            assert demo.why_not_usable(name, getattr(references[part], name)) is None, name
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((6, 3)), rng.integers(0, 5, 6)
    U, W, V, s0 = rng.standard_normal((4, 3)), rng.standard_normal((4, 4)), rng.standard_normal((5, 4)), rng.standard_normal(4)
    for truncate in (None, 0, 1, 2, 9):
        ours = demo.STANDINS["rnn_backward"](x, y, U, W, V, s0, truncate)
        theirs = references["bptt"].rnn_backward(x, y, U, W, V, s0, truncate)
        assert all(np.allclose(ours[k], theirs[k]) for k in "UWV"), truncate
    z = np.array([-1000.0, -20.0, 0.0, 3.0, 1000.0])
    assert np.allclose(demo.STANDINS["sigmoid"](z), references["lstm"].sigmoid(z), rtol=1e-6, atol=1e-12)


def test_the_stand_ins_are_not_the_reference_code(course):
    """Like the leak test of test_build: no line of a reference solution region appears in demo.py."""
    ours = {line.strip() for line in Path(demo.__file__).read_text(encoding="utf-8").splitlines()}
    for part in course.parts:
        for region in content.solution_regions(content.read_source(course.solutions_dir, part.name)):
            for line in region.lines:
                line = line.strip()
                if len(line) > 8 and not line.startswith("#"):
                    assert line not in ours, f"demo.py repeats a line of solutions/{part.name}.py: {line}"


def test_rnnkit_demo_trains_and_writes_its_plot(tmp_path, monkeypatch):
    for name, value in SMALL.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "out"), "--steps", "8"])
    assert result.exit_code == 0, result.output
    png = tmp_path / "out" / "char_rnn_loss.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "reference solutions" in result.output
    assert "--- GRU, after 8 updates ---" in result.output
    assert f"Wrote {png}" in result.output


def test_the_demo_module_refuses_to_load_while_grading(monkeypatch):
    import importlib
    import sys

    monkeypatch.setenv("RNNKIT_GRADING", "1")
    saved = sys.modules.pop("rnnkit.demo")
    try:
        with pytest.raises(ImportError, match="not available while grading"):
            importlib.import_module("rnnkit.demo")
    finally:
        sys.modules["rnnkit.demo"] = saved


# --------------------------------------------------------------------------- the plots of Parts 3 and 4


@pytest.mark.parametrize("part, needs", [("bptt", "jacobian_product"), ("lstm", "lstm_forward")])
def test_plot_cells_are_skipped_by_the_reference_and_draw_with_the_students_functions(course, references, part, needs, monkeypatch):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    source = content.read_source(course.solutions_dir, part)
    plot_cells = [c for c in source.cells if content.is_plot_cell(c)]
    assert len(plot_cells) == 1
    assert "illustration" not in vars(references[part]), "load_reference leaves plot cells out"
    assert not any(content.split_regions(c.source) != [c.source] for c in plot_cells), "no solution region in a plot cell"
    code = plot_cells[0].source

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    namespace = dict(vars(references[part]))
    exec(compile(code, f"{part} plot", "exec"), namespace)  # noqa: S102 - the kit's own notebook code
    (figure,) = shown
    lines = figure.axes[0].get_lines()
    curves = [line for line in lines if len(line.get_xdata()) > 2]
    assert len(curves) == 4
    for curve in curves:
        y = np.asarray(curve.get_ydata())
        assert y[0] == pytest.approx(1.0) and np.all(np.isfinite(y)) and np.all(y > 0)
    ends = [float(np.asarray(c.get_ydata())[-1]) for c in curves]
    assert ends == sorted(ends), "a larger scale or forget bias lets more gradient through"
    assert ends[0] < 1e-6 and (ends[-1] > 1e3 if part == "bptt" else ends[-1] > 0.5)
    plt.close("all")

    # With the student's function still a stub: one sentence, no traceback, nothing drawn.
    def stub(*args):
        raise NotImplementedError("Not implemented yet. Hint: ...")

    namespace[needs] = stub
    shown.clear()
    exec(compile(code, f"{part} plot", "exec"), namespace)  # noqa: S102
    assert not shown

    # While grading: nothing runs at all.
    monkeypatch.setenv("RNNKIT_GRADING", "1")
    namespace[needs] = lambda *a: pytest.fail("a plot ran while grading")
    exec(compile(code, f"{part} plot", "exec"), namespace)  # noqa: S102


@pytest.mark.parametrize(
    "extras, words",
    [
        ([{"name": "bptt", "title": "x"}], "bptt is both a part and an extra"),
        ([{"name": "char_rnn", "title": "x"}, {"name": "char_rnn", "title": "y"}], "an extra is listed twice"),
        ([{"name": "char_rnn"}], "'title' is a required property"),
    ],
)
def test_extras_in_course_yml_are_validated(extras, words):
    import yaml

    from rnnkit.course import CourseError, parse_course

    from .conftest import ROOT

    data = yaml.safe_load((ROOT / "course.yml").read_text())
    data["extras"] = extras
    with pytest.raises(CourseError, match=re.escape(words)):
        parse_course(data, ROOT)
    del data["extras"]
    assert parse_course(data, ROOT).extras == ()
