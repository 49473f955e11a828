"""course.yml: it validates, malformed files get clear errors, and it matches the student API."""
from __future__ import annotations

import copy
import inspect

import pytest
import yaml

from rnnkit.course import CourseError, parse_course
from rnnkit.spec import API

from .conftest import ROOT


@pytest.fixture
def data():
    return yaml.safe_load((ROOT / "course.yml").read_text())


def test_the_course_file_validates(course):
    assert [p.name for p in course.parts] == list(API)
    assert [f.name for f in course.functions] == [fn for fns in API.values() for fn in fns]
    assert {f.name for f in course.functions if f.bonus} == {"lstm_backward", "gru_backward"}
    assert course.possible == sum(f.points for f in course.functions if not f.bonus) > 0


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda d: d["parts"].pop(2), "missing part(s) bptt"),
        (lambda d: d["parts"][0]["functions"].update(softmax_v2=1), "unknown function(s) softmax_v2"),
        (lambda d: d["parts"][0]["functions"].pop("softmax"), "does not list softmax"),
        (lambda d: d["parts"][1]["functions"].update(softmax_jacobian=-3), "parts[1].functions.softmax_jacobian"),
        (lambda d: d["tolerance"].update(rtol=0.5), "tolerance.rtol"),
        (lambda d: d["tolerance"].update(atol="small"), "tolerance.atol"),
        (lambda d: d["limits"].pop("memory_mb"), "'memory_mb' is a required property"),
        (lambda d: d["parts"].append({"name": "attention", "title": "x", "functions": {"a": 1}}), "unknown part(s) attention"),
        (lambda d: d.update(extra=1), "Additional properties are not allowed"),
    ],
)
def test_a_malformed_course_file_gets_a_clear_error(data, mutate, words):
    broken = copy.deepcopy(data)
    mutate(broken)
    with pytest.raises(CourseError) as error:
        parse_course(broken, ROOT)
    assert words in str(error.value)


def test_a_course_file_that_is_not_a_mapping_is_refused():
    with pytest.raises(CourseError, match="does not match its schema"):
        parse_course(["not", "a", "course"], ROOT)


def test_reference_signatures_follow_the_student_api(references):
    for part, functions in API.items():
        for name, params in functions.items():
            fn = getattr(references[part], name)
            assert tuple(inspect.signature(fn).parameters) == params, name
    defaults = {
        ("rnn_forward", "s0"): None,
        ("rnn_backward", "s0"): None,
        ("rnn_backward", "bptt_truncate"): None,
        ("numerical_gradient", "eps"): 1e-5,
        ("lstm_forward", "h0"): None,
        ("lstm_forward", "c0"): None,
        ("lstm_backward", "h0"): None,
        ("lstm_backward", "c0"): None,
        ("gru_forward", "h0"): None,
        ("gru_backward", "h0"): None,
    }
    for (name, param), default in defaults.items():
        part = next(p for p, fns in API.items() if name in fns)
        assert inspect.signature(getattr(references[part], name)).parameters[param].default == default
