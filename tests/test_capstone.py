"""The capstone (assignments/char_rnn.ipynb), `rnnkit demo`, and the plots of Parts 3 and 4."""
from __future__ import annotations

import re
import shutil
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
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed, outputs = _outputs(notebook)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert "13 of 13 functions are usable." in printed
    assert "usable: your rnn_backward, from bptt.ipynb" in printed and "from rnn_forward.py" in printed
    assert "skipped" not in printed and "stopped" not in printed
    for model in ("vanilla RNN", "LSTM", "GRU"):
        assert f"The {model} trains with your functions." in printed
        assert f"--- {model}, before training ---" in printed
        assert f"--- {model}, after 12 updates ---" in printed
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 1, "one plot: the training curves"
    assert "NOT IMPLEMENTED" not in printed and "PASS" not in printed, "the parts' check cells are not run"


def _capstone(course, functions, tmp_path, capsys) -> tuple[str, list[Path]]:
    """The capstone's own code cells, run in-process with ``functions`` (as `rnnkit demo` runs them)."""
    written = demo.run_capstone(course.solutions_dir, tmp_path / "out", steps=6, functions=functions)
    return capsys.readouterr().out, written


def test_with_only_part_1_done_the_vanilla_rnn_writes_but_nothing_trains(course, tmp_path, capsys, monkeypatch):
    for name, value in SMALL.items():
        monkeypatch.setenv(name, value)
    for part in course.parts:  # the untouched notebooks, as students get them
        shutil.copy(course.assignments_dir / f"{part.name}.ipynb", tmp_path)
    (tmp_path / "rnn_forward.ipynb").unlink()
    (tmp_path / "rnn_forward.py").write_text(reference_source(course, "rnn_forward"), encoding="utf-8")
    (tmp_path / "gru.ipynb").write_text("{ not a notebook", encoding="utf-8")
    fns = demo.load_functions(tmp_path)
    shown = capsys.readouterr().out
    assert [n for n, v in fns.verdicts.items() if v.usable] == ["softmax", "cross_entropy_loss", "rnn_forward", "rnn_step_forward"]
    assert fns.verdicts["rnn_backward"].reason == "is not written yet"
    assert fns.verdicts["lstm_backward"].reason == "cannot be tried until your lstm_forward works"
    assert fns.verdicts["gru_forward"].reason.startswith("cannot be read: gru.ipynb is not a valid notebook")
    assert "4 of 13 functions are usable." in shown
    assert ("The vanilla RNN is skipped: `rnn_backward` and `clip_gradient_norm` (Part 3) are not written yet. "
            "It still writes a sample, untrained.") in shown
    assert ("The LSTM is skipped: `softmax_cross_entropy_grad` (Part 2), `clip_gradient_norm` (Part 3) and "
            "`lstm_step_forward` and `lstm_forward` (Part 4) are not written yet") in shown
    assert "`lstm_backward` (the bonus of Part 4) cannot be tried until your lstm_forward works" in shown
    assert ("Nothing can train yet, and that is fine: each function you finish brings a model closer. The nearest is the "
            "vanilla RNN: finish `rnn_backward` and `clip_gradient_norm` in bptt.ipynb (Part 3), save, and run this notebook again.") in shown
    assert fns.can_sample("vanilla RNN") and not fns.can_sample("LSTM") and not fns.can_train("vanilla RNN")

    printed, written = _capstone(course, fns, tmp_path, capsys)
    assert "Traceback" not in printed and written == []
    assert "--- vanilla RNN, before training ---" in printed and "--- LSTM, before training ---" not in printed
    assert "(The LSTM cannot write yet: it needs a usable lstm_step_forward and softmax.)" in printed
    assert printed.count("The vanilla RNN is skipped: `rnn_backward`") == 2, "in the table, and where it would train"
    assert "No model trained yet, so there is no curve to draw." in printed and "after 6 updates" not in printed


def test_a_buggy_function_is_named_and_stops_only_its_own_model(course, tmp_path, capsys, monkeypatch):
    for name, value in SMALL.items():
        monkeypatch.setenv(name, value)
    for part in ("rnn_forward", "softmax_derivative"):
        (tmp_path / f"{part}.py").write_text(reference_source(course, part), encoding="utf-8")
    bptt = _mutate(reference_source(course, "bptt"), "bptt", BOB_MISTAKES["bptt"])  # dW with s_t for s_{t-1}
    (tmp_path / "bptt.py").write_text(bptt, encoding="utf-8")
    broken_step = "\n\ndef lstm_step_forward(x_t, h_prev, c_prev, params):\n    return params['Wf'] @ x_t\n"
    (tmp_path / "lstm.py").write_text(reference_source(course, "lstm") + broken_step, encoding="utf-8")
    # Passes the tiny probe (T = 4), fails on the capstone's longer chunks.
    late_bug = (
        "\n\n_gru_backward = gru_backward\n\ndef gru_backward(x, params, dh, h0=None):\n"
        "    if len(x) > 4:\n        raise IndexError('index 4 is out of bounds for axis 0 with size 4')\n"
        "    return _gru_backward(x, params, dh, h0)\n"
    )
    (tmp_path / "gru.py").write_text(reference_source(course, "gru") + late_bug, encoding="utf-8")
    fns = demo.load_functions(tmp_path, show=False)
    reasons = {n: v.reason for n, v in fns.verdicts.items()}
    assert reasons["rnn_backward"].startswith('gives a gradient for "W" that does not match finite differences of your rnn_forward')
    assert reasons["lstm_step_forward"].startswith("raises ValueError: ") and reasons["lstm_step_forward"].endswith("on a small input")
    assert reasons["gru_backward"] is None and fns.can_train("GRU")
    assert reasons["lstm_forward"].startswith("raises ValueError: "), "it calls the broken step"
    assert reasons["lstm_backward"] == "cannot be tried until your lstm_forward works"
    assert [n for n, r in reasons.items() if r] == ["rnn_backward", "lstm_forward", "lstm_step_forward", "lstm_backward"]

    printed, written = _capstone(course, fns, tmp_path, capsys)
    assert "Traceback" not in printed
    assert "The vanilla RNN is skipped: `rnn_backward` (Part 3) gives a gradient" in printed
    assert "The LSTM is skipped: `lstm_step_forward` (Part 4) raises ValueError" in printed
    assert "; `lstm_forward` (Part 4) raises ValueError" in printed
    assert ("The GRU stopped while training: your `gru_backward` (the bonus of Part 5) raised IndexError: index 4 is out of "
            'bounds for axis 0 with size 4. Run check("gru_backward") in gru.ipynb to find out more') in printed
    assert "--- GRU, before training ---" in printed and "--- GRU, after" not in printed
    assert fns.failed == {"GRU": "gru_backward raised IndexError: index 4 is out of bounds for axis 0 with size 4"}
    assert written == []


def _corpus_verdicts(references, path: Path) -> dict[str, demo.Verdict]:
    """The capstone's verdicts on a corpus submission; what it does not define comes from the references."""
    from rnnkit.worker.cells import load_file

    namespace = load_file(path).namespace
    found = {n: (getattr(references[p], n), "reference") for p, names in demo.USED.items() for n in names}
    found.update({n: (namespace[n], path.name) for n in found if n in namespace})
    return demo.judge(found, {})


CORPUS = Path(__file__).parent / "corpus"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*/correct_*.py")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_correct_submission_of_the_corpus_is_usable(references, path):
    """Float32, loops, one sweep, another order of operations: the probes must accept them all."""
    verdicts = _corpus_verdicts(references, path)
    assert {n: v.reason for n, v in verdicts.items() if not v.usable} == {}


@pytest.mark.parametrize(
    "submission, function, words",
    [
        ("rnn_forward/softmax_axis0", "softmax", "that are not probabilities"),
        ("rnn_forward/rnn_forward_returns_o_s", "rnn_forward", "returns states s of shape (4, 5); expected (4, 3)"),
        ("rnn_forward/rnn_forward_mutates_s0", "rnn_forward", "changes its argument s0"),
        ("rnn_forward/step_missing_tanh", "rnn_step_forward", "returns a state outside [-1, 1]"),
        ("bptt/bptt_ignores_s0", "rnn_backward", "does not match finite differences of your rnn_forward"),
        ("bptt/clip_per_array_norm", "clip_gradient_norm", "does not scale every array by one common factor"),
        ("bptt/clip_squared_norm", "clip_gradient_norm", "changes gradients whose norm is already below max_norm"),
        ("bptt/clip_ratio_inverted", "clip_gradient_norm", "not to max_norm = 1"),
        ("bptt/clip_scales_arrays_in_place", "clip_gradient_norm", "changes its argument grads"),
        ("softmax_derivative/grad_sign_flipped", "softmax_cross_entropy_grad", "does not match finite differences"),
        ("lstm/lstm_backward_no_cell_path", "lstm_backward", 'gives a gradient for "'),
        ("lstm/lstm_step_mutates_c_prev", "lstm_step_forward", "changes its argument c_prev"),
        ("gru/gru_backward_no_reset_path", "gru_backward", "does not match finite differences of your gru_forward"),
    ],
)
def test_the_probes_catch_mistakes_that_would_spoil_training(references, submission, function, words):
    verdicts = _corpus_verdicts(references, CORPUS / f"{submission}.py")
    assert words in (verdicts[function].reason or "usable"), verdicts[function].reason


def test_a_function_that_never_returns_is_stopped_and_named(monkeypatch):
    from rnnkit import probes

    monkeypatch.setattr(probes, "SECONDS", 0.3)

    def softmax(z):
        while True:
            pass

    assert probes.probe("softmax", softmax, {}) == "did not finish within 0.3 s on a tiny input (an endless loop?)"


def test_a_cell_that_never_ends_costs_only_that_cell(course, tmp_path, monkeypatch):
    from rnnkit import partfiles

    monkeypatch.setattr(partfiles, "SECONDS", 0.5)
    stuck = "# %%\nwhile True:\n    pass\n\n# %%\n" + reference_source(course, "rnn_forward")
    (tmp_path / "rnn_forward.py").write_text(stuck, encoding="utf-8")
    loaded = partfiles.run_part_file(tmp_path, "rnn_forward")
    assert loaded.cell_errors == ("cell 1 was stopped after 0.5 s (an endless loop?)",)
    assert demo.load_functions(tmp_path, show=False).usable("rnn_forward")


def test_rnnkit_demo_trains_and_writes_its_plot(tmp_path, monkeypatch):
    for name, value in SMALL.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "out"), "--steps", "8"])
    assert result.exit_code == 0, result.output
    png = tmp_path / "out" / "char_rnn_loss.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "rnnkit demo: the capstone runs on the reference solutions." in result.output
    assert "13 of 13 functions are usable." in result.output
    assert "usable: the reference lstm_backward, from solutions/lstm.py" in result.output
    for model in ("vanilla RNN", "LSTM", "GRU"):
        assert f"The {model} trains with the reference functions." in result.output
        assert f"--- {model}, after 8 updates ---" in result.output
    assert f"Wrote {png}" in result.output


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
