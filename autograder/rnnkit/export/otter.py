"""otter-grader: ``rnnkit export otter`` writes one otter-assign master notebook per part.

``OUT/<part>/<part>.ipynb`` is a master notebook in otter-assign's format:

* an assignment config (raw cell): the part's name, otter's init cell, tests in
  otter's exception-based format, the support files below, solution stripping;
* the theory cells as they are;
* one *question* per graded function, worth its points in ``course.yml``: the
  solution cell (reference code between ``# BEGIN SOLUTION NO PROMPT`` /
  ``# END SOLUTION``, the kit's stub line after it), then its tests:

  - a **public** test worth 0 points: the kit's public check of the function,
    whose report (what was expected versus found, a hint, the finite-difference
    diagnosis) is what ``grader.check("f")`` shows a student;
  - one **hidden** test per hidden case of the kit, the question's points shared
    equally among them, so otter's score is the kit's partial credit by case;

* support files: ``public_checks.json`` and ``rnnkit/`` (the student edition,
  :mod:`.runtime`), which the tests import, and for students a ``requirements.txt``
  (otter-grader, numpy, matplotlib) and a ``README.md`` that says otter must be
  installed and how.

``otter assign OUT/<part>/<part>.ipynb DIST`` then writes the student notebook
(with ``grader.check(...)`` cells in place of the kit's ``check(...)`` cells) and
the autograder zip; ``otter run -a <zip> <submission>.ipynb`` grades one
submission without Docker.

otter runs the tests inside the student's kernel, with no time limit: a
submission can defeat them (see :mod:`.inkernel`). The hidden tests never print
a hidden input or answer: each one is a call with a packed case, and every
failure is an ``AssertionError`` whose message is in words. The secure path is
the kit's own grader and its Gradescope export.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import yaml

from .. import build, content
from ..cases import DEFAULT_SEED
from ..checks import PUBLIC_FILE
from ..course import Course, Part
from . import ExportError, hidden, inkernel, runtime

#: What a student needs to run a part's notebook, shipped beside it (otter copies it into the
#: student folder and the autograder, whose image needs the same packages).
REQUIREMENTS = "otter-grader=={otter}\nnumpy>=1.24\nmatplotlib\n"

#: The note beside each student notebook: its checks are otter's, so otter must be installed.
STUDENT_README = """# {title}

This notebook's checks use **otter-grader**: each `grader.check("...")` cell runs
otter's public tests on your function and tells you in plain words what passes and
what does not. Install otter before you open the notebook, in the Python that runs
Jupyter (a fresh virtual environment is best):

```sh
python3 -m venv .venv
.venv/bin/pip install -r requirements.txt jupyterlab
.venv/bin/jupyter lab {part}.ipynb
```

Keep the notebook in this folder: its first cell starts otter, and the checks use
the `rnnkit/` folder and `public_checks.json` beside it. Without otter, the first
cell stops with `ModuleNotFoundError: No module named 'otter'`: install it as
above, restart the kernel and run the cells again.

Hand in `{part}.ipynb` as your instructor asks. The grader runs hidden tests on
other inputs, so passing the checks here is a good sign, not a guarantee.
"""

BEGIN = "# BEGIN SOLUTION NO PROMPT"
END = "# END SOLUTION"

_DEF = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)


def assignment_config(part: Part) -> str:
    config = {
        "name": part.name,
        "init_cell": True,
        "check_all_cell": False,
        "export_cell": {"pdf": False},
        "files": ["rnnkit", PUBLIC_FILE, build.API_FILE, "requirements.txt", "README.md"],
        "strip_solutions_from_all_cells": True,
        "tests": {"files": False, "ok_format": False},
        "generate": {"pdf": False, "show_stdout": False, "show_hidden": False},
    }
    return "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False).rstrip()


def solution_source(source: str, where: str) -> str:
    """A cell's source for otter: each region between otter's markers, the kit's stub lines after it.

    otter drops the region from the student's copy ("NO PROMPT": no ``...``), which
    leaves exactly the kit's stub: ``# YOUR CODE HERE`` and the ``raise`` with the hint.
    """
    out = []
    for piece in content.split_regions(source):
        if not isinstance(piece, content.SolutionRegion):
            out.append(piece)
            continue
        try:
            indent, body = piece.body_ending_in_return()
        except content.RegionError as exc:
            raise ExportError(f"{where}: {exc}") from None
        out.append(f"{indent}{BEGIN}\n{body}{indent}{END}\n{content.stub_for(piece, indent)}")
    return "".join(out)


def _raw(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_raw_cell(text)


def _test_cell(config: dict, body: str) -> nbformat.NotebookNode:
    head = '""" # BEGIN TEST CONFIG\n' + yaml.safe_dump(config, sort_keys=False) + '""" # END TEST CONFIG\n'
    return nbformat.v4.new_code_cell(head + body)


def question_cells(function, solution: nbformat.NotebookNode, cases: list[dict], tolerance: list[float]) -> list:
    """The cells of one question: config, solution, public test, one hidden test per case."""
    tests = [
        _test_cell(
            {"hidden": False, "points": 0},
            f"def test_{function.name}_public(env):\n"
            "    from rnnkit.export.inkernel import otter_public_test\n"
            f'    otter_public_test(env, "{function.name}")\n',
        )
    ]
    for number, case in enumerate(cases, start=1):
        packed = inkernel.pack({"tolerance": tolerance, "case": case})
        tests.append(
            _test_cell(
                {"hidden": True},
                f"def test_{function.name}_hidden_{number}(env):\n"
                "    from rnnkit.export.inkernel import otter_hidden_test\n"
                f'    case = "{packed}"\n'
                f'    otter_hidden_test(env, "{function.name}", case)\n',
            )
        )
    return [
        _raw(f"# BEGIN QUESTION\nname: {function.name}\npoints: {function.points:g}"),
        _raw("# BEGIN SOLUTION"),
        solution,
        _raw("# END SOLUTION"),
        _raw("# BEGIN TESTS"),
        *tests,
        _raw("# END TESTS"),
        _raw("# END QUESTION"),
    ]


def master_notebook(course: Course, part: Part, cases: dict[str, list[dict]]) -> nbformat.NotebookNode:
    source = content.read_source(course.solutions_dir, part.name)
    functions = {f.name: f for f in part.functions}
    tolerance = hidden.tolerance(course)
    cells = [_raw(assignment_config(part))]
    asked = set()
    for index, cell in enumerate(source.cells):
        metadata = {k: v for k, v in cell.get("metadata", {}).items() if k == "tags"}
        where = f"solutions/{part.name}.py, cell {index + 1}"
        if cell.cell_type == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(cell.source, metadata=metadata))
        elif content.is_check_cell(cell):
            continue  # the public checks are otter tests now; otter adds grader.check(...) cells
        elif content.BEGIN in cell.source:
            new = nbformat.v4.new_code_cell(solution_source(cell.source, where), metadata=metadata)
            names = _DEF.findall(cell.source)
            if names and names[0] in functions and names[0] not in asked:
                function = functions[names[0]]
                cells += question_cells(function, new, cases[function.name], tolerance)
                asked.add(function.name)
            else:
                cells.append(new)
        else:
            cells.append(nbformat.v4.new_code_cell(cell.source, metadata=metadata))
    missing = [f for f in functions if f not in asked]
    if missing:
        raise ExportError(f"solutions/{part.name}.py: no cell defines {', '.join(missing)} first, so it cannot become an otter question")
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {"kernelspec": build.KERNELSPEC, "language_info": {"name": "python"}}
    return notebook


def _otter_version() -> str:
    """The otter-grader the kit's export is tested with: the installed one, else the ``ecosystem`` extra's."""
    try:
        from importlib.metadata import version

        return version("otter-grader")
    except Exception:
        return "7.0.0"


def export(course: Course, out_dir: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write ``out_dir/<part>/<part>.ipynb`` and its support files for every part; return the paths."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ExportError(f"{out_dir} is not empty; choose a new or empty folder")
    cases = hidden.hidden_cases(course, seed)
    public = json.dumps(build.public_checks(course), indent=1) + "\n"
    api_path = course.root / "docs" / build.API_FILE
    api = api_path.read_text(encoding="utf-8") if api_path.is_file() else "See your instructor for the student API.\n"
    written = []
    for part in course.parts:
        folder = out_dir / part.name
        folder.mkdir(parents=True)
        notebook = master_notebook(course, part, cases)
        nbformat.validate(notebook)
        path = folder / f"{part.name}.ipynb"
        text = nbformat.writes(notebook) + "\n"
        path.write_text(text, encoding="utf-8")
        (folder / PUBLIC_FILE).write_text(public, encoding="utf-8")
        (folder / "requirements.txt").write_text(REQUIREMENTS.format(otter=_otter_version()), encoding="utf-8")
        (folder / "README.md").write_text(STUDENT_README.format(title=part.title, part=part.name), encoding="utf-8")
        (folder / build.API_FILE).write_text(api, encoding="utf-8")  # the notebooks link to it beside them
        written += [folder / "requirements.txt", folder / "README.md", folder / build.API_FILE]
        from .release import code_of

        written += [path, folder / PUBLIC_FILE, *runtime.write_package(folder, runtime.kit_modules_used_by(code_of({path.name: text})))]
    return written
