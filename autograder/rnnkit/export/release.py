"""``rnnkit release``: the folder students get.

* ``<part>.ipynb``: the notebooks of ``assignments/``, byte for byte what ``rnnkit build`` writes,
  the ungraded capstone ``char_rnn.ipynb`` included;
* ``public_checks.json``: the public cases and their answers;
* ``rnnkit/``: the student edition of the kit (:mod:`.runtime`), so that
  ``from rnnkit.checks import make_check`` works with numpy alone, and
  ``from rnnkit import demo`` (the capstone, which trains with the student's
  own functions only) with numpy and matplotlib;
* ``requirements.txt`` and ``README.md`` for students.

Nothing else: no reference code, no hidden tests, no ``course.yml``.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from .. import build
from ..checks import PUBLIC_FILE
from ..course import Course
from . import ExportError, runtime

README = """# {title}

These notebooks teach recurrent neural networks from first principles. In
each one you read the theory, then complete numpy functions.

| notebook | part |
|---|---|
{table}

## Setting up

You need Python 3.10 or newer, numpy and Jupyter (matplotlib draws the plots):

```sh
python3 -m venv .venv
.venv/bin/pip install -r requirements.txt
.venv/bin/jupyter lab        # or: jupyter notebook
```

Open the notebooks **from this folder**: the `check(...)` cells use the small
`rnnkit/` package and `public_checks.json` that sit beside them.

## Working on a part

Replace each `raise NotImplementedError(...)` with your code (keep the function's
name and arguments), then run the `check("function_name")` cell below it. A check
runs your function on a few small public cases and tells you in plain words
whether it passes and, if not, what was expected versus found, with a hint. For
gradients it also compares your backward pass with finite differences of your own
forward pass, so you know which of the two to fix.

From a terminal, in this folder, the same checks for a whole part:

```sh
.venv/bin/python -m rnnkit check bptt                 # bptt.ipynb here
.venv/bin/python -m rnnkit check bptt my_bptt.py      # or another notebook or module
```

{capstone}## Handing in

Hand in the notebooks (`<part>.ipynb`) as your instructor asks. The grader runs
every function on hidden test cases with other, random inputs: passing the public
checks is a good sign, not a guarantee. Only the notebooks are graded; the other
files in this folder are not needed in your submission.
"""

CAPSTONE = """## The capstone: `char_rnn.ipynb`

Ungraded, nothing to fill in: it trains a character-level language model (a
vanilla RNN, an LSTM and a GRU) with your own functions from the notebooks
beside it. It says which of your functions it can use, and trains each model
whose functions all work; the others are skipped, with the reason. Run it
again whenever you finish a part.

"""

REQUIREMENTS = "numpy>=1.24\nmatplotlib\njupyterlab\n"


def code_of(files: dict[str, str]):
    """The code cells of the notebooks among ``files`` (name -> text)."""
    for name, text in files.items():
        if name.endswith(".ipynb"):
            for cell in nbformat.reads(text, as_version=4).cells:
                if cell.cell_type == "code":
                    yield cell.source


def plan(course: Course) -> tuple[dict[str, str], dict[str, str]]:
    """(every file of the release by relative path, the notebooks left out and why).

    A notebook that needs a kit module students must not get (:data:`.runtime.WITHHELD`)
    is left out rather than shipped broken or shipped with that module.
    """
    assignments = build.render(course)
    if PUBLIC_FILE not in assignments:
        raise ExportError(f"the build produced no {PUBLIC_FILE}")
    files, left_out, modules = {}, {}, set()
    for name, text in assignments.items():
        needs = runtime.kit_modules_used_by(code_of({name: text})) if name.endswith(".ipynb") else set()
        refused = runtime.withheld(needs)
        if refused:
            left_out[name] = "; ".join(f"it needs rnnkit/{module}, which {why.removeprefix('it ')}" for module, why in refused.items())
            continue
        files[name] = text
        modules |= needs
    files.update(runtime.package_files(modules))
    table = "\n".join(f"| `{p.name}.ipynb` | {p.title} |" for p in course.parts if f"{p.name}.ipynb" in files)
    capstone = CAPSTONE if "char_rnn.ipynb" in files else ""
    files["README.md"] = README.format(title=course.title, table=table, capstone=capstone)
    files["requirements.txt"] = REQUIREMENTS
    return files, left_out


def render(course: Course) -> dict[str, str]:
    """Every file of the release, by relative path, as text."""
    return plan(course)[0]


def release(course: Course, out_dir: Path) -> tuple[list[Path], dict[str, str]]:
    """Write the student release into ``out_dir`` (new or empty); return the paths written and the notebooks left out."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ExportError(f"{out_dir} is not empty; choose a new or empty folder for the release")
    files, left_out = plan(course)
    written = []
    for name, text in files.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written, left_out
