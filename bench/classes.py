"""The synthetic class: who hands in what, written in each grader's own layout.

``plan_class`` gives every student, part by part, a draw from a realistic mix
(:data:`MIX`): the reference solution, a correct alternative from
``tests/corpus``, a wrong variant from ``tests/corpus`` (a whole module with one
typical mistake), or the untouched stub. The same choices fill the solution
cells of each grader's own student notebook: ``assignments/<part>.ipynb`` for
rnnkit, nbgrader's generated ``release/`` notebooks for ``nbgrader autograde``,
otter's ``student/`` notebooks for ``otter run``.
"""
from __future__ import annotations

import ast
import copy
import json
import random
import re
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rnnkit import content
from rnnkit.course import Course

from .machine import BIN, ROOT, run, tool_env

ASSIGNMENT = "rnn"
#: What a student hands in for one part, and how often.
MIX = (("reference", 0.45), ("correct variant", 0.10), ("wrong variant", 0.30), ("stub", 0.15))


@dataclass(frozen=True)
class Choice:
    kind: str  # one of MIX
    source: str  # "solutions/<part>.py", "tests/corpus/<part>/<file>.py" or "stub"


def plan_class(course: Course, students: int, seed: int) -> dict[str, dict[str, Choice]]:
    """Who hands in what, part by part. The first n students of a larger plan are the plan of n."""
    rng = random.Random(seed)
    corpus = {p.name: sorted((ROOT / "tests" / "corpus" / p.name).glob("*.py")) for p in course.parts}
    plan = {}
    for i in range(students):
        parts = {}
        for part in course.parts:
            roll, kind = rng.random(), MIX[-1][0]
            for name, share in MIX:
                if roll < share:
                    kind = name
                    break
                roll -= share
            pick = rng.random()  # drawn for every part, so the plan does not shift with the kinds
            if kind == "reference":
                parts[part.name] = Choice(kind, f"solutions/{part.name}.py")
            elif kind == "stub":
                parts[part.name] = Choice(kind, "stub")
            else:
                pool = [p for p in corpus[part.name] if p.name.startswith("correct_") == (kind == "correct variant")]
                parts[part.name] = Choice(kind, str(pool[int(pick * len(pool))].relative_to(ROOT)))
        plan[f"s{i:04d}"] = parts
    return plan


_DEF = re.compile(r"^def\s+(\w+)\s*\(", re.MULTILINE)
_MARKERS = (content.BEGIN, content.END)


def module_text(course: Course, choice: Choice, part: str) -> str:
    """The code a student wrote, as one module."""
    if choice.kind == "reference":
        code = content.reference_code(content.read_source(course.solutions_dir, part))
        return "".join(
            line for line in code.splitlines(keepends=True) if line.strip() not in _MARKERS and not line.strip().startswith("# HINT:")
        )
    return (ROOT / choice.source).read_text(encoding="utf-8")


def _pieces(text: str) -> list[tuple[str | None, str]]:
    """Top-level statements of a module: (function name or None, source), in order."""
    lines = text.splitlines(keepends=True)
    pieces = []
    for node in ast.parse(text).body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        name = node.name if isinstance(node, ast.FunctionDef) else None
        pieces.append((name, "".join(lines[first - 1 : node.end_lineno])))
    return pieces


def _cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def is_stub_cell(cell: dict) -> bool:
    """A cell the student fills: it defines functions whose bodies are stubs."""
    source = _cell_source(cell)
    return cell.get("cell_type") == "code" and "NotImplementedError" in source and bool(_DEF.search(source))


def fill(notebook: dict, module: str) -> dict:
    """``notebook`` with its stub cells replaced by ``module``'s functions of the same names.

    The module's other statements (imports, constants, helpers) open the first stub cell;
    a function the module does not define keeps its stub.
    """
    notebook = copy.deepcopy(notebook)
    cells = [c for c in notebook["cells"] if is_stub_cell(c)]
    names = [_DEF.findall(_cell_source(c)) for c in cells]
    in_cells = {n for group in names for n in group}
    pieces = _pieces(module)
    functions = {name: text for name, text in pieces if name}
    preamble = [text for name, text in pieces if name not in in_cells]
    for index, (cell, group) in enumerate(zip(cells, names)):
        own = {name: text for name, text in _pieces(_cell_source(cell)) if name}
        chunks = (preamble if index == 0 else []) + [functions.get(name, own.get(name, "")) for name in group]
        cell["source"] = "\n\n".join(chunk.rstrip("\n") for chunk in chunks if chunk) + "\n"
        cell["outputs"], cell["execution_count"] = [], None
    return notebook


class Notebooks:
    """Filled notebooks as text, per (layout, part, choice); each is made once and written many times."""

    def __init__(self, course: Course, blanks: dict[str, dict[str, Path]]):
        self.course = course
        self.blanks = {layout: {part: json.loads(path.read_text(encoding="utf-8")) for part, path in parts.items()} for layout, parts in blanks.items()}
        self.cache: dict[tuple[str, str, Choice], str] = {}
        for layout, parts in self.blanks.items():  # every layout must offer the same cells to fill
            for part, notebook in parts.items():
                mine = [_DEF.findall(_cell_source(c)) for c in notebook["cells"] if is_stub_cell(c)]
                kit = [_DEF.findall(_cell_source(c)) for c in self.blanks["rnnkit"][part]["cells"] if is_stub_cell(c)]
                if mine != kit:
                    raise RuntimeError(f"{layout}'s {part} notebook has other stub cells than the kit's: {mine} vs {kit}")

    def text(self, layout: str, part: str, choice: Choice) -> str:
        key = (layout, part, choice)
        if key not in self.cache:
            blank = self.blanks[layout][part]
            notebook = blank if choice.kind == "stub" else fill(blank, module_text(self.course, choice, part))
            self.cache[key] = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
        return self.cache[key]


def write_rnnkit_class(folder: Path, plan: dict, notebooks: Notebooks) -> Path:
    for student, parts in plan.items():
        (folder / student).mkdir(parents=True)
        for part, choice in parts.items():
            (folder / student / f"{part}.ipynb").write_text(notebooks.text("rnnkit", part, choice), encoding="utf-8")
    return folder


def write_nbgrader_submissions(course_dir: Path, plan: dict, notebooks: Notebooks) -> None:
    """``submitted/<student>/<assignment>/``: the released folder (support files too), notebooks filled."""
    release = course_dir / "release" / ASSIGNMENT
    for student, parts in plan.items():
        folder = course_dir / "submitted" / student / ASSIGNMENT
        shutil.copytree(release, folder, ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
        for part, choice in parts.items():
            (folder / f"{part}.ipynb").write_text(notebooks.text("nbgrader", part, choice), encoding="utf-8")


def write_otter_submissions(folder: Path, plan: dict, notebooks: Notebooks) -> None:
    """``<student>/<part>/<part>.ipynb``: one folder per notebook, where ``otter run`` writes results.json."""
    for student, parts in plan.items():
        for part, choice in parts.items():
            (folder / student / part).mkdir(parents=True)
            (folder / student / part / f"{part}.ipynb").write_text(notebooks.text("otter", part, choice), encoding="utf-8")


def kind_counts(plan: dict) -> Counter:
    return Counter(choice.kind for parts in plan.values() for choice in parts.values())


def describe_mix(plan: dict) -> str:
    counts = kind_counts(plan)
    total = sum(counts.values())
    return ", ".join(f"{counts[k]} {k}" for k, _ in MIX) + f" ({total} notebooks)"


# --------------------------------------------------------------------------- the exports


def prepare_exports(work: Path, course: Course) -> dict[str, Path]:
    """nbgrader's course with its generated release, otter's student notebooks and autograder zips."""
    started = time.perf_counter()
    nbgrader_dir = work / "nbgrader"
    run([str(BIN / "rnnkit"), "export", "nbgrader", "--out", str(nbgrader_dir), "--assignment", ASSIGNMENT], cwd=work)
    run([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT], cwd=nbgrader_dir)
    masters = work / "otter-masters"
    run([str(BIN / "rnnkit"), "export", "otter", "--out", str(masters)], cwd=work)
    processes = [
        subprocess.Popen(
            [str(BIN / "otter"), "assign", f"{p.name}.ipynb", str(work / "otter-dist" / p.name)],
            cwd=masters / p.name, env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for p in course.parts
    ]
    for process in processes:
        output, _ = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"otter assign failed:\n{output[-3000:]}")
    print(f"exports ready in {time.perf_counter() - started:.0f} s (nbgrader generate_assignment, otter assign)", flush=True)
    return {"nbgrader": nbgrader_dir, "otter": work / "otter-dist"}


def blank_notebooks(course: Course, exports: dict[str, Path] | None) -> dict[str, dict[str, Path]]:
    blanks = {"rnnkit": {p.name: course.assignments_dir / f"{p.name}.ipynb" for p in course.parts}}
    if exports:
        blanks["nbgrader"] = {p.name: exports["nbgrader"] / "release" / ASSIGNMENT / f"{p.name}.ipynb" for p in course.parts}
        blanks["otter"] = {p.name: exports["otter"] / p.name / "student" / f"{p.name}.ipynb" for p in course.parts}
    return blanks
