"""Generated error models: one-step changes of the reference, named in words when they alone explain a failure."""
from __future__ import annotations

import pytest

from rnnkit import content
from rnnkit.mutants.generate import mutants

from .conftest import reference_source

#: (part, what the reference says, what the student wrote, words the feedback must use). None of these is in the
#: hand catalogue: only the generated models can name them.
SLIPS = [
    ("lstm", '"c": (dc_t * i) * (1.0 - c_tilde**2),', '"c": (dc_t * i),', "a factor is missing from a product: `1 - C̃_t²` is left out, in `δa_C = δC_t ⊙ i_t ⊙ (1 - C̃_t²)`"),
    ("lstm", "    h_t = o * np.tanh(c_t)\n", "    h_t = o * np.tanh(c_prev)\n", "`C_{t-1}` is used where `C_t` belongs, in `h_t = o_t ⊙ tanh(C_t)`"),
    ("lstm", '"f": (dc_t * c_prev) * f * (1.0 - f),', '"f": (dc_t * c_tilde) * f * (1.0 - f),', "`C̃_t` is used where `C_{t-1}` belongs, in `δa_f = δC_t ⊙ C_{t-1} ⊙ f_t ⊙ (1 - f_t)`"),
    # A nonlinearity applied again to what already is its output, at one use or at every use of the argument.
    ("bptt", "    return (1.0 - s_t**2)[:, None] * W", "    return (1.0 - np.tanh(s_t)**2)[:, None] * W", "the tanh is applied again to `s_t`"),
    ("softmax_derivative", "    return np.diag(y) - np.outer(y, y)",
     "    p = np.exp(y - y.max()) / np.exp(y - y.max()).sum()\n    return np.diag(p) - np.outer(p, p)", "the softmax is applied again to `y`"),
]


@pytest.fixture(scope="module")
def slips_graded(course, tmp_path_factory):
    from rnnkit.grading import discover, grade_class

    from .conftest import make_class

    students = {}
    for number, (part, old, new, _) in enumerate(SLIPS):
        source = reference_source(course, part)
        assert old in source, old
        students[f"slip{number}"] = {f"{part}.py": source.replace(old, new, 1)}
    folder = make_class(tmp_path_factory.mktemp("slips"), students)
    return {r.student: r for r in grade_class(discover(folder, course), course, jobs=2, seed=8)}


@pytest.mark.parametrize("number", range(len(SLIPS)))
def test_a_slip_one_change_away_is_named_in_words(slips_graded, number):
    part, _, _, words = SLIPS[number]
    student = slips_graded[f"slip{number}"]
    named = [(name, d) for name, r in student.functions.items() for d in r.diagnoses]
    assert named, "nothing named"
    assert all(d.mistake.startswith("generated_") for _, d in named), named
    assert any(words in d.explanation for _, d in named), [d.explanation for _, d in named]
    assert all("exactly those of a correct" in d.explanation for _, d in named)


@pytest.mark.parametrize("part", ["rnn_forward", "softmax_derivative", "bptt", "lstm", "gru"])
def test_every_part_has_changes_of_every_function_and_they_compile(course, part):
    source = content.reference_code(content.read_source(course.solutions_dir, part))
    functions = [f.name for f in course.part(part).functions]
    changes = mutants(source, functions)
    assert {m.function for m in changes} == set(functions)
    assert len({m.id for m in changes}) == len(changes)
    compiled = [m for m in changes if m.module.module() is not None]
    assert len(compiled) >= 0.9 * len(changes)
    for m in changes:
        assert "BEGIN SOLUTION" not in m.words and "\n" not in m.words and len(m.words) < 200


def test_the_tables_kept_between_runs_are_the_tables_built(course, tmp_path):
    """The generated models' tables on disk give back exactly what building them gives, in a private folder;
    anything their key covers (here the tolerance) changed, and they are built again."""
    import dataclasses
    import stat

    import numpy as np

    from rnnkit.diagnosis.model import _close
    from rnnkit.grading import _Draws
    from rnnkit.hidden_tests import References
    from rnnkit.mutants.match import GeneratedModels

    draws = _Draws(course, 9, References(course))
    shared = draws.generated  # only for its sources and probes
    folder = tmp_path / ".rnnkit" / "cache" / "generated"

    def models(tolerance=course.tolerance):
        return GeneratedModels(shared.sources, shared.part_functions, shared.probes, shared.probe_answers, tolerance, folder)

    close = lambda a, b: _close(a, b, course.tolerance)  # noqa: E731
    functions = ["lstm_step_forward", "lstm_backward"]
    built = {f: models().table("lstm", f, close).rows for f in functions}
    files = sorted(folder.glob("*.npz"))
    assert len(files) == len(functions) and stat.S_IMODE(folder.stat().st_mode) == 0o700
    loaded = models()
    loaded._cache.save = lambda *args: pytest.fail("a kept table was built again")
    for function in functions:
        again = loaded.table("lstm", function, close).rows
        assert set(again) == set(built[function]) and built[function], function
        for structure, (mutants_, matrix) in built[function].items():
            assert [m.id for m in again[structure][0]] == [m.id for m in mutants_]
            assert np.array_equal(again[structure][1], matrix, equal_nan=True)
    looser = dataclasses.replace(course.tolerance, rtol=course.tolerance.rtol * 10)
    models(looser).table("lstm", functions[0], close)
    assert len(sorted(folder.glob("*.npz"))) == len(functions) + 1


def test_the_catalogues_probe_tables_kept_between_runs_agree_with_the_ones_built(course, tmp_path):
    """The catalogue's variants on the probes, kept on disk: a later run reads them (running no variant) and rules
    the same variants in for a student's probe outputs as building them does; the folder is private."""
    import stat

    from rnnkit import content
    from rnnkit.diagnosis.matching import Diagnoser, VariantProbes
    from rnnkit.hidden_tests import CaseSet, Probes, References

    references = References(course)
    part = course.part("bptt")
    caseset = CaseSet.draw(part, 9, references, Probes(references))
    folder = tmp_path / ".rnnkit" / "cache" / "catalogue"
    sources = {p.name: content.reference_code(content.read_source(course.solutions_dir, p.name)) for p in course.parts}
    student = list(caseset.probe_answers["rnn_backward"])  # a student whose probes are the reference's

    def agreeing(variant_probes):
        return Diagnoser(course, caseset, references.all(), variant_probes)._agreeing_on_probes("rnn_backward", student)

    built = agreeing(VariantProbes(folder, sources, course.tolerance))
    assert built and {key[0] for key in built} >= {"bptt_truncate_ignored"}  # right without truncation on these probes
    assert len(list(folder.glob("*.npz"))) == 1 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    kept = VariantProbes(folder, sources, course.tolerance)
    kept.outputs = lambda *args: pytest.fail("a kept table was built again")
    assert agreeing(kept) == built
    assert agreeing(VariantProbes()) == built  # no cache: the same
