"""Part files whose graded code is not in the file as source: listed as "source hidden", never trusted.

Copy detection compares source text, so a file that builds its graded
functions while it runs escapes it: ``exec(zlib.decompress(base64.b64decode(...)))``
of a classmate's exact code shares no passage with it. :func:`hidden_reasons`
reads a part file's cells statically (it never runs them: the report runs
outside the sandbox) and says why its graded functions cannot be compared, or
nothing. The reasons, each with the cell and line:

* **code made at run time**: a use (a call or a mere reference, ``f = exec``)
  of a code-making builtin (``exec``, ``eval``, ``compile``, ``__import__``) or
  module function (:data:`CODE_MAKERS`: ``marshal.loads``, ``types.FunctionType``,
  ``importlib.import_module``, ``pickle.loads``, ``runpy.run_path``, ...), by
  its name, through an alias (``import marshal as m``; ``from importlib import
  import_module as f``), through ``builtins``/``__builtins__`` or ``getattr(x, "exec")``;
* **names bound behind the file's back**: ``globals()[...] = ...``,
  ``globals().update(...)`` (and ``vars()``/``locals()``), ``sys.modules``, and
  interpreter internals (``__code__``, ``__globals__``, ``__subclasses__``, ...);
* **an encoded blob**: a long string of base64 or hex characters, or one
  handed to a decoder (``base64``, ``zlib``, ``bytes.fromhex``, ``codecs.decode``...);
* **a graded function not written in the file**: a graded function of the
  part whose last binding at module level is not a ``def`` (decorated or not,
  at any depth of ``if``/``try``/``with``), a ``lambda``, a ``class``, or an
  alias or wrapper of one of those (``f = g``, ``f = np.vectorize(g)``): it is
  imported, bound to something else (``sigmoid = scipy.special.expit``), not
  bound at all while the file makes code at run time or star-imports a module
  that is not installed, or it calls a name imported from such a module.

Ordinary code raises none of these: imports of installed libraries (numpy,
scipy, matplotlib) and of the course's own parts, helper functions, lambdas,
method calls named ``eval``/``compile`` (``re.compile``), and magics, which are
translated as the grader translates them into inert ``get_ipython()`` calls
(``%run`` runs nothing while grading). Lines of the starter code are skipped
(the released notebook's ``check`` cell passes ``globals()``); cells that do not
parse are skipped (they do not run either). A function left out is not a
reason: the grader already reports it as not implemented.
"""
from __future__ import annotations

import ast
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache

from .extract import parse_cell

LABEL = "source hidden: cannot be compared"
#: Lines with run-time code listed per file (the rest are counted).
MAX_FINDINGS = 4

_CODE_BUILTINS = frozenset({"exec", "eval", "compile", "__import__", "execfile"})
#: module -> the functions of it that make code or modules at run time (None: every one).
CODE_MAKERS: dict[str, frozenset | None] = {
    "builtins": _CODE_BUILTINS,
    "__builtins__": None,
    "marshal": frozenset({"loads", "load"}),
    "types": frozenset({"FunctionType", "CodeType", "LambdaType", "ModuleType"}),
    "importlib": frozenset({"import_module", "__import__", "util", "machinery", "abc"}),
    "imp": None,
    "runpy": None,
    "zipimport": None,
    "code": frozenset({"InteractiveInterpreter", "InteractiveConsole", "compile_command"}),
    "codeop": None,
    "pickle": frozenset({"loads"}),
    "_pickle": frozenset({"loads"}),
    "cPickle": frozenset({"loads"}),
    "dill": frozenset({"loads", "load"}),
    "cloudpickle": frozenset({"loads", "load"}),
}
DECODERS: dict[str, frozenset | None] = {
    "base64": None,
    "binascii": None,
    "zlib": frozenset({"decompress"}),
    "gzip": frozenset({"decompress"}),
    "bz2": frozenset({"decompress"}),
    "lzma": frozenset({"decompress"}),
    "codecs": frozenset({"decode"}),
    "bytes": frozenset({"fromhex"}),
    "bytearray": frozenset({"fromhex"}),
}
_INTERNALS = frozenset({"__code__", "__globals__", "__subclasses__", "__builtins__", "__loader__", "func_code", "exec_module", "load_module"})
_NAMESPACES = frozenset({"globals", "vars", "locals"})
_BLOB = re.compile(r"[A-Za-z0-9+/=_-]{120,}")
#: The words without which a cell holds nothing :meth:`_Scan.look` reports (a cheap test before walking its tree).
WORDS = frozenset(
    _CODE_BUILTINS | _INTERNALS | _NAMESPACES | {"getattr", "modules", "fromhex", "InteractiveInterpreter", "InteractiveConsole", "compile_command"}
    | {m for m in (*CODE_MAKERS, *DECODERS) if m not in ("code", "bytes", "bytearray")}
)


def _words(words) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, words))) + r")\b")


_WORDS = _words(WORDS)


def _is_blob(value: str | bytes) -> bool:
    """A long run of base64 or hex characters making up most of the string, or long bytes that are mostly not text."""
    if isinstance(value, bytes):
        if len(value) >= 120 and sum(b < 9 or 13 < b < 32 or b > 126 for b in value) > len(value) // 10:
            return True
        value = value.decode("latin-1")
    if len(value) < 120:
        return False
    longest = max((len(m.group(0)) for m in _BLOB.finditer(value)), default=0)
    return longest >= 120 and longest >= len(value.strip()) // 2


@dataclass
class HiddenSource:
    """One student's part file whose graded functions cannot be compared, and why."""

    student: str
    part: str
    reasons: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return f"{LABEL}: " + "; ".join(self.reasons)


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _in(table: dict, qualified: str) -> bool:
    for module, names in table.items():
        if qualified.startswith(module + "."):
            rest = qualified[len(module) + 1 :].split(".")[0]
            if names is None or rest in names:
                return True
    return False


@lru_cache(maxsize=512)
def _installed(module: str) -> bool:
    top = module.split(".")[0]
    if not top or top in sys.stdlib_module_names or top in sys.builtin_module_names:
        return True
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError, AttributeError):
        return False


class _Scan:
    """The findings and module-level bindings of one file's cells."""

    def __init__(self, boilerplate: frozenset[str], own_modules: frozenset[str]):
        self.boilerplate, self.own_modules = boilerplate, own_modules
        self.findings: dict[tuple[int, int], tuple[list[str], str]] = {}  # (cell, line) -> (what, the line)
        self.makes_code = self.decodes = self.blob = False
        self.aliases: dict[str, str] = {}  # local name -> qualified name of what it imports
        self.bindings: dict[str, list[tuple[str, ast.AST | str]]] = {}  # name -> [(kind, node or module)]
        self.foreign_star: list[str] = []  # star-imported modules neither installed nor the course's
        self.foreign: set[str] = set()  # names imported from such modules
        self.lines: list[str] = []
        self.number = 0
        self.trees: list[tuple[int, ast.Module]] = []
        self.pending: list[tuple[int, str]] = []  # cells not parsed: they mention nothing that matters, unless asked

    def _library(self, module: str) -> bool:
        return not module.startswith(".") and (module.split(".")[0] in self.own_modules or _installed(module))

    def bind(self, number: int, tree: ast.Module) -> None:
        """Record the module-level bindings (and imports) of one cell; cells come in order."""
        self.trees.append((number, tree))
        self._bind(tree.body)

    def complete(self) -> None:
        """Parse the cells skipped as irrelevant too (a helper a graded alias refers to) and bind every cell again, in order."""
        if not self.pending:
            return
        self.trees += [(n, t) for n, t in ((n, parse_cell(src, translate=True)) for n, src in self.pending) if t is not None]
        self.pending = []
        self.trees.sort(key=lambda item: item[0])
        self.bindings, self.aliases, self.foreign, self.foreign_star = {}, {}, set(), []
        for _, tree in self.trees:
            self._bind(tree.body)

    def look(self, number: int, source: str, tree: ast.Module) -> None:
        """Every use of run-time code, internals, decoders and blobs in one cell."""
        self.lines, self.number = source.splitlines(), number
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and node.col_offset:  # aliases imported in functions
                self._import(node, bind=False)
        for node in ast.walk(tree):
            self._look(node)

    def triggers(self) -> re.Pattern:
        """What a cell must mention to be worth a full look: the words of :data:`WORDS` and local aliases of them."""
        tables = tuple(CODE_MAKERS) + tuple(DECODERS)
        aliases = {n for n, q in self.aliases.items() if q.split(".")[0] in tables}
        return _words(WORDS | aliases) if aliases else _WORDS

    def _skip(self, node: ast.AST) -> bool:
        line = getattr(node, "lineno", 0)
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return " ".join(text.split()) in self.boilerplate

    def _note(self, node: ast.AST, what: str, kind: str = "code") -> None:
        if self._skip(node):
            return
        line = getattr(node, "lineno", 0)
        snippet = " ".join((self.lines[line - 1] if 0 < line <= len(self.lines) else ast.unparse(node)).split())
        snippet = snippet if len(snippet) <= 70 else snippet[:67] + "..."
        whats = self.findings.setdefault((self.number, line), ([], snippet))[0]
        if what not in whats:
            whats.append(what)
        self.makes_code |= kind == "code"
        self.decodes |= kind == "decode"
        self.blob |= kind == "blob"

    def _import(self, node: ast.Import | ast.ImportFrom, bind: bool = True) -> None:
        for alias in node.names:
            if isinstance(node, ast.Import):
                local = alias.asname or alias.name.split(".")[0]
                self.aliases[local] = alias.name if alias.asname else local
                module = alias.name
            elif alias.name == "*":
                if bind and node.module and not self._library(node.module):
                    self.foreign_star.append(node.module)
                continue
            else:
                local, module = alias.asname or alias.name, "." * node.level + (node.module or "")
                self.aliases[local] = f"{module}.{alias.name}"
                if bind and not self._library(module):
                    self.foreign.add(local)
            if bind:
                self.bindings.setdefault(local, []).append(("import", module))

    def _bind(self, body: list[ast.stmt]) -> None:
        """Module-level bindings, in order, into compound statements but not into functions or classes."""
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.bindings.setdefault(stmt.name, []).append(("def", stmt))
                continue
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self._import(stmt)
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                for target in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            self.bindings.setdefault(name.id, []).append(("assign", stmt.value))
            for attr in ("body", "orelse", "finalbody"):
                self._bind([s for s in getattr(stmt, attr, None) or [] if isinstance(s, ast.stmt)])
            for handler in getattr(stmt, "handlers", None) or []:
                self._bind(handler.body)

    def _qualified(self, node: ast.AST) -> str | None:
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        base = self.aliases.get(head, head)
        return f"{base}.{rest}" if rest else base

    def _look(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in _CODE_BUILTINS and node.id not in self.aliases and node.id not in self.bindings:
                self._note(node, f"{node.id} makes code at run time")
            elif node.id in ("__builtins__", "__loader__"):
                self._note(node, f"{node.id} reaches the interpreter's internals")
            elif node.id in self.aliases and "." in self.aliases[node.id]:
                q = self.aliases[node.id]
                if _in(CODE_MAKERS, q):
                    self._note(node, f"{q} makes code at run time")
                elif _in(DECODERS, q):
                    self._note(node, f"{q} decodes data", "decode")
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            q = self._qualified(node)
            if node.attr in _INTERNALS:
                self._note(node, f"{node.attr} reaches the interpreter's internals")
            elif q and (_in(CODE_MAKERS, q) and not _in(CODE_MAKERS, self._qualified(node.value) or "")):
                self._note(node, f"{q} makes code at run time")
            elif q == "sys.modules":
                self._note(node, "sys.modules binds modules behind the file's back")
            elif q and _in(DECODERS, q) and not _in(DECODERS, self._qualified(node.value) or ""):
                self._note(node, f"{q} decodes data", "decode")
        elif isinstance(node, ast.Call):
            if _dotted(node.func) == "getattr" and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                if node.args[1].value in _CODE_BUILTINS or node.args[1].value in _INTERNALS:
                    self._note(node, f"getattr reaches {node.args[1].value}")
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr in ("update", "__setitem__", "setdefault") and self._namespace(f.value):
                self._note(node, f"{f.value.func.id}() binds names behind the file's back")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and self._namespace(node.value):
            self._note(node, f"{node.value.func.id}() binds names behind the file's back")
        elif isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and _is_blob(node.value):
            self._note(node, f"an encoded blob of {len(node.value)} characters", "blob")

    @staticmethod
    def _namespace(node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _NAMESPACES

    def visible(self, name: str, depth: int = 0) -> bool:
        """Whether ``name``'s last module-level binding is code written in the file."""
        if depth > 8:
            return False
        if not self.bindings.get(name) and depth:
            self.complete()
        if not self.bindings.get(name):
            return False
        kind, what = self.bindings[name][-1]
        if kind == "def":
            return True
        if kind == "import":
            return False
        if isinstance(what, ast.Lambda):
            return True
        return any(
            isinstance(n, ast.Lambda) or (isinstance(n, ast.Name) and n.id != name and self.visible(n.id, depth + 1))
            for n in ast.walk(what)
        )

    def binding(self, name: str) -> str:
        kind, what = self.bindings[name][-1]
        if kind == "import":
            return f"imported from {what}"
        return "bound to " + " ".join(ast.unparse(what).split())[:60]

    def foreign_calls(self, name: str) -> list[str]:
        """Names the graded ``def name`` calls that are imported from a module neither installed nor the course's."""
        kind, node = self.bindings[name][-1]
        out: list[str] = []
        if not self.foreign:
            return out
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in self.foreign:
                bound = self.bindings.get(call.func.id)
                if bound and bound[-1][0] == "import" and not self._library(bound[-1][1]):
                    out.append(f"{call.func.id} (imported from {bound[-1][1]})")
        return sorted(set(out))


def hidden_reasons(
    cells: list[str], graded: list[str], boilerplate: frozenset[str] = frozenset(), own_modules: frozenset[str] = frozenset()
) -> list[str]:
    """Why the graded functions of a part file (its code ``cells``) cannot be compared as source; [] when they can.

    ``graded``: the part's graded function names; ``boilerplate``: the starter code's lines (normalised, skipped);
    ``own_modules``: the course's part names (a student's import of their own earlier part is not hidden).
    """
    scan = _Scan(boilerplate, own_modules)
    mentions = re.compile(r"\b(?:import|" + "|".join(map(re.escape, graded)) + r")\b") if graded else re.compile(r"\bimport\b")
    trees = []
    for number, source in enumerate(cells, start=1):  # parse only what can bind a graded name or make code
        if mentions.search(source) or _WORDS.search(source) or _BLOB.search(source):
            tree = parse_cell(source, translate=True)
            if tree is not None:
                trees.append((number, source, tree))
                scan.bind(number, tree)
        else:
            scan.pending.append((number, source))
    triggers = scan.triggers()
    for number, source, tree in trees:
        if triggers.search(source) or _BLOB.search(source):
            scan.look(number, source, tree)
    reasons: list[str] = []
    if scan.makes_code or (scan.decodes and scan.blob):
        reasons += [f"cell {c}, line {n}: {', '.join(whats)}: `{line}`" for (c, n), (whats, line) in list(scan.findings.items())[:MAX_FINDINGS]]
        if len(scan.findings) > MAX_FINDINGS:
            reasons.append(f"and {len(scan.findings) - MAX_FINDINGS} more such lines")
    missing = []
    for name in graded:
        if scan.bindings.get(name):
            if not scan.visible(name):
                reasons.append(f"{name} is not written in the file: {scan.binding(name)}")
            elif scan.bindings[name][-1][0] == "def":
                reasons += [f"{name} calls {c}, not in the file" for c in scan.foreign_calls(name)]
        elif scan.makes_code or scan.foreign_star:
            missing.append(name)
    if missing:
        source = "the code made at run time" if scan.makes_code else f"`from {scan.foreign_star[0]} import *`"
        reasons.append(f"not defined in the file: {', '.join(missing)} (only {source} can define {'it' if len(missing) == 1 else 'them'})")
    return list(dict.fromkeys(reasons))
