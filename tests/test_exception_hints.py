"""Common Python and numpy slips explained in the student's own line (rnnkit.exception_hints), and shown so in feedback."""
from __future__ import annotations

from rnnkit.exception_hints import failing_line, hint_for

AMBIGUOUS = "ValueError: The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()"


def _trace(line: str, error: str = AMBIGUOUS) -> str:
    return f'  File "rnn_forward.py", line 17, in rnn_forward\n    {line}\n    ^^^^^^^^\n{error}'


def test_the_failing_line_is_the_last_frames_source():
    trace = '  File "a.py", line 3, in f\n    g(x)\n  File "a.py", line 9, in g\n    return x / 0\nZeroDivisionError: division by zero'
    assert failing_line(trace) == "return x / 0"
    assert failing_line("") == ""


def test_testing_an_optional_array_for_truth_is_explained_with_is_none():
    for line in ("state = s0 if s0 else np.zeros(H)", "if not h0:", "h = h0 or np.zeros(H)", "if c0 and h0 is not None:"):
        hint = hint_for(AMBIGUOUS, _trace(line))
        assert "is None" in hint and "numpy cannot say whether a whole array is true" in hint, (line, hint)
    assert "`s0`" in hint_for(AMBIGUOUS, _trace("state = s0 if s0 else np.zeros(H)"))


def test_other_truth_tests_and_unknown_lines_get_general_words():
    assert "`mask`" in hint_for(AMBIGUOUS, _trace("while mask:")) and ".any()" in hint_for(AMBIGUOUS, _trace("while mask:"))
    assert ".any()" in hint_for(AMBIGUOUS, "")


def test_none_operands_and_float_indices():
    none = "TypeError: unsupported operand type(s) for @: 'numpy.ndarray' and 'NoneType'"
    assert "`s0` is None here" in hint_for(none, _trace("a = W @ s0", none))
    floats = "TypeError: 'float' object cannot be interpreted as an integer"
    assert "`//`" in hint_for(floats, _trace("for t in range(T / 2):", floats))
    assert hint_for("KeyError: 'Wf'", _trace("W = params['Wf']", "KeyError: 'Wf'")) == ""


def test_the_feedback_shows_the_error_as_code_and_the_explanation_as_text(grade, course):
    source = (course.solutions_dir / "rnn_forward.py").read_text(encoding="utf-8")
    old = "s_prev = np.zeros(H) if s0 is None else s0"
    assert old in source
    wrong = source.replace(old, "s_prev = s0 if s0 else np.zeros(H)")
    result = grade({"amy": {"rnn_forward.py": wrong}})["amy"]
    failed = [c for c in result.functions["rnn_forward"].cases if not c.passed]
    assert failed and all("write `if s0 is None:`" in c.message for c in failed)

    from rnnkit.feedback import message_markdown

    shown = message_markdown(failed[0].message)
    assert shown.startswith("**your function raised `ValueError:") and "` — `s0` is an array here" in shown


def test_an_index_past_either_end_names_the_loop_bound():
    negative = "IndexError: index -6 is out of bounds for axis 0 with size 5"
    assert "went below 0" in hint_for(negative, "") and "max(0, t - k)" in hint_for(negative, "")
    past = "IndexError: index 5 is out of bounds for axis 0 with size 5"
    assert "one past the end" in hint_for(past, "") and "range(5)" in hint_for(past, "")
    assert hint_for("IndexError: index 9 is out of bounds for axis 0 with size 5", "") == ""  # no slip singled out
