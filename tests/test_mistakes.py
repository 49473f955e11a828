"""The catalogue of known mistakes (rnnkit.diagnosis).

Every catalogued mistake is made by at least one corpus submission, and the
feedback of each wrong corpus submission names its mistake and no other; a
correct submission never gets a mistake named. The whole corpus is graded in
one class. The recognisers' building blocks are checked against the reference
(with no slip switched on they must compute the right answer), and no two
mistakes of one function may be indistinguishable on the hidden cases.
"""
from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import rnnkit.diagnosis
from rnnkit.worker import calls
from rnnkit.cases import DEFAULT_SEED, cases_for
from rnnkit.feedback import feedback_markdown, gradescope_results
from rnnkit.grading import HiddenTests, discover, grade_class
from rnnkit.diagnosis import CATALOGUE, Diagnoser, Pattern, Seen, Variant, recognisers_for
from rnnkit.diagnosis.model import _EXACT, _data_args, _roll, _unroll
from rnnkit.diagnosis.model import _close as _agrees
from rnnkit.diagnosis.parts.bptt import _bptt, _jacobian_product_of, _numgrad
from rnnkit.diagnosis.parts.gru import _gru_backward, _gru_forward, _gru_step
from rnnkit.diagnosis.parts.lstm import _lstm_backward, _lstm_forward, _lstm_step
from rnnkit.diagnosis.parts.rnn_forward import _rnn_forward_with
from rnnkit.report import write_mistakes_csv

from .conftest import make_class

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*/*.py"))

#: Corpus ids the catalogue files under another id: their outputs are the same, so no recogniser can tell them apart.
SAME_AS = {
    "step_row_vector_missing_transpose": "step_W_transposed",  # s_prev @ W is W.T @ s_prev
    "clip_overwrites_input_dict": "clip_modifies_grads",  # both leave the caller's dict holding the scaled arrays
    "clip_scales_arrays_in_place": "clip_modifies_grads",
    "gru_candidate_concat_x_first": "gru_concat_x_first",  # the same slip, in the candidate only
}


def corpus_mistake(path: Path) -> str | None:
    """The catalogue id a corpus file must be diagnosed with (None for a correct file)."""
    match = re.search(r"^# mistake: (\S+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    return SAME_AS.get(match.group(1), match.group(1)) if match else None


def student_of(path: Path) -> str:
    return f"{path.parent.name}__{path.stem}"


WRONG = [p for p in FILES if corpus_mistake(p)]
RIGHT = [p for p in FILES if re.search(r"^# expect: pass$", p.read_text(encoding="utf-8"), re.MULTILINE)]


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mistakes-class")
    make_class(folder, {student_of(p): {f"{p.parent.name}.py": p.read_text(encoding="utf-8")} for p in FILES})
    return {r.student: r for r in grade_class(discover(folder, course), course, jobs=2)}


def named(student) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, result in student.functions.items():
        for diagnosis in result.diagnoses:
            out.setdefault(diagnosis.mistake, []).append(name)
    return out


# --------------------------------------------------------------------------- the catalogue


def test_the_catalogue_is_big_with_unique_ids_and_student_words(course):
    package = Path(rnnkit.diagnosis.__file__).parent
    source = "".join(p.read_text(encoding="utf-8") for p in sorted(package.rglob("*.py")))
    added = re.findall(r'^_add\("([A-Za-z0-9_]+)"', source, re.MULTILINE)
    assert len(added) == len(set(added)) == len(CATALOGUE) >= 40
    assert len({m.explanation for m in CATALOGUE.values()}) == len(CATALOGUE)
    functions = {f.name for f in course.functions}
    per_part = Counter(f.part for m in CATALOGUE.values() if not m.general for f in course.functions if f.name == m.function)
    assert all(per_part[p.name] >= 5 for p in course.parts), per_part
    for m in CATALOGUE.values():
        assert re.fullmatch(r"[A-Za-z0-9_]+", m.id)
        assert m.function in functions | {"any"} and set(m.also) <= functions
        assert m.recognisers and set(m.recognisers) <= functions | {"*"}, m.id
        assert m.general == (m.function == "any")
        assert m.name and len(m.name) <= 50 and "\n" not in m.name
        assert 40 <= len(m.explanation) <= 240 and "\n" not in m.explanation, m.id
        assert m.explanation[0].isupper() and m.explanation.endswith("."), m.id
        if not m.general:
            assert set(m.homes) <= set(m.recognisers), f"{m.id}: no recogniser in a function that makes it"


def test_the_readme_counts_the_catalogue():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"{len(CATALOGUE)}, across the five parts" in readme


def test_every_catalogued_mistake_is_made_by_a_corpus_submission():
    covered = {corpus_mistake(p) for p in WRONG}
    assert set(CATALOGUE) <= covered, f"no corpus submission makes {sorted(set(CATALOGUE) - covered)}"
    assert covered <= set(CATALOGUE), f"corpus mistakes missing from the catalogue: {sorted(covered - set(CATALOGUE))}"


# --------------------------------------------------------------------------- the corpus, graded once


@pytest.mark.parametrize("path", WRONG, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_feedback_names_the_mistake_and_no_other(path, graded, course):
    want = CATALOGUE[corpus_mistake(path)]
    student = graded[student_of(path)]
    generated = {m for m in named(student) if m.startswith("generated_")}
    if want.general and generated:
        # A general pattern gives way to a generated model when one small change of the reference explains it.
        assert set(named(student)) == generated and len(generated) == 1, f"{path.name}: {named(student)}"
        assert "exactly those of a correct" in feedback_markdown(student, course)
        return
    assert set(named(student)) == {want.id}, f"{path.name}: {named(student)}"
    feedback = feedback_markdown(student, course)
    assert want.explanation in feedback
    assert feedback.count("**Likely mistake:") == sum(len(r.diagnoses) for r in student.functions.values())
    assert f"**Likely mistake: {want.name}.**" in feedback
    others = [m for m in CATALOGUE.values() if m.id != want.id]
    assert not [m.id for m in others if m.explanation in feedback]
    outputs = "\n".join(test["output"] for test in gradescope_results(student, course)["tests"])
    assert want.explanation in outputs and not [m.id for m in others if m.explanation in outputs]


@pytest.mark.parametrize("path", RIGHT, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_correct_submission_gets_no_mistake_named(path, graded, course):
    student = graded[student_of(path)]
    assert named(student) == {}
    assert "Likely mistake" not in feedback_markdown(student, course)


def test_only_functions_that_lost_credit_are_diagnosed(graded):
    for student in graded.values():
        for result in student.functions.values():
            assert not result.diagnoses or not result.passed


def test_a_mistake_carried_into_another_function_says_where_it_comes_from(graded):
    student = graded["rnn_forward__step_W_transposed"]
    (own,) = student.functions["rnn_step_forward"].diagnoses
    (carried,) = student.functions["rnn_forward"].diagnoses
    assert not own.inherited and "It comes from" not in own.explanation
    assert carried.inherited and carried.explanation.endswith("(It comes from your `rnn_step_forward`.)")
    # Each LSTM gate makes the concatenation mistake itself; the step inherits it from all four.
    lstm = graded["lstm__lstm_concat_x_first"]
    assert not any(d.inherited for g in ("forget_gate", "input_gate", "candidate_cell", "output_gate") for d in lstm.functions[g].diagnoses)
    (step,) = lstm.functions["lstm_step_forward"].diagnoses
    assert step.inherited and "`forget_gate`, `input_gate`, `candidate_cell`, `output_gate`" in step.explanation


def test_mistakes_csv_counts_the_students_who_made_each_mistake(graded, tmp_path):
    path = tmp_path / "mistakes.csv"
    write_mistakes_csv(list(graded.values()), path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["mistake", "function", "explanation", "students", "student_ids"]
    by_id = {row[0]: row for row in rows[1:]}
    makers: dict[str, set[str]] = {}
    for p in WRONG:
        student = graded[student_of(p)]
        generated = {m for m in named(student) if m.startswith("generated_")}
        if CATALOGUE[corpus_mistake(p)].general and generated:
            continue  # named by a generated model instead (see test_the_feedback_names_the_mistake_and_no_other)
        makers.setdefault(corpus_mistake(p), set()).add(student_of(p))
    generated_rows = {m for m in by_id if m.startswith("generated_")}
    assert set(by_id) - generated_rows == set(makers)
    for mistake, students in makers.items():
        row = by_id[mistake]
        assert int(row[3]) == len(students) and set(row[4].split()) == students, mistake
        assert row[2] == CATALOGUE[mistake].explanation
        where = set(row[1].split())
        assert where and (where <= set(CATALOGUE[mistake].homes) or CATALOGUE[mistake].general), mistake
    counts = [int(row[3]) for row in rows[1:]]
    assert counts == sorted(counts, reverse=True)  # most frequent first
    assert by_id["jacobian_product_reverse_order"][3] == "2" and by_id["clip_modifies_grads"][3] == "2"


# --------------------------------------------------------------------------- the recognisers themselves


@pytest.fixture(scope="module")
def diagnosers(course):
    out = {}
    for seed in (DEFAULT_SEED, 1):
        hidden = HiddenTests.draw(course, seed)
        hidden.compute_answers(course)
        out[seed] = Diagnoser(course, hidden, hidden.references)
    return out


def _close(a, b) -> bool:
    return _agrees(a, b, _EXACT)


def test_the_building_blocks_with_no_slip_compute_the_reference(references):
    bptt, lstm, gru, rnn = references["bptt"], references["lstm"], references["gru"], references["rnn_forward"]
    checks = [
        ("rnn_backward", bptt, lambda *a: _bptt(bptt, *a)),
        ("rnn_backward", bptt, lambda *a: _bptt(bptt, *a, jp=_jacobian_product_of(bptt.state_jacobian))),
        ("jacobian_product", bptt, lambda *a: _jacobian_product_of(bptt.state_jacobian)(*a)),
        ("numerical_gradient", bptt, lambda *a: _numgrad(bptt, *a)),
        ("rnn_forward", rnn, lambda *a: _rnn_forward_with(rnn, *a)),
        ("lstm_step_forward", lstm, lambda *a: _lstm_step(lstm, *a)),
        ("lstm_forward", lstm, lambda *a: _lstm_forward(lstm, *a)),
        ("lstm_backward", lstm, lambda *a: _lstm_backward(lstm, *a)),
        ("gru_step_forward", gru, lambda *a: _gru_step(gru, *a)),
        ("gru_forward", gru, lambda *a: _gru_forward(gru, *a)),
        ("gru_backward", gru, lambda *a: _gru_backward(gru, *a)),
    ]
    for function, reference, block in checks:
        for case in cases_for(function):
            args = case.call_args()
            expected = getattr(reference, function)(*calls.copy_value(args))
            assert _close(block(*calls.copy_value(args)), expected), f"{function}: {case.about}"


def test_rolling_the_weights_is_reading_x_first(references):
    gru = references["gru"]
    rng = np.random.default_rng(0)
    H, D = 3, 5
    h, x, W, b = rng.standard_normal(H), rng.standard_normal(D), rng.standard_normal((H, H + D)), rng.standard_normal(H)
    rolled = _roll(W, H)
    assert np.allclose(rolled @ np.concatenate([h, x]), W @ np.concatenate([x, h]))
    assert np.array_equal(_unroll(rolled, H), W)
    assert np.allclose(gru.update_gate(h, x, rolled, b), 1 / (1 + np.exp(-(W @ np.concatenate([x, h]) + b))))


@pytest.mark.parametrize("seed", [DEFAULT_SEED, 1])
def test_every_mistake_is_visible_and_distinct_on_the_hidden_cases(seed, diagnosers, course):
    """Each variant differs from the reference somewhere, and no two mistakes of a function coincide on every case."""
    diagnoser = diagnosers[seed]
    for function in (f.name for f in course.functions):
        runs: dict[str, list] = {}
        for mistake, recogniser in recognisers_for(function):
            if isinstance(recogniser, Variant) and not mistake.general:
                runs[mistake.id] = diagnoser.variant_outputs(mistake, function)
                kinds = {seen.kind for alt in runs[mistake.id] for seen, _ in alt}
                assert kinds <= ({"raised", "value"} if recogniser.raises else {"value"}), f"{mistake.id} in {function}: {kinds}"
                assert any(any(differs for _, differs in alt) for alt in runs[mistake.id]), f"{mistake.id} is invisible in {function}"
        ids = sorted(runs)
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                for alt_a in runs[a]:
                    for alt_b in runs[b]:
                        same = all(
                            (x.kind == y.kind == "raised" and x.raised == y.raised)
                            or (x.kind == y.kind == "value" and _close(x.result, y.result) and _close(x.args_after, y.args_after))
                            for (x, _), (y, _) in zip(alt_a, alt_b)
                        )
                        assert not same, f"{a} and {b} give the same outputs in {function}"


def test_the_right_outputs_never_match_a_mistake(diagnosers, course):
    """Even marked as failed (say a later case timed out), the reference's own outputs name no mistake."""
    for diagnoser in diagnosers.values():
        for function in course.functions:
            cases, expected = diagnoser.hidden.cases[function.name], diagnoser.hidden.expected[function.name]
            seen = [Seen("value", calls.copy_value(e), _data_args(c.args), passed=False) for c, e in zip(cases, expected)]
            assert diagnoser.matches(function.name, seen) == [], function.name
            seen[-1] = Seen("none")
            assert diagnoser.matches(function.name, seen) == [], function.name


def test_general_patterns_need_a_consistent_shape(course, diagnosers):
    diagnoser = diagnosers[DEFAULT_SEED]
    function = "cross_entropy_loss"
    expected = diagnoser.hidden.expected[function]
    args = [_data_args(c.args) for c in diagnoser.hidden.cases[function]]
    scaled = [Seen("value", 1.5 * e, a) for e, a in zip(expected, args)]
    hits = {m.id: detail for m, _, detail in diagnoser.matches(function, scaled)}
    assert set(hits) == {"constant_factor"} and hits["constant_factor"] == ""  # 1.5 means nothing: never said (an oracle)
    doubled = [Seen("value", 2.0 * e, a) for e, a in zip(expected, args)]
    assert {m.id: detail for m, _, detail in diagnoser.matches(function, doubled)}["constant_factor"].startswith("Every value is twice")
    mixed = scaled[:1] + [Seen("value", 2.0 * e, a) for e, a in zip(expected[1:], args[1:])]
    assert diagnoser.matches(function, mixed) == []
    assert isinstance(CATALOGUE["constant_factor"].recognisers["*"], Pattern)
