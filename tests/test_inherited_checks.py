"""The public checks say when a function fails only because a helper of the student's does, in every part
with helpers, using public answers only (the student's own functions, never reference code)."""
from __future__ import annotations

import json

import pytest

from rnnkit import content
from rnnkit.checks import PublicChecks, run_check

#: (part, the helper's line, the helper broken, the functions that call it, the end of the chain)
BROKEN_HELPERS = [
    ("rnn_forward", "    return np.tanh(U @ x_t + W @ s_prev)", "    return np.tanh(U @ x_t) + W @ s_prev", ["rnn_forward"], "rnn_step_forward"),
    ("bptt", "    return (1.0 - s_t**2)[:, None] * W", "    return (1.0 - s_t)[:, None] * W", ["jacobian_product"], "state_jacobian"),
    ("lstm", "    return sigmoid(Wi @ hx + bi)", "    return np.tanh(Wi @ hx) + 0.1 * bi", ["lstm_step_forward", "lstm_forward", "lstm_backward"], "input_gate"),
    ("gru", "    return sigmoid(Wz @ hx + bz)", "    return np.tanh(Wz @ hx + bz)", ["gru_step_forward", "gru_forward"], "update_gate"),
]


@pytest.fixture(scope="module")
def public(course):
    return PublicChecks.load(course.assignments_dir / "public_checks.json")


def _namespace(course, part: str, *changes: tuple[str, str]) -> dict:
    source = content.reference_code(content.read_source(course.solutions_dir, part))
    for old, new in changes:
        assert old in source, old
        source = source.replace(old, new, 1)
    namespace: dict = {}
    exec(compile(source, part, "exec"), namespace)  # noqa: S102 - the kit's reference, changed by the test
    return namespace


@pytest.mark.parametrize("part, old, new, callers, root", BROKEN_HELPERS, ids=[b[0] for b in BROKEN_HELPERS])
def test_a_caller_of_a_broken_helper_is_told_where_its_failure_comes_from(course, public, part, old, new, callers, root):
    namespace = _namespace(course, part, (old, new))
    for function in callers:
        result = run_check(function, namespace, public)
        text = "\n".join(result.lines)
        assert result.status == "failed"
        assert "fails only because your" in text, text
        assert f"Fix `{root}` first." in text, text
        assert "Finite differences" not in text, "an inherited failure does not blame the backward pass"


def test_a_caller_with_its_own_mistake_too_is_not_told_it_inherits(course, public):
    namespace = _namespace(course, "lstm", ("    return sigmoid(Wi @ hx + bi)", "    return np.tanh(Wi @ hx) + 0.1 * bi"),
                           ("    c_t = f * c_prev + i * c_tilde", "    c_t = f * c_prev + 0.5 * i * c_tilde"))
    text = "\n".join(run_check("lstm_step_forward", namespace, public).lines)
    assert "fails only because" not in text


def test_a_caller_whose_helpers_are_right_says_nothing_of_them(course, public):
    namespace = _namespace(course, "gru", ("    return (1.0 - z) * h_prev + z * h_tilde", "    return z * h_prev + (1.0 - z) * h_tilde"))
    result = run_check("gru_step_forward", namespace, public)
    assert result.status == "failed" and "fails only because" not in "\n".join(result.lines)


def test_the_public_file_holds_answers_of_helper_calls_never_their_arguments(course):
    data = json.loads((course.assignments_dir / "public_checks.json").read_text(encoding="utf-8"))
    records = [r for cases in data["functions"].values() for case in cases for r in case.get("helpers", [])]
    assert {r["function"] for r in records} >= {"rnn_step_forward", "input_gate", "lstm_step_forward", "update_gate", "state_jacobian"}
    assert all(set(r) == {"function", "fingerprint", "expected"} for r in records)
