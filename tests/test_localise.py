"""Localisation: where a failed function goes wrong (controlled probes, items, gates, time steps), and
inherited failures traced to the student's own helper, when no single named change fits."""
from __future__ import annotations

import numpy as np
import pytest

from rnnkit.course import Tolerance
from rnnkit.diagnosis.controls import LOCALISERS, base_case, control_cases
from rnnkit.diagnosis.inherit import helpers_of
from rnnkit.diagnosis.localise import by_controls
from rnnkit.diagnosis.model import _close
from rnnkit.hidden_tests import Probes, References

from .conftest import make_class, reference_source

TOL = Tolerance(rtol=1e-4, atol=1e-5)


def close(a, b):
    return _close(a, b, TOL)


def _changed(base, case) -> list[str]:
    changed = []
    for i, (a, b) in enumerate(zip(base.args, case.args)):
        if isinstance(a, dict):
            changed += [k for k in a if not np.array_equal(a[k], b[k])]
        elif not (np.shape(a) == np.shape(b) and np.array_equal(a, b)):
            changed.append(str(i))
    return changed


@pytest.mark.parametrize("function", sorted(LOCALISERS))
def test_each_control_changes_one_argument_of_the_base_probe(function):
    base = base_case(function)
    cases = control_cases(function)
    assert len(cases) == len(LOCALISERS[function].controls) >= 1
    for case in cases:
        changed = _changed(base, case)
        if case.about.endswith("T = 1"):  # one change of T: every per-step argument cut to its first row
            assert changed and all(len(case.args[int(i)]) == 1 for i in changed), changed
        else:
            assert len(changed) == 1, (case.about, changed)


def test_probes_hold_ordinary_then_controlled_then_dependency_cases(course):
    probes = Probes(References(course))
    part = course.part("lstm")
    cases, answers = probes.of(part)
    assert [c.about for c in cases["lstm_step_forward"][2:5]] == [f"controlled probe: {c.name}" for c in LOCALISERS["lstm_step_forward"].controls]
    assert any("called by lstm_step_forward" in c.about for c in cases["input_gate"])
    layout = probes.layout(part)
    assert layout.helpers["lstm_step_forward"] == ("forget_gate", "input_gate", "candidate_cell", "output_gate")
    assert layout.calls["lstm_forward"], "the T = 1 probe of lstm_forward traces its step"
    for name, function_cases in cases.items():
        assert len(answers[name]) == len(function_cases)


def test_helpers_are_read_from_the_reference(course):
    helpers = helpers_of(reference_source(course, "gru"), [f.name for f in course.part("gru").functions])
    assert helpers["gru_step_forward"] == ("update_gate", "reset_gate", "candidate_hidden")
    assert helpers["gru_forward"] == ("gru_step_forward",)


def test_the_rule_speaks_only_when_the_base_is_wrong_and_a_control_singles_a_term_out():
    right, wrong = np.ones(3), np.zeros(3)
    #  base, W = 0, U = 0 for rnn_step_forward
    assert "With W = 0" in by_controls("rnn_step_forward", [wrong, None, right, wrong], [right, right, right, right], close)
    assert by_controls("rnn_step_forward", [right, None, right, wrong], [right, right, right, right], close) == ""
    both = by_controls("rnn_step_forward", [wrong, None, wrong, wrong], [right, right, right, right], close)
    assert "W = 0 and with U = 0 alike" in both
    several = by_controls("rnn_step_forward", [wrong, None, right, right], [right, right, right, right], close)
    assert "both the recurrent term W s_{t-1} and the input term U x_t" in several
    assert by_controls("rnn_step_forward", [wrong, None, right, None], [right, right, right, right], close).startswith("With W = 0")


# --------------------------------------------------------------------------- graded: slips of two changes (no single change fits)

SLIPS = {
    "recursion": ("bptt", "                delta = (W.T @ delta) * (1.0 - s[k - 1] ** 2)", "                delta = 0.5 * (W @ delta) * (1.0 - s[k - 1] ** 2)"),
    "step_terms": ("rnn_forward", "    return np.tanh(U @ x_t + W @ s_prev)", "    return np.tanh(U @ x_t) + 0.5 * np.tanh(W @ s_prev)"),
    "h_line": ("lstm", "    h_t = o * np.tanh(c_t)", "    h_t = 0.9 * o * np.tanh(c_prev)"),
    "dWz": ("gru", '        grads["Wz"] += np.outer(da_z, v)', '        grads["Wz"] += 0.5 * np.outer(da_z, v) + 0.01'),
    "input_gate": ("lstm", "    return sigmoid(Wi @ hx + bi)", "    return np.tanh(Wi @ hx) + 0.1 * bi"),
    "update_gate": ("gru", "    return sigmoid(Wz @ hx + bz)", "    return np.tanh(Wz @ hx) + 0.1 * bz"),
    "state_jacobian": ("bptt", "    return (1.0 - s_t**2)[:, None] * W", "    return 0.9 * (1.0 - s_t)[:, None] * W"),
    "da_r": ("gru", "        da_r = dr * r * (1.0 - r)", "        da_r = 0.5 * dr * r * (1.0 - r) + 0.01"),
    "da_o": ("lstm", '"o": (dh_t * tanh_c) * o * (1.0 - o),', '"o": 0.5 * (dh_t * tanh_c) * o * (1.0 - o) + 0.01,'),
    "s0_none_only": ("rnn_forward", "np.zeros(H) if s0 is None else s0", "np.full(H, 0.5) if s0 is None else s0"),
    "truncate_zero_as_none": ("bptt", "first = 0 if bptt_truncate is None else", "first = 0 if not bptt_truncate else"),
}


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    from rnnkit.grading import discover, grade_class

    students = {}
    for name, (part, old, new) in SLIPS.items():
        source = reference_source(course, part)
        assert source.count(old) >= 1, old
        students[name] = {f"{part}.py": source.replace(old, new, 1)}
    folder = make_class(tmp_path_factory.mktemp("localise"), students)
    return {r.student: r.functions for r in grade_class(discover(folder, course), course, jobs=2, seed=5)}


def _where(graded, student, function) -> str:
    result = graded[student][function]
    assert not result.passed, f"{function} should fail for {student}"
    return " ".join(result.where)


def test_w_zero_localises_a_recursion_slip_in_bptt(graded):
    where = _where(graded, "recursion", "rnn_backward")
    assert "With W = 0" in where and "flows back through time" in where
    assert "`dV` is right in every case" in where
    assert not graded["recursion"]["rnn_backward"].diagnoses


def test_w_zero_localises_a_step_slip_to_the_recurrent_term(graded):
    assert "With W = 0 (no recurrence) your s_t is right: the error involves the recurrent term W s_{t-1}." in _where(graded, "step_terms", "rnn_step_forward")


def test_the_wrong_item_is_named_with_its_formula(graded):
    where = _where(graded, "h_line", "lstm_step_forward")
    assert "`c_t` is right in every case; `h_t` is wrong: look at h_t = o_t ⊙ tanh(C_t)." in where


def test_a_gradient_is_localised_to_its_gate(graded):
    where = _where(graded, "dWz", "gru_backward")
    assert "`dWz` is wrong" in where and "only those of the update gate z_t are wrong" in where


@pytest.mark.parametrize("student, helper, chain", [
    ("input_gate", "input_gate", ["lstm_step_forward", "lstm_forward"]),
    ("update_gate", "update_gate", ["gru_step_forward", "gru_forward"]),
    ("step_terms", "rnn_step_forward", ["rnn_forward"]),
    ("state_jacobian", "state_jacobian", ["jacobian_product"]),
])
def test_a_failure_inherited_from_a_helper_says_where_it_comes_from(graded, student, helper, chain):
    for function in chain:
        where = _where(graded, student, function)
        assert f"Your `{function}` itself looks right" in where, where
        assert f"Fix `{helper}` first" in where, where
        assert "With " not in where, "an inherited failure is not localised in the function's own lines"


def test_controls_say_nothing_when_only_another_regime_fails(graded):
    result = graded["s0_none_only"]["rnn_forward"]
    assert not result.passed
    assert not any(w.startswith("With ") or w.startswith("Even with") for w in result.where), result.where


def test_localisation_is_shown_in_the_feedback(graded):
    from rnnkit.feedback import function_text

    assert "**Where it goes wrong:** With W = 0" in function_text(graded["recursion"]["rnn_backward"])


@pytest.mark.parametrize("student, function, gate", [("da_r", "gru_backward", "the reset gate r_t"), ("da_o", "lstm_backward", "the output gate o_t")])
def test_an_error_spread_through_time_is_localised_to_its_gate_on_one_step(graded, student, function, gate):
    where = _where(graded, student, function)
    assert "With T = 1 (a single step): of what you return," in where, where
    assert f"only those of {gate} are wrong" in where, where


def test_failures_at_one_option_of_the_spec_are_said_with_what_to_look_at(graded):
    assert "Only the cases with `s0=None` fail: with `s0=None`, start from zeros" in _where(graded, "s0_none_only", "rnn_forward")
    where = _where(graded, "truncate_zero_as_none", "rnn_backward")
    assert "Only the cases with `bptt_truncate=0` fail" in where and "bptt_truncate is None" in where


def test_the_domain_split_is_said_only_when_one_option_singles_it_out():
    from types import SimpleNamespace as NS

    from rnnkit.diagnosis.domain import by_domain

    def run(points_and_passed):
        return by_domain("rnn_backward", [NS(point=p) for p, _ in points_and_passed], [NS(passed=ok) for _, ok in points_and_passed])

    given, none = {"s0": "given", "bptt_truncate": None}, {"s0": None, "bptt_truncate": None}
    zero, zero_none = {"s0": "given", "bptt_truncate": 0}, {"s0": None, "bptt_truncate": 0}
    assert run([(given, False), (none, True), (zero, False), (zero_none, True)]).startswith("Only the cases with `s0` given fail")
    assert run([(given, False), (zero_none, False), (none, True), (zero, True)]) == ""  # no option singles the failures out
    assert run([(given, False), (none, False), (zero, True)]).startswith("Only the cases with `bptt_truncate=None` (full BPTT) fail")
    confounded = run([(zero, False), (none, True)])  # s0 given and truncation 0 coincide here
    assert confounded.startswith("Only the cases with") and "look at both" in confounded and "is None" not in confounded
    assert run([(given, False), (none, False)]) == "" and run([(given, True), (none, True)]) == ""


def test_two_options_together_are_said_when_no_single_one_fits():
    from types import SimpleNamespace as NS

    from rnnkit.diagnosis.domain import by_domain

    def run(function, points_and_passed):
        return by_domain(function, [NS(point=p) for p, _ in points_and_passed], [NS(passed=ok) for _, ok in points_and_passed])

    both, neither = {"h0": "given", "c0": "given"}, {"h0": None, "c0": None}
    h_only, c_only = {"h0": "given", "c0": None}, {"h0": None, "c0": "given"}
    said = run("lstm_forward", [(both, True), (neither, True), (h_only, False), (c_only, True)])
    assert said == "Only the cases with `h0` given and `c0=None` fail: with `c0=None`, start the cell from zeros of shape (H,), whatever `h0` is."
    said = run("lstm_forward", [(both, False), (neither, True), (h_only, False), (c_only, False)])
    assert said.startswith("Only the cases with `h0=None` and `c0=None` pass")
    assert run("softmax", [({"rank": 1}, True), ({"rank": 2}, False)]).startswith("Only the cases with a 2-D `z` fail")
