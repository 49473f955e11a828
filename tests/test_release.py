"""`rnnkit release`: what students get works without the kit, and gives nothing away."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from rnnkit import content
from rnnkit.build import render
from rnnkit.cli import main
from rnnkit.content import split_regions
from rnnkit.export import release as release_module
from rnnkit.export import runtime
from rnnkit.grading import discover, grade_class

from .conftest import reference_source


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "rnn-course"
    result = CliRunner().invoke(main, ["release", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _files(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_the_release_holds_the_notebooks_the_checks_and_nothing_of_the_instructor(course, release_dir):
    files = _files(release_dir)
    notebooks = {name for name in render(course) if name.endswith(".ipynb")}
    for part in course.parts:
        assert f"{part.name}.ipynb" in files
    left_out = release_module.plan(course)[1]
    assert left_out == {} and "char_rnn.ipynb" in files, "the capstone ships"
    assert {n for n in files if n.endswith(".ipynb")} == notebooks
    capstone = {"rnnkit/demo.py", "rnnkit/probes.py", "rnnkit/partfiles.py", "rnnkit/plots.py", "rnnkit/worker/cells.py", "rnnkit/data/the_raven.txt"}
    assert capstone <= set(files), "the capstone's modules and its text"
    assert "char_rnn.ipynb" in files["README.md"].read_text(encoding="utf-8")
    assert {"README.md", "requirements.txt", "public_checks.json", "rnnkit/checks.py", "rnnkit/__init__.py"} <= set(files)
    extra = {n for n in files if not n.endswith(".ipynb") and not n.startswith("rnnkit/")}
    assert extra == {"README.md", "requirements.txt", "public_checks.json", "student-api.md"}
    kit_only = {"grading.py", "content.py", "build.py", "examples.py", "feedback.py", "cli.py", "course_schema.json"}
    shipped = {Path(n).name for n in files if n.startswith("rnnkit/")}
    assert not shipped & kit_only, "instructor modules in the release"
    assert not any(n.startswith(("rnnkit/sandbox", "rnnkit/example_class", "rnnkit/diagnosis", "rnnkit/cases")) for n in files)
    assert not any(n.endswith(".yml") or n.startswith("solutions") for n in files)
    for name in runtime.WITHHELD:
        assert f"rnnkit/{name}" not in files


def test_every_link_in_the_released_notebooks_leads_to_a_released_file(release_dir):
    """A relative link in a notebook's text (the student API above all) opens from the release itself."""
    import re

    links = []
    for notebook in sorted(release_dir.glob("*.ipynb")):
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.cell_type == "markdown":
                links += [(notebook.name, target) for target in re.findall(r"\]\(([^)\s]+)\)", cell.source)]
    relative = [(name, t) for name, t in links if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert any(t == "student-api.md" for _, t in relative), "the notebooks link to the student API"
    missing = [(name, t) for name, t in relative if not (release_dir / t.split("#")[0]).is_file()]
    assert not missing, missing


def test_the_notebooks_are_those_of_the_build(course, release_dir):
    for name, text in render(course).items():
        if name.endswith(".ipynb") and (release_dir / name).exists():
            assert (release_dir / name).read_text(encoding="utf-8") == text
    assert (release_dir / "public_checks.json").read_text(encoding="utf-8") == render(course)["public_checks.json"]


def _secret_lines(course, part: str) -> set[str]:
    """Lines of the reference solutions of ``part`` that appear nowhere outside its solution regions (as in test_build)."""
    source = content.read_source(course.solutions_dir, part)
    public = {
        line.strip()
        for cell in source.cells
        for piece in split_regions(cell.source)
        if isinstance(piece, str)
        for line in piece.splitlines()
    }
    return {
        line.strip()
        for region in content.solution_regions(source)
        for line in region.lines
        if line.strip()
        and not line.strip().startswith("#")
        and line.strip() not in public
        and len(line.strip()) > 8
        and re.search(r"[(\[@*/+\-=<>]", line)  # computes something: not a bare `return grads`
    }


def test_no_reference_source_line_in_any_released_file(course, release_dir):
    secret = set().union(*(_secret_lines(course, p.name) for p in course.parts))
    assert len(secret) > 50, "the leak test found too few reference lines to be meaningful"
    for name, path in _files(release_dir).items():
        text = path.read_text(encoding="utf-8")
        leaked = sorted(line for line in secret if line in text)
        assert not leaked, f"reference lines in {name}: {leaked[:5]}"


RUN_CHECKS = r"""
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]  # the release, and a folder holding numpy alone
import numpy as np

def run_notebook(path, namespace):
    notebook = json.load(open(path))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and "plot" not in cell["metadata"].get("tags", []):
            exec(compile("".join(cell["source"]), path, "exec"), namespace)

for part in sys.argv[3:]:
    run_notebook(part + ".ipynb", {"__name__": "__main__"})

namespace = {"__name__": "__main__"}
run_notebook("rnn_forward.ipynb", namespace)
def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
namespace["softmax"] = softmax
namespace["check"]("softmax")
namespace["softmax"] = lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
namespace["check"]("softmax")

import rnnkit, rnnkit.checks, rnnkit.export.inkernel
print("RNNKIT_FROM", rnnkit.__file__)
print("MODULES", sorted(m.split(".")[0] for m in sys.modules if m.split(".")[0] in ("yaml", "jsonschema", "jupytext", "nbformat", "click", "rich", "IPython")))
"""


def test_the_public_checks_run_from_the_release_with_numpy_alone(course, release_dir, tmp_path):
    numpy_only = tmp_path / "numpy-only"
    numpy_only.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for name in ("numpy", "numpy.libs"):
        if (site / name).exists():
            (numpy_only / name).symlink_to(site / name)
    parts = [p.name for p in course.parts]
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RUN_CHECKS, str(release_dir), str(numpy_only), *parts],
        cwd=release_dir, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for function in course.functions:
        assert f"{function.name}: NOT IMPLEMENTED YET" in out, f"no public check ran for {function.name}"
    assert "softmax: PASSED" in out
    assert "softmax: FAILED" in out and "Hint:" in out
    assert f"RNNKIT_FROM {release_dir / 'rnnkit' / '__init__.py'}" in out
    assert "MODULES []" in out, "the student edition imported a dependency of the full kit"


def test_grading_the_release_as_a_submission_scores_zero_everywhere(course, release_dir):
    (student,) = grade_class(discover(release_dir, course), course, jobs=2)
    assert {name: r.score for name, r in student.functions.items()} == {f.name: 0 for f in course.functions}
    assert all(r.not_implemented for r in student.functions.values())
    assert set(student.ignored_files) >= {"README.md", "public_checks.json", "rnnkit"}


def test_a_release_never_overwrites_a_folder(course, tmp_path):
    (tmp_path / "mine.txt").write_text("mine")
    result = CliRunner().invoke(main, ["release", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "not empty" in result.output
    assert (tmp_path / "mine.txt").read_text() == "mine"


def test_the_student_edition_refuses_modules_students_must_not_have():
    with pytest.raises(release_module.ExportError, match="students do not have|cannot ship"):
        runtime.package_files({"grading.py"})
    with pytest.raises(release_module.ExportError, match=r"cannot ship rnnkit/content.py \(it loads the reference solutions\)"):
        runtime.package_files({"content.py"})
    with pytest.raises(release_module.ExportError, match=r"rnnkit/diagnosis/__init__.py \(it recognises mistakes"):
        runtime.package_files({"diagnosis/parts/bptt.py"})
    shipped = runtime.package_files({"demo.py"})
    assert "rnnkit/demo.py" in shipped and "rnnkit/content.py" not in shipped


def test_a_notebook_needing_a_withheld_module_is_left_out(course):
    files, left_out = release_module.plan(course)
    for name, why in left_out.items():
        assert name not in files and "rnnkit/" in why
    notebook_code = {n: t for n, t in render(course).items() if n.endswith(".ipynb")}
    for name, text in notebook_code.items():
        needs = runtime.kit_modules_used_by(release_module.code_of({name: text}))
        assert (name in left_out) == bool(runtime.withheld(needs))
    json.loads(files["public_checks.json"])
    nbformat.reads(files["rnn_forward.ipynb"], as_version=4)


RUN_CAPSTONE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])  # the release's rnnkit, not the kit's
import matplotlib
matplotlib.use("Agg")
namespace = {"__name__": "__main__"}
for number, cell in enumerate(json.load(open("char_rnn.ipynb"))["cells"], start=1):
    if cell["cell_type"] == "code":
        exec(compile("".join(cell["source"]), f"char_rnn cell {number}", "exec"), namespace)
import rnnkit
print("RNNKIT_FROM", rnnkit.__file__)
print("MODULES", sorted({m.split(".")[0] for m in sys.modules} & {"yaml", "jsonschema", "jupytext", "nbformat", "click", "rich"}))
print("KIT", sorted(m for m in sys.modules if m.startswith("rnnkit.") and m.split(".")[1] in ("content", "cases", "diagnosis", "grading")))
"""


def _run_capstone(folder: Path) -> str:
    env = {"PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg", "RNNKIT_DEMO_STEPS": "6", "RNNKIT_DEMO_HIDDEN": "8", "RNNKIT_DEMO_SAMPLE_LENGTH": "30"}
    result = subprocess.run(
        [sys.executable, "-I", "-c", RUN_CAPSTONE, str(folder)], cwd=folder, capture_output=True, text=True, timeout=180, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stdout
    assert f"RNNKIT_FROM {folder / 'rnnkit' / '__init__.py'}" in result.stdout
    assert "MODULES []" in result.stdout and "KIT []" in result.stdout, "the capstone used a module of the instructor's kit"
    return result.stdout


def test_the_capstone_runs_from_the_release_with_the_students_own_functions(course, release_dir, tmp_path):
    import shutil

    import jupytext

    # As released: every part still a stub. Nothing trains, and it says what to finish first.
    untouched = _run_capstone(release_dir)
    assert "0 of 13 functions are usable." in untouched
    assert "The nearest is the vanilla RNN: finish `softmax`" in untouched
    assert "before training" not in untouched and "No model trained yet" in untouched

    # The same folder with every part done: all three models train, from the release alone.
    done = tmp_path / "done"
    shutil.copytree(release_dir, done)
    for part in course.parts:
        nbformat.write(jupytext.read(content.source_path(course.solutions_dir, part.name)), done / f"{part.name}.ipynb")
    finished = _run_capstone(done)
    assert "13 of 13 functions are usable." in finished
    for model in ("vanilla RNN", "LSTM", "GRU"):
        assert f"The {model} trains with your functions." in finished and f"--- {model}, after 6 updates ---" in finished


def test_the_checks_run_from_a_terminal_in_the_release(course, release_dir):
    """`python -m rnnkit check PART` in the release folder: each verdict once, and the exit code says whether all pass."""
    stub = subprocess.run([sys.executable, "-m", "rnnkit", "check", "rnn_forward"], cwd=release_dir, capture_output=True, text=True, timeout=120)
    assert stub.returncode == 1, stub.stderr[-2000:]
    assert stub.stdout.count("softmax: NOT IMPLEMENTED YET") == 1
    assert "0 of 4 functions of rnn_forward pass their public checks." in stub.stdout
    done = release_dir.parent / "done_rnn_forward.py"
    done.write_text(reference_source(course, "rnn_forward"), encoding="utf-8")
    solved = subprocess.run([sys.executable, "-m", "rnnkit", "check", "rnn_forward", str(done)], cwd=release_dir, capture_output=True, text=True, timeout=120)
    assert solved.returncode == 0, solved.stdout[-2000:] + solved.stderr[-2000:]
    assert "4 of 4 functions of rnn_forward pass their public checks." in solved.stdout
