"""Mutation operators: every one-step change of a reference function, as (node, replacement, operator, words).

Each operator looks at one node of a function's syntax tree and yields its changes, with a
sentence that says what the change is in the student API's names and the notebook's notation
(:mod:`.notation`), never as reference code. :func:`changes` applies them all to one function;
:mod:`.generate` makes each change a compiled error model.

Operators: a transpose added or removed, the factors of a product swapped, one term
of a sum dropped, a sign flipped, a factor dropped, a nonlinearity swapped or left
out, sum for mean and mean for sum, another axis or no ``keepdims``, a loop bound or
start off by one, a loop run forwards instead of backwards, a time index off by one,
a variable replaced by its neighbour in time (``s_prev`` for ``s_t``...), a copy left
out (working in place), a nonlinearity applied again to an argument that already is its output.
"""
from __future__ import annotations

import ast
import copy
import threading
from typing import Iterator

from .notation import NAMES, notation

#: Names a short expression may show in a description: the spec's own variables are fine, reference code is not.
_MAX_SHOWN = 24
_NONLINEAR = ("tanh", "sigmoid", "exp", "log")


_context = threading.local()  # the part whose reference is being changed (for its notation)


def _shown(node: ast.AST) -> str | None:
    """A short expression in the notebook's notation (:mod:`.notation`), never as code; None when it has no such name."""
    text = notation(node, getattr(_context, "part", ""))
    return f"`{text}`" if text and len(text) <= _MAX_SHOWN else None


def _named(variable: str) -> str:
    return NAMES.get(getattr(_context, "part", ""), {}).get(variable, variable)


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Attribute):
            return f.attr
        if isinstance(f, ast.Name):
            return f.id
    return None


# --------------------------------------------------------------------------- operators: node -> [(replacement, words)]


def _matmul(node: ast.BinOp) -> Iterator[tuple[ast.AST, str, str]]:
    if not isinstance(node.op, ast.MatMult):
        return
    for side in ("left", "right"):
        operand = getattr(node, side)
        shown = _shown(operand)
        if isinstance(operand, ast.Attribute) and operand.attr == "T":
            new = copy.deepcopy(node)
            setattr(new, side, copy.deepcopy(operand.value))
            base = _shown(operand.value)
            yield new, "transpose", f"{base or 'a matrix'} is not transposed in a matrix product where its transpose belongs"
        elif isinstance(operand, (ast.Name, ast.Subscript)) and shown:
            new = copy.deepcopy(node)
            setattr(new, side, ast.Attribute(value=copy.deepcopy(operand), attr="T", ctx=ast.Load()))
            yield new, "transpose", f"{shown} is transposed in a matrix product where it belongs as it is"
    left, right = _shown(node.left), _shown(node.right)
    new = copy.deepcopy(node)
    new.left, new.right = new.right, new.left
    what = f"{left} and {right}" if left and right else "the two factors"
    yield new, "swap", f"{what} are swapped in a matrix product (the order of a product matters)"


def _arith(node: ast.BinOp) -> Iterator[tuple[ast.AST, str, str]]:
    left, right = _shown(node.left), _shown(node.right)
    if isinstance(node.op, (ast.Add, ast.Sub)):
        sign = "+" if isinstance(node.op, ast.Add) else "-"
        flipped = ast.Sub() if sign == "+" else ast.Add()
        new = copy.deepcopy(node)
        new.op = flipped
        yield new, "sign", f"a sign is flipped: {left or 'a term'} {'-' if sign == '+' else '+'} {right or 'another'} where {sign} belongs"
        yield copy.deepcopy(node.left), "drop", f"a term is missing from a sum: {right or 'one term'} is left out"
        if sign == "+":
            yield copy.deepcopy(node.right), "drop", f"a term is missing from a sum: {left or 'one term'} is left out"
    elif isinstance(node.op, ast.Mult):
        yield copy.deepcopy(node.left), "drop", f"a factor is missing from a product: {right or 'one factor'} is left out"
        yield copy.deepcopy(node.right), "drop", f"a factor is missing from a product: {left or 'one factor'} is left out"
    elif isinstance(node.op, ast.Div):
        yield copy.deepcopy(node.left), "drop", f"a division is missing: the division by {right or 'a term'} is left out"
        new = copy.deepcopy(node)
        new.left, new.right = new.right, new.left
        yield new, "swap", "a ratio is upside down (numerator and denominator swapped)"


def _calls(node: ast.Call, names: set[str]) -> Iterator[tuple[ast.AST, str, str]]:
    name = _call_name(node)
    if name in _NONLINEAR and len(node.args) == 1:
        yield copy.deepcopy(node.args[0]), "nonlinearity", f"the {name} is left out (its argument is used as it is)"
        if name in ("tanh", "sigmoid"):
            other = "sigmoid" if name == "tanh" else "tanh"
            yield _apply(other, node.args[0], names), "nonlinearity", f"{other} is used where {name} belongs"
    if name in ("sum", "mean"):
        new = copy.deepcopy(node)
        other = "mean" if name == "sum" else "sum"
        if isinstance(new.func, ast.Attribute):
            new.func.attr = other
            yield new, "reduction", f"a {other} is taken where a {name} belongs"
    for i, keyword in enumerate(node.keywords):
        if keyword.arg == "axis" and isinstance(keyword.value, (ast.Constant, ast.UnaryOp)):
            value = ast.literal_eval(keyword.value)
            for other in (0, 1, -1, None):
                if other != value:
                    new = copy.deepcopy(node)
                    new.keywords[i].value = ast.Constant(other)
                    yield new, "axis", f"the reduction runs over axis={other} instead of axis={value}"
        if keyword.arg == "keepdims":
            new = copy.deepcopy(node)
            del new.keywords[i]
            yield new, "axis", "keepdims is dropped, so the reduced axis no longer lines up for broadcasting"
    if name == "copy" and isinstance(node.func, ast.Attribute) and not node.args:
        yield copy.deepcopy(node.func.value), "in_place", f"{_shown(node.func.value) or 'an argument'} is changed in place instead of a copy"
    if name == "array" and node.args and isinstance(node.args[0], ast.Name):
        yield copy.deepcopy(node.args[0]), "in_place", f"{_shown(node.args[0])} is changed in place instead of a copy"
    if name == "range":
        for i, arg in enumerate(node.args):
            for delta, words in ((-1, "one step too few"), (1, "one step too many")):
                new = copy.deepcopy(node)
                new.args[i] = ast.BinOp(left=copy.deepcopy(arg), op=ast.Add() if delta > 0 else ast.Sub(), right=ast.Constant(1))
                where = "start" if len(node.args) > 1 and i == 0 else "end"
                yield new, "off_by_one", f"a loop's {where} is off by one ({words})"
    if name == "reversed" and len(node.args) == 1:
        yield copy.deepcopy(node.args[0]), "order", "a loop runs forwards in time where it must run backwards"


def _apply(nonlinearity: str, argument: ast.AST, names: set[str]) -> ast.AST:
    """``tanh(argument)`` or ``sigmoid(argument)``: the module's own sigmoid when it has one, else written out."""
    arg = copy.deepcopy(argument)
    if nonlinearity == "tanh":
        return ast.Call(func=ast.Attribute(value=ast.Name(id="np", ctx=ast.Load()), attr="tanh", ctx=ast.Load()), args=[arg], keywords=[])
    if "sigmoid" in names:
        return ast.Call(func=ast.Name(id="sigmoid", ctx=ast.Load()), args=[arg], keywords=[])
    return _logistic_expression(arg)


def _filled(template: str, arg: ast.AST) -> ast.AST:
    """The expression ``template`` with every ``ARG`` in it replaced by a copy of ``arg``."""
    tree = ast.parse(template, mode="eval").body
    for node in ast.walk(tree):
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.Name) and value.id == "ARG":
                setattr(node, field, copy.deepcopy(arg))
            elif isinstance(value, list):
                setattr(node, field, [copy.deepcopy(arg) if isinstance(v, ast.Name) and v.id == "ARG" else v for v in value])
    return tree


def _logistic_expression(arg: ast.AST) -> ast.AST:
    """``0.5 + 0.5 * np.tanh(0.5 * arg)``: the logistic function, with no overflow."""
    return _filled("0.5 + 0.5 * np.tanh(0.5 * ARG)", arg)


#: Arguments that already are a nonlinearity's output (the spec says so): applying it again is a classic slip
#: (``1 - tanh(s_t)**2`` for the tanh slope, a softmax of probabilities). (function, argument) -> nonlinearity.
_ALREADY_SQUASHED = {
    ("state_jacobian", "s_t"): "tanh",
    ("jacobian_product", "s"): "tanh",
    ("softmax_jacobian", "y"): "softmax",
    ("softmax_cross_entropy_grad", "o"): "softmax",
    ("cross_entropy_loss", "o"): "softmax",
}


def _squashed_again(function: ast.FunctionDef, names: set[str]) -> Iterator[tuple[ast.AST, ast.AST, str, str]]:
    """The function's first statement, preceded by ``arg = f(arg)`` for each argument that already is f's output:
    every use of the argument then sees it squashed twice, as in a student's ``s = softmax(y)`` at the top."""
    first = function.body[0]
    for parameter in function.args.args:
        nonlinearity = _ALREADY_SQUASHED.get((function.name, parameter.arg))
        if nonlinearity is None:
            continue
        argument = ast.Name(id=parameter.arg, ctx=ast.Load())
        if nonlinearity == "tanh":
            again = _apply("tanh", argument, names)
        elif "softmax" in names:
            again = ast.Call(func=ast.Name(id="softmax", ctx=ast.Load()), args=[argument], keywords=[])
        else:
            again = _softmax_expression(argument)
        assign = ast.Assign(targets=[ast.Name(id=parameter.arg, ctx=ast.Store())], value=again)
        replacement = ast.If(test=ast.Constant(True), body=[assign, copy.deepcopy(first)], orelse=[])
        what = _named(parameter.arg)
        yield first, replacement, "squashed_twice", f"the {nonlinearity} is applied again to `{what}`, which already is a {nonlinearity} output"


def _softmax_expression(arg: ast.AST) -> ast.AST:
    """A softmax over the last axis of ``arg``, written out (for a module without its own ``softmax``)."""
    return _filled("np.exp(ARG - np.max(ARG, axis=-1, keepdims=True)) / "
                   "np.sum(np.exp(ARG - np.max(ARG, axis=-1, keepdims=True)), axis=-1, keepdims=True)", arg)


def _subscript(node: ast.Subscript) -> Iterator[tuple[ast.AST, str, str]]:
    index = node.slice
    if isinstance(index, ast.Name):
        changes = [ast.BinOp(left=copy.deepcopy(index), op=op, right=ast.Constant(1)) for op in (ast.Sub(), ast.Add())]
    elif isinstance(index, ast.BinOp) and isinstance(index.op, (ast.Add, ast.Sub)) and isinstance(index.right, ast.Constant):
        changes = [copy.deepcopy(index.left)]
    else:
        return
    was = _shown(node)
    for change in changes:
        new = copy.deepcopy(node)
        new.slice = change
        now = _shown(new)
        words = f"{now} where {was} belongs" if now and was else "a sequence read one step away from where it should be"
        yield new, "time_index", f"a time index is off by one: {words}"


def _neighbours(function: ast.FunctionDef) -> dict[str, list[str]]:
    """Variables of ``function`` that are neighbours in time or in meaning: same stem (``s_prev``, ``s_t``, ``s``)."""
    names = {a.arg for a in function.args.args}
    names |= {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    stems: dict[str, list[str]] = {}
    for name in sorted(names):
        stems.setdefault(name.split("_")[0], []).append(name)
    return {name: [o for o in group if o != name] for group in stems.values() if len(group) > 1 for name in group}


# --------------------------------------------------------------------------- every change of one function


def changes(function: ast.FunctionDef, module_names: set[str]) -> Iterator[tuple[ast.AST, ast.AST, str, str]]:
    """(node, replacement, operator, words) for every one-step change of ``function``."""
    neighbours = _neighbours(function)
    # Arithmetic inside an index (``s[k - 1]``) is a time index: only the time-index operator changes it.
    in_index = {id(n) for sub in ast.walk(function) if isinstance(sub, ast.Subscript) for n in ast.walk(sub.slice)}
    yield from _squashed_again(function, module_names)
    for node in ast.walk(function):
        if isinstance(node, ast.BinOp) and id(node) not in in_index:
            for new, op, words in (*_matmul(node), *_arith(node)):
                yield node, new, op, words
        elif isinstance(node, ast.Call):
            for new, op, words in _calls(node, module_names):
                yield node, new, op, words
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            for new, op, words in _subscript(node):
                yield node, new, op, words
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Add, ast.Sub)):
            new = copy.deepcopy(node)
            new.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            was, now = ("+=", "-=") if isinstance(node.op, ast.Add) else ("-=", "+=")
            yield node, new, "sign", f"a sign is flipped: {_shown(node.target) or 'a value'} {now} where {was} belongs"
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            for other in neighbours.get(node.id, ()):
                yield node, ast.Name(id=other, ctx=ast.Load()), "neighbour", f"`{_named(other)}` is used where `{_named(node.id)}` belongs"
