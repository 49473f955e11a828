"""The corpus: realistic submissions, right and wrong, each with the verdict it must get.

Each ``corpus/<part>/<variant>.py`` starts with ``# expect: pass`` or
``# expect: fail f, g`` (exactly those functions lose credit, every other
function of the part gets full credit). All files are graded in one class.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from rnnkit.grading import discover, grade_class

from .conftest import make_class

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*/*.py"))


def expectation(path: Path) -> set[str] | None:
    """The functions that must lose credit (empty set: every function passes)."""
    match = re.search(r"^# expect: (pass|fail (.+))$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path} has no '# expect:' line"
    return set() if match.group(1) == "pass" else {f.strip() for f in match.group(2).split(",")}


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus-class")
    students = {f"{p.parent.name}__{p.stem}": {f"{p.parent.name}.py": p.read_text(encoding="utf-8")} for p in FILES}
    make_class(folder, students)
    return {r.student: r for r in grade_class(discover(folder, course), course, jobs=2)}


def test_the_corpus_is_big_enough():
    wrong = [p for p in FILES if expectation(p)]
    right = [p for p in FILES if not expectation(p)]
    assert len(wrong) >= 40 and len(right) >= 10
    for part in ("rnn_forward", "softmax_derivative", "bptt", "lstm", "gru"):
        assert sum(1 for p in right if p.parent.name == part) >= 2, f"fewer than two correct variants of {part}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_corpus_submission_gets_its_expected_verdict(path, graded, course):
    must_fail = expectation(path)
    result = graded[f"{path.parent.name}__{path.stem}"]
    part = course.part(path.parent.name)
    assert must_fail <= {f.name for f in part.functions}, f"unknown function in expect line of {path}"
    report = {
        name: (r.score, [c.message for c in r.cases if not c.passed][:2] or r.problem)
        for name, r in result.functions.items()
        if r.function.part == part.name
    }
    for function in part.functions:
        r = result.functions[function.name]
        if function.name in must_fail:
            assert r.score < function.points, f"{function.name} should lose credit: {report}"
        else:
            assert r.passed, f"{function.name} should get full credit: {report}"
