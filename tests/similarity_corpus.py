"""Classes of students built from the corpus, for the similarity tests and benchmark.

Each function of a part has a pool of distinct implementations (distinct as
tokens: names, comments and layout do not count) taken from the corpus and the
reference: the correct ones from ``correct_*`` modules and ``solutions/``, the
wrong ones from the other modules, each with the mistake its header names. An
*independent* student draws every function on its own from those pools
(mostly correct ones) and hands in the released notebook with their cells
filled in. A *planted copy* takes another student's files and disguises them:
every local name renamed, functions reordered, comments replaced, code
reformatted (``ast.unparse``), and one function swapped for another
implementation.
"""
from __future__ import annotations

import ast
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from rnnkit import content
from rnnkit.course import Course
from rnnkit.discovery import Submission
from rnnkit.diagnosis import Diagnosis
from rnnkit.results import CaseOutcome, FunctionResult, PartNotes, StudentResult
from rnnkit.similarity.tokens import fingerprint

CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True)
class Impl:
    function: str
    source: str  # helpers it needs, then the function
    mistake: str | None
    origin: str


def _header(text: str, key: str) -> str | None:
    m = re.search(rf"^# {key}: (.+)$", text, re.MULTILINE)
    return m.group(1).strip() if m else None


def _needed(name: str, tree: ast.Module, skip: set[str]) -> list[ast.stmt]:
    """The module-level helpers (functions, constants) ``name`` uses, except those in ``skip``, in file order."""
    defs: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            defs[node.name] = node
        elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            for t in node.targets:
                defs[t.id] = node
    found, todo = set(), [name]
    while todo:
        current = todo.pop()
        for node in ast.walk(defs[current]):
            if isinstance(node, ast.Name) and node.id in defs and node.id not in skip and node.id not in found and node.id != name:
                found.add(node.id)
                todo.append(node.id)
    wanted = {id(defs[n]) for n in found}
    return [node for node in tree.body if id(node) in wanted]


def _tokens(source: str) -> str:
    fp = fingerprint(source, 5, 1)
    return fp.filtered_code if fp is not None else source


def pools(course: Course) -> dict[str, dict[str, dict[str, list[Impl]]]]:
    """part -> function -> {"right": [...], "wrong": [...]}, distinct as tokens."""
    out = {}
    everywhere = {f.name for f in course.functions} | {n for p in course.parts for n in stub_functions(course, p.name)}
    for part in course.parts:
        graded = {f.name for f in part.functions}
        sources = [("reference", content.reference_code(content.read_source(course.solutions_dir, part.name)), None, set())]
        for path in sorted((CORPUS / part.name).glob("*.py")):
            text = path.read_text(encoding="utf-8")
            expect = _header(text, "expect") or "pass"
            failing = set() if expect == "pass" else {f.strip() for f in expect[5:].split(",")}
            sources.append((path.stem, text, _header(text, "mistake") or path.stem, failing))
        right: dict[str, list[Impl]] = {f: [] for f in graded}
        wrong: dict[str, list[Impl]] = {f: [] for f in graded}
        seen: dict[str, set[str]] = {f: set() for f in graded}
        for origin, text, mistake, failing in sources:  # the reference and the correct modules come first
            tree = ast.parse(text)
            defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
            for fname in sorted(graded & defs.keys()):
                seg = ast.get_source_segment(text, defs[fname])
                helpers = [ast.get_source_segment(text, h) for h in _needed(fname, tree, everywhere)]
                src = "\n\n\n".join(helpers + [seg]) + "\n"
                tok = _tokens(src)
                if tok in seen[fname]:
                    continue
                seen[fname].add(tok)
                if fname in failing:
                    wrong[fname].append(Impl(fname, src, mistake, origin))
                elif not failing:
                    right[fname].append(Impl(fname, src, None, origin))
        out[part.name] = {f: {"right": right[f], "wrong": wrong[f]} for f in graded}
    return out


@dataclass
class Student:
    name: str
    #: part -> function -> the implementation handed in (None: the stub left as it is)
    impls: dict[str, dict[str, Impl | None]]
    files: dict[str, str]  # part filename -> text


def _stub_cells(course: Course, part: str) -> list[dict]:
    return json.loads((course.assignments_dir / f"{part}.ipynb").read_text(encoding="utf-8"))["cells"]


def _defines(cell: dict) -> str | None:
    src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    m = re.match(r"def (\w+)\(", src)
    return m.group(1) if m else None


def stub_functions(course: Course, part: str) -> list[str]:
    """The functions the released notebook asks for, graded or pasted from an earlier part, in order."""
    return [n for n in (_defines(c) for c in _stub_cells(course, part) if c["cell_type"] == "code") if n]


def notebook(course: Course, part: str, chosen: dict[str, str | None], order: list[str] | None = None) -> str:
    """The released notebook with each function's cell replaced by ``chosen[function]`` (None: the stub stays)."""
    cells = _stub_cells(course, part)
    out: list[tuple[str | None, dict]] = []
    for cell in cells:
        fname = _defines(cell) if cell["cell_type"] == "code" else None
        if fname and chosen.get(fname) is not None:
            cell = dict(cell, source=chosen[fname], outputs=[], execution_count=None)
        out.append((fname, cell))
    if order:  # move the function cells into ``order`` (each function's cell with the check cell after it)
        blocks, rest, i = {}, [], 0
        while i < len(out):
            if out[i][0] in order:
                blocks[out[i][0]] = [c for _, c in out[i : i + 2]]
                i += 2
            else:
                rest.append(out[i][1])
                i += 1
        cells_out = rest + [c for f in order if f in blocks for c in blocks[f]]
    else:
        cells_out = [c for _, c in out]
    nb = json.loads((course.assignments_dir / f"{part}.ipynb").read_text(encoding="utf-8"))
    nb["cells"] = cells_out
    return json.dumps(nb, indent=1)


def _chosen_sources(course: Course, part: str, impls: dict[str, dict[str, Impl | None]], render=lambda impl: impl.source) -> dict[str, str | None]:
    """Source per function of ``part``'s notebook: its own functions, and those pasted from other parts."""
    where = {f.name: f.part for f in course.functions}
    chosen = {}
    for name in stub_functions(course, part):
        impl = impls.get(where.get(name, part), {}).get(name)
        chosen[name] = render(impl) if impl is not None else None
    return chosen


def independent(course: Course, pool, name: str, rng: random.Random, p_wrong: float = 0.15, p_stub: float = 0.03, style: bool = True) -> Student:
    """A student who draws each function on its own; ``style``: with habits of their own (:func:`habits`)."""
    impls, files = {}, {}
    mine = habits(rng) if style else None
    for part in course.parts:
        impls[part.name] = {}
        for f in part.functions:
            choices = pool[part.name][f.name]
            r = rng.random()
            if r < p_stub:
                impl = None
            elif r < p_stub + p_wrong and choices["wrong"]:
                impl = rng.choice(choices["wrong"])
            else:
                impl = rng.choice(choices["right"])
            if impl is not None and mine is not None:
                impl = Impl(impl.function, styled(impl.source, mine, rng), impl.mistake, impl.origin + "+style")
            impls[part.name][f.name] = impl
    for part in course.parts:
        files[f"{part.name}.ipynb"] = notebook(course, part.name, _chosen_sources(course, part.name, impls))
    return Student(name, impls, files)


class _Rename(ast.NodeTransformer):
    def __init__(self, keep: set[str], rng: random.Random):
        self.keep, self.rng, self.map = keep, rng, {}

    def _new(self, old: str) -> str:
        if old in self.keep:
            return old
        if old not in self.map:
            self.map[old] = f"{self.rng.choice(['val', 'tmp', 'my', 'q', 'buf', 'arr'])}_{len(self.map)}"
        return self.map[old]

    def visit_arg(self, node):
        node.arg = self._new(node.arg)
        return node

    def visit_Name(self, node):
        node.id = self._new(node.id)
        return node


_COMMENTS = ["# compute it step by step", "# my version", "# loop over time", "# vectorised", "# TODO tidy up", "# works now"]


def disguise(source: str, keep: set[str], rng: random.Random) -> str:
    """Rename every local name, drop the comments, reformat, add other comments."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            _Rename(keep, rng).visit(node)
            node.body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(getattr(b, "value", None), ast.Constant) and isinstance(b.value.value, str))] or node.body
    lines = []
    for line in ast.unparse(tree).splitlines():
        if rng.random() < 0.2 and line.strip() and line.startswith("    "):
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(indent + rng.choice(_COMMENTS))
        lines.append(line)
    return "\n".join(lines) + "\n"


def planted_copy(course: Course, pool, original: Student, name: str, rng: random.Random) -> tuple[Student, str]:
    """A disguised copy of ``original``; returns it and the function swapped for another implementation."""
    keep = {"np", "None", "True", "False", "range", "len", "float", "int", "abs", "max", "min", "sum", "zip", "dict", "list", "tuple", "enumerate", "reversed", "isinstance"}
    keep |= {f.name for f in course.functions}
    impls = {p: dict(v) for p, v in original.impls.items()}
    candidates = [(p, f) for p, fs in impls.items() for f, i in fs.items() if i is not None]
    part, fname = rng.choice(candidates)
    options = [i for i in pool[part][fname]["right"] + pool[part][fname]["wrong"] if i != impls[part][fname]]
    if options:
        impls[part][fname] = rng.choice(options)
    def render(impl: Impl) -> str:
        own = {n.name for n in ast.parse(impl.source).body if isinstance(n, ast.FunctionDef)}
        own |= {t.id for n in ast.parse(impl.source).body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        return disguise(impl.source, keep | own, rng)

    files = {}
    for p in course.parts:
        chosen = _chosen_sources(course, p.name, impls, render)
        order = stub_functions(course, p.name)
        rng.shuffle(order)
        files[f"{p.name}.ipynb"] = notebook(course, p.name, chosen, order)
    return Student(name, impls, files), f"{part}.{fname}"


def results_of(course: Course, student: Student) -> StudentResult:
    """A StudentResult as grading would give it: a named mistake for every wrong implementation."""
    functions, parts = {}, {}
    for p in course.parts:
        parts[p.name] = PartNotes(filename=f"{p.name}.ipynb")
        for f in p.functions:
            impl = student.impls[p.name][f.name]
            if impl is None:
                functions[f.name] = FunctionResult(f, problem="not implemented", not_implemented=True)
            elif impl.mistake is None:
                functions[f.name] = FunctionResult(f, cases=[CaseOutcome("case", True)])
            else:
                r = FunctionResult(f, cases=[CaseOutcome("case", False, "wrong")])
                r.diagnoses = [Diagnosis(impl.mistake, f.name, impl.mistake.replace("_", " "), "")]
                functions[f.name] = r
    return StudentResult(student.name, functions, parts)


def write_class(folder: Path, students: list[Student]) -> list[Submission]:
    subs = []
    for s in students:
        d = folder / s.name
        d.mkdir(parents=True, exist_ok=True)
        files = {}
        for name, text in s.files.items():
            (d / name).write_text(text, encoding="utf-8")
            files[name.rsplit(".", 1)[0]] = d / name
        subs.append(Submission(s.name, d, files, [], {}))
    return subs


def build_class(course: Course, folder: Path, n_independent: int, n_copies: int, seed: int = 0, style: bool = True, p_wrong: float = 0.15):
    """(submissions, results, planted pairs as (original, copy)) of a class with planted copies."""
    rng = random.Random(seed)
    pool = pools(course)
    students = [independent(course, pool, f"s{i:03d}", rng, p_wrong=p_wrong, style=style) for i in range(n_independent)]
    planted = []
    for j, original in enumerate(rng.sample(students, n_copies)):
        copy, _ = planted_copy(course, pool, original, f"c{j:03d}", rng)
        students.append(copy)
        planted.append((original.name, copy.name))
    subs = write_class(folder, students)
    return subs, [results_of(course, s) for s in students], planted


# --------------------------------------------------------------------------- independent style


class _Style(ast.NodeTransformer):
    """One student's habits, applied to code drawn from the pools: what makes independent work differ.

    Student-level choices (``np.dot`` or ``@``, ``len(x)`` or ``x.shape[0]``,
    ``x.sum()`` or ``np.sum(x)``, ``a = a + b`` or ``a += b``, a named result
    before ``return``), and, per expression, the order of the operands of
    ``+`` and ``*`` and of keyword arguments.
    """

    def __init__(self, habits: dict, rng: random.Random):
        self.h, self.rng = habits, rng

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.MatMult) and self.h["dot"]:
            return ast.Call(ast.Attribute(ast.Name("np", ast.Load()), "dot", ast.Load()), [node.left, node.right], [])
        if isinstance(node.op, (ast.Add, ast.Mult)) and self.rng.random() < self.h["swap"]:
            if not isinstance(node.left, ast.Constant) and not isinstance(node.right, ast.Constant):
                node.left, node.right = node.right, node.left
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if (
            self.h["len"]
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "shape"
            and isinstance(node.slice, ast.Constant)
            and node.slice.value == 0
        ):
            return ast.Call(ast.Name("len", ast.Load()), [node.value.value], [])
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if (
            self.h["method"]
            and isinstance(f, ast.Attribute)
            and isinstance(f.value, ast.Name)
            and f.value.id == "np"
            and f.attr in ("sum", "max", "mean")
            and node.args
            and isinstance(node.args[0], ast.Name)
        ):
            node = ast.Call(ast.Attribute(node.args[0], f.attr, ast.Load()), node.args[1:], node.keywords)
        if len(node.keywords) > 1 and self.rng.random() < self.h["swap"]:
            node.keywords = list(reversed(node.keywords))
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if self.h["augassign"] and isinstance(node.target, ast.Name):
            return ast.Assign([ast.Name(node.target.id, ast.Store())], ast.BinOp(ast.Name(node.target.id, ast.Load()), node.op, node.value), lineno=node.lineno)
        return node

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        last = node.body[-1] if node.body else None
        if self.h["result"] and isinstance(last, ast.Return) and last.value is not None and not isinstance(last.value, (ast.Name, ast.Tuple, ast.Constant)):
            name = self.h["result_name"]
            node.body[-1:] = [ast.Assign([ast.Name(name, ast.Store())], last.value, lineno=last.lineno), ast.Return(ast.Name(name, ast.Load()))]
        return node


def habits(rng: random.Random) -> dict:
    return {
        "dot": rng.random() < 0.4,
        "len": rng.random() < 0.5,
        "method": rng.random() < 0.5,
        "augassign": rng.random() < 0.4,
        "result": rng.random() < 0.4,
        "result_name": rng.choice(["out", "result", "res", "ans", "value"]),
        "swap": rng.choice([0.0, 0.2, 0.5]),
    }


def styled(source: str, style: dict, rng: random.Random) -> str:
    tree = _Style(style, rng).visit(ast.parse(source))
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"
