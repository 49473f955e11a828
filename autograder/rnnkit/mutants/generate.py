"""Error models generated from the reference: every one-step change of a reference function.

Most slips are one small change away from correct code (the competent-programmer
hypothesis of mutation testing). :func:`mutants` applies the mutation operators of
:mod:`.operators` to the reference code of a part, one node at a time, and returns each
change as a :class:`Mutant`: the part's module with that one function changed, and a
sentence that says what the change is, in words and the student API's names, never as
reference code, followed by the formula of the line changed in the notebook's notation.
"""
from __future__ import annotations

import ast
import hashlib
import threading
import types
import warnings
from dataclasses import dataclass
from typing import Callable

from .notation import dict_entry_formula, statement_formula
from .operators import _context, changes


@dataclass(frozen=True)
class Mutant:
    """One change to one function of a part's reference code."""

    id: str  # stable: operator, function, line, position
    function: str  # the function changed
    operator: str
    line: int
    words: str  # what the change is, for a student
    module: "_Compiled | None" = None  # the part's code with this change, compiled on first use


# --------------------------------------------------------------------------- applying the operators


def _formulas(function: ast.FunctionDef, part: str) -> dict[int, str]:
    """id(node) -> the formula of the line it is in (the statement, or the dict entry), in the notebook's notation."""
    out: dict[int, str] = {}
    for statement in ast.walk(function):
        if isinstance(statement, (ast.Assign, ast.AugAssign, ast.Return)):
            formula = statement_formula(statement, function.name, part)
            if formula:
                out.update({id(n): formula for n in ast.walk(statement)})
            value = getattr(statement, "value", None)
            if isinstance(value, ast.Dict):
                for key, item in zip(value.keys, value.values):
                    entry = dict_entry_formula(key, item, part) if key is not None else None
                    if entry:
                        out.update({id(n): entry for n in ast.walk(item)})
    return out


def mutants(source: str, functions: list[str], filename: str = "<reference>", part: str = "") -> list[Mutant]:
    """Every one-step change of each of ``functions`` in the module ``source`` (each compiled on first use).

    ``part`` names the notation the words use (:data:`.notation.NAMES`); each change's words end with
    the formula of the line it changes, when that line has one in the notebook's notation.
    """
    tree = ast.parse(source, filename)
    module_names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    base = _Base(tree, filename)
    found: list[Mutant] = []
    _context.part = part
    try:
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name not in functions:
                continue
            positions = {id(n): i for i, n in enumerate(ast.walk(node))}
            formulas = _formulas(node, part)
            for target, replacement, operator, words in changes(node, module_names):
                where = positions[id(target)]
                digest = hashlib.sha1(f"{node.name}:{where}:{ast.dump(replacement)}".encode()).hexdigest()[:10]
                if id(target) in formulas:
                    words = f"{words}, in `{formulas[id(target)]}`"
                found.append(Mutant(f"{operator}:{node.name}:{getattr(target, 'lineno', 0)}:{digest}", node.name, operator,
                                    getattr(target, "lineno", 0), words, _Compiled(base, node, where, replacement)))
    finally:
        _context.part = ""
    return found


def reached(source: str) -> dict[str, set[str]]:
    """Per module-level function of ``source``: itself and every module-level function it uses, transitively.

    A change to a function the caller never reaches cannot change what the caller returns.
    """
    tree = ast.parse(source)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    uses = {name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in functions} for name, node in functions.items()}
    closure: dict[str, set[str]] = {}
    for name in functions:
        seen, frontier = {name}, [name]
        while frontier:
            for used in uses[frontier.pop()] - seen:
                seen.add(used)
                frontier.append(used)
        closure[name] = seen
    return closure


class _Base:
    """The part's reference module, executed once: every mutant module starts as a copy of it."""

    def __init__(self, tree: ast.Module, filename: str):
        self.filename = filename
        self.namespace: dict | None = None
        self._tree = tree

    def fresh(self) -> dict | None:
        """A copy of the module's namespace whose functions look up globals in the copy (so a changed helper is used)."""
        if self.namespace is None:
            namespace: dict = {"__name__": "rnnkit_mutant"}
            try:
                exec(compile(self._tree, self.filename, "exec"), namespace)  # noqa: S102 - the kit's own reference
            except Exception:  # noqa: BLE001
                namespace = {}
            self.namespace = namespace
        if not self.namespace:
            return None
        copy_ = dict(self.namespace)
        for name, value in self.namespace.items():
            if isinstance(value, types.FunctionType) and value.__globals__ is self.namespace:
                copy_[name] = types.FunctionType(value.__code__, copy_, value.__name__, value.__defaults__, value.__closure__)
        return copy_


class _Compiled:
    """One changed function of the base module, compiled and executed on first use.

    The change is made in the reference's own syntax tree for the time of one ``compile`` and
    undone at once (copying a large function's tree for each of hundreds of changes is slow).
    """

    _lock = threading.Lock()

    def __init__(self, base: _Base, function: ast.FunctionDef, where: int, replacement: ast.AST):
        self.base, self.function, self.where, self.replacement = base, function, where, replacement
        self._module: types.ModuleType | bool | None = None

    def _code(self):
        with self._lock:
            target = list(ast.walk(self.function))[self.where]
            for parent in ast.walk(self.function):
                for field, value in ast.iter_fields(parent):
                    if value is target or (isinstance(value, list) and any(v is target for v in value)):
                        break
                else:
                    continue
                break
            else:
                return None
            for node in ast.walk(self.replacement):
                for attribute in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
                    if not hasattr(node, attribute) or getattr(node, attribute) is None:
                        setattr(node, attribute, getattr(target, attribute, 1) or 1)
            if isinstance(value, list):
                index = next(i for i, v in enumerate(value) if v is target)
                value[index] = self.replacement
            else:
                setattr(parent, field, self.replacement)
            try:
                with warnings.catch_warnings():  # a changed line may draw a SyntaxWarning: it is ours, not the user's
                    warnings.simplefilter("ignore")
                    return compile(ast.Module(body=[self.function], type_ignores=[]), self.base.filename, "exec")
            except Exception:  # noqa: BLE001 - a change that does not compile: never matches
                return None
            finally:
                if isinstance(value, list):
                    value[index] = target
                else:
                    setattr(parent, field, target)

    def module(self) -> types.ModuleType | None:
        if self._module is None:
            code, namespace = self._code(), self.base.fresh()
            module: types.ModuleType | bool = False
            if code is not None and namespace is not None:
                try:
                    exec(code, namespace)  # noqa: S102 - the kit's own reference, changed
                    module = types.ModuleType("rnnkit_mutant")
                    module.__dict__.update(namespace)
                except Exception:  # noqa: BLE001
                    module = False
            self._module = module
            self.function = self.replacement = None  # type: ignore[assignment]
        return self._module or None


def run(mutant: Mutant, function: str, args: tuple, call: Callable) -> object:
    """``function`` of the mutant's module on ``args`` (``call(fn, args)`` does the call); None when it cannot run."""
    module = mutant.module.module() if mutant.module is not None else None
    if module is None or not hasattr(module, function):
        return None
    return call(getattr(module, function), args)
