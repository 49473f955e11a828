"""Public checks: plain words for students, on stubs, right answers and wrong ones."""
from __future__ import annotations

import subprocess
import sys

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from rnnkit.checks import PublicChecks, make_check, run_check

from .conftest import ROOT


@pytest.fixture(scope="module")
def public(course):
    return PublicChecks.load(course.assignments_dir / "public_checks.json")


def test_a_missing_function_is_named(public):
    result = run_check("softmax", {}, public)
    assert result.status == "not defined" and "run the cell that defines it" in str(result)


def test_a_stub_is_not_implemented_yet_not_a_traceback(public):
    def softmax(z):
        raise NotImplementedError("Not implemented yet. Hint: ...")

    result = run_check("softmax", {"softmax": softmax}, public)
    assert result.status == "not implemented"
    assert "Traceback" not in str(result)


def test_a_wrong_answer_says_where_and_gives_a_hint(public):
    def softmax(z):  # no max-subtraction: overflows at 1000
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    with np.errstate(all="ignore"):
        result = run_check("softmax", {"softmax": softmax}, public)
    text = str(result)
    assert result.status == "failed"
    assert "non-finite" in text and "first at [" in text
    assert "Hint: Subtract each row's own maximum" in text


def test_a_naive_sigmoid_passes_and_is_told_of_its_overflow_warning(public, references):
    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    naive = run_check("sigmoid", {"sigmoid": sigmoid}, public)
    assert naive.status == "passed"
    assert "numpy warned: overflow encountered in exp" in str(naive) and "full credit" in str(naive)
    stable = run_check("sigmoid", {"sigmoid": references["lstm"].sigmoid}, public)
    assert stable.status == "passed" and "warned" not in str(stable)


def test_a_wrong_shape_is_reported_with_axis_names(public):
    def softmax_cross_entropy_grad(o, y):
        return (o - np.eye(o.shape[1])[y]).T

    text = str(run_check("softmax_cross_entropy_grad", {"softmax_cross_entropy_grad": softmax_cross_entropy_grad}, public))
    assert "expected shape (" in text and "[T, K]" in text and "[K, T]" in text


def test_modified_inputs_are_reported(public, references):
    reference = references["softmax_derivative"].softmax_cross_entropy_grad

    def softmax_cross_entropy_grad(o, y):
        o[np.arange(len(y)), y] -= 1.0
        return o

    text = str(run_check("softmax_cross_entropy_grad", {"softmax_cross_entropy_grad": softmax_cross_entropy_grad}, public))
    assert "changed its argument `o`" in text
    assert reference  # the reference itself is checked elsewhere


def test_gradient_check_tells_backward_from_forward_mistakes(public, references):
    ref = references["bptt"]

    def rnn_forward(x, U, W, V, s0=None):  # a forward mistake: W transposed
        return ref.rnn_forward(x, U, W.T, V, s0)

    def cross_entropy_loss(o, y):
        return float(-np.sum(np.log(o[np.arange(len(y)), y])))

    def rnn_backward(x, y, U, W, V, s0=None, bptt_truncate=None):  # consistent with the wrong forward
        grads = ref.rnn_backward(x, y, U, W.T, V, s0, bptt_truncate)
        return {"U": grads["U"], "W": grads["W"].T, "V": grads["V"]}

    namespace = {"rnn_forward": rnn_forward, "cross_entropy_loss": cross_entropy_loss, "rnn_backward": rnn_backward}
    text = str(run_check("rnn_backward", namespace, public))
    assert "matches finite differences of YOUR forward pass" in text

    def bad_backward(x, y, U, W, V, s0=None, bptt_truncate=None):
        grads = ref.rnn_backward(x, y, U, W, V, s0, bptt_truncate)
        return {**grads, "W": grads["W"] * 0.5}

    namespace = {"rnn_forward": ref.rnn_forward, "cross_entropy_loss": cross_entropy_loss, "rnn_backward": bad_backward}
    text = str(run_check("rnn_backward", namespace, public))
    assert "the backward pass itself has a mistake" in text


def test_checks_are_silent_while_grading(monkeypatch):
    monkeypatch.setenv("RNNKIT_GRADING", "1")
    assert make_check("rnn_forward", {})("softmax") is None


def test_cli_check_on_the_stub_notebook_and_on_the_reference():
    rnnkit = [sys.executable, "-m", "rnnkit.cli"]
    stub = subprocess.run([*rnnkit, "check", "bptt"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert stub.returncode == 1
    assert "rnn_backward: NOT IMPLEMENTED YET" in stub.stdout
    assert "0 of 5 functions of bptt pass" in stub.stdout
    solved = subprocess.run([*rnnkit, "check", "bptt", str(ROOT / "solutions" / "bptt.py")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "5 of 5 functions of bptt pass" in solved.stdout


def test_the_bptt_notebook_runs_in_jupyter_and_its_checks_say_not_implemented(course):
    notebook = nbformat.read(course.assignments_dir / "bptt.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(course.assignments_dir)}}).execute()
    printed = "\n".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
    )
    for name in ("rnn_backward", "state_jacobian", "jacobian_product", "clip_gradient_norm", "numerical_gradient"):
        assert f"{name}: NOT IMPLEMENTED YET" in printed
    assert not any(o.get("output_type") == "error" for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []))
