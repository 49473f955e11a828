"""assignments/ is generated from solutions/, kept in sync, and leaks no reference code."""
from __future__ import annotations

import json

import nbformat
import pytest

from rnnkit import content
from rnnkit.build import render
from rnnkit.content import RegionError, split_regions, strip_solutions
from rnnkit.spec import API


def test_assignments_are_in_sync_with_solutions(course):
    expected = render(course)
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in course.assignments_dir.iterdir() if p.is_file()}
    stale = sorted(name for name in expected if on_disk.get(name) != expected[name])
    extra = sorted(set(on_disk) - set(expected))
    assert not stale and not extra, f"assignments/ is out of date ({stale or extra}): run `rnnkit build` (make build)"


def _notebook_code(course, part):
    notebook = nbformat.read(course.assignments_dir / f"{part}.ipynb", as_version=4)
    nbformat.validate(notebook)
    return notebook, "\n".join(c.source for c in notebook.cells if c.cell_type == "code")


@pytest.mark.parametrize("part", list(API))
def test_no_reference_code_leaks_into_the_notebooks(course, part):
    source = content.read_source(course.solutions_dir, part)
    regions = content.solution_regions(source)
    assert regions, "every part has solution regions"
    public_lines = {
        line.strip()
        for cell in source.cells
        for piece in split_regions(cell.source)
        if isinstance(piece, str)
        for line in piece.splitlines()
    }
    secret = {
        line.strip()
        for region in regions
        for line in region.lines
        if line.strip() and not line.strip().startswith("#") and line.strip() not in public_lines and len(line.strip()) > 8
    }
    _, code = _notebook_code(course, part)
    everything = code + (course.assignments_dir / "public_checks.json").read_text()
    leaked = sorted(line for line in secret if line in everything)
    assert not leaked, f"reference lines found in assignments/: {leaked[:5]}"


@pytest.mark.parametrize("part", list(API))
def test_each_graded_function_is_a_stub_with_a_hint_and_a_check_cell(course, part):
    notebook, code = _notebook_code(course, part)
    namespace: dict = {}
    exec(compile(code.replace("from rnnkit.checks import make_check", "make_check = lambda *a: (lambda f: None)"), part, "exec"), namespace)
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    for name in API[part]:
        fn = namespace[name]
        with pytest.raises(NotImplementedError, match="Hint: "):
            fn(*([None] * fn.__code__.co_argcount))
        assert "Returns" in (fn.__doc__ or "") and "shape" in fn.__doc__, f"{name}'s docstring states shapes"
        assert any(c.source.strip() == f'check("{name}")' for c in cells), f"no check cell for {name}"


def test_every_solution_region_has_a_hint(course):
    for part in API:
        for region in content.solution_regions(content.read_source(course.solutions_dir, part)):
            assert region.hint, f"a solution region in solutions/{part}.py has no '# HINT:' line"


def test_strip_solutions_keeps_indentation_and_text_outside_regions():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    # HINT: add one\n    return x + y\n    ### END SOLUTION\n"
    stub = strip_solutions(source)
    assert stub.startswith("def f(x):\n    y = 1\n")
    assert '    raise NotImplementedError("Not implemented yet. Hint: add one")' in stub
    assert "return x + y" not in stub


@pytest.mark.parametrize(
    "source",
    ["### BEGIN SOLUTION\nx\n", "x\n### END SOLUTION\n", "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n"],
)
def test_unbalanced_markers_are_errors(source):
    with pytest.raises(RegionError):
        split_regions(source)


def test_public_checks_file_covers_every_function_with_public_inputs_only(course):
    data = json.loads((course.assignments_dir / "public_checks.json").read_text())
    assert set(data["functions"]) == {f.name for f in course.functions}
    assert all(len(cases) >= 1 for cases in data["functions"].values())


def test_the_reference_notebook_passes_its_public_checks(course, references, capsys):
    from rnnkit.checks import PublicChecks, run_check

    public = PublicChecks.load(course.assignments_dir / "public_checks.json")
    for part in course.parts:
        namespace = vars(references[part.name])
        for function in part.functions:
            result = run_check(function.name, namespace, public)
            assert result.passed, str(result)


def test_public_inputs_are_not_the_hidden_inputs(course):
    import numpy as np

    from rnnkit.worker import calls
    from rnnkit.cases import DEFAULT_SEED, cases_for, public_cases_for

    def arrays(value):
        _, found = calls.encode(value)
        return [a for a in found if a.size > 1]

    for function in course.functions:
        hidden = [a for case in cases_for(function.name, DEFAULT_SEED) for a in arrays(case.args)]
        for case in public_cases_for(function.name):
            for public in arrays(case.args):
                assert not any(public.shape == h.shape and np.array_equal(public, h) for h in hidden), function.name
