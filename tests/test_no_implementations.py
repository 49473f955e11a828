"""No module of the installed kit implements a graded function (the security issue of the capstone's stand-ins).

The student release ships part of the kit, and in a sandbox without bubblewrap
or Landlock student code could read the installed package. So no module of
``autograder/rnnkit/`` may define a function that computes a graded function of
the student API (``rnnkit.spec.API``), except the grader's own variants of known
mistakes and case generators (:data:`KNOWN_IMPLEMENTATIONS`), which never ship
and which no sandboxed worker can see; only ``content.load_reference`` runs the
reference, from ``solutions/``, which is not in the package.

The scan reads every ``.py`` file of the package except ``example_class/``
(the example class's hand-ins: student files graded as data, never imported).
It finds every ``def``, ``class`` and ``lambda`` that is *named after* a graded
function (the function's name as ``_``-separated words: ``softmax``,
``_standin_rnn_forward``, ``rnn_backward_cases``) or *takes a graded function's
arguments* (``(x_t, s_prev, U, ...)``, whatever its name). Each one found must be
in :data:`NOT_IMPLEMENTATIONS`, with the reason it is not an implementation, or
in :data:`KNOWN_IMPLEMENTATIONS` (see its test); and every entry of those tables
must still be found, so they cannot go stale.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import rnnkit
from rnnkit.spec import API, ARGUMENTS

KIT = Path(rnnkit.__file__).parent
GRADED = sorted((f for fns in API.values() for f in fns), key=len, reverse=True)
_NAMED = re.compile(r"(?:^|_)(" + "|".join(GRADED) + r")(?:_|$)")
#: Leading arguments specific enough to mean "this is that function": up to three (``(x_t, h_prev, c_prev)``), never
#: one alone (``(z)`` could be anything).
_SIGNATURES = {params[:3]: fn for fn, params in ARGUMENTS.items() if len(params) > 1}

#: (module, name) -> why it is not an implementation. Patterns are full matches.
NOT_IMPLEMENTATIONS: dict[tuple[str, str], str] = {
    ("cases/recurrent.py", r"\w+_cases"): "generates the inputs of hidden cases; the answers come from solutions/",
    ("cases/gated.py", r"\w+_cases"): "generates the inputs of hidden cases; the answers come from solutions/",
    ("probes.py", r"_probe_\w+"): "the capstone's probe of a student's function: checks properties, computes no answer",
    ("checks.py", "_rnn_backward_from_forward"): "finite differences of the student's own rnn_forward (the public check's comparison)",
    # diagnosis/parts/*.py: what a known mistake computes (wrong by design), or a wrapper of another entry.
    ("diagnosis/parts/rnn_forward.py", r"_softmax_(no_max|global_max|axis0|total_rowshift|total)"): "a wrong softmax (a known mistake)",
    ("diagnosis/parts/rnn_forward.py", "_forward_softmax"): "rnn_forward with a wrong softmax (a known mistake)",
    ("diagnosis/parts/rnn_forward.py", "_rnn_forward_mutates_s0"): "the reference plus an argument changed in place (a known mistake)",
    ("diagnosis/parts/rnn_forward.py", r"_step_no_tanh|_step_U_W_swapped"): "a wrong rnn_step_forward (a known mistake)",
    ("diagnosis/parts/bptt.py", r"_sj_(W_transposed|diag_right|one_minus_s)"): "a wrong state_jacobian (a known mistake)",
    ("diagnosis/parts/lstm.py", "_lstm_forward_mutates_c0"): "the reference plus an argument changed in place (a known mistake)",
    ("diagnosis/parts/lstm.py", "_lstm_backward_mutates_dh"): "a wrapper that changes dh in place (a known mistake)",
    ("diagnosis/parts/lstm.py", "_lstm_backward_x_first"): "the reference with [x_t; h_prev] (a known mistake)",
    ("diagnosis/parts/lstm.py", r"_(lstm_forward|lstm_backward)_knobs"): "a factory of mistake variants",
    ("diagnosis/parts/lstm.py", r"_gate_(sigmoid_instead_of_tanh|tanh_instead_of_sigmoid)"): "a gate with the wrong non-linearity (a known mistake)",
    ("diagnosis/parts/lstm.py", "_sigmoid_exp_ratio"): "a sigmoid that overflows (a known mistake)",
    ("diagnosis/parts/gru.py", "_gru_forward_mutates"): "the reference plus an argument changed in place (a known mistake)",
    ("diagnosis/parts/gru.py", "_gru_backward_mutates_dh"): "a wrapper that changes dh in place (a known mistake)",
    ("diagnosis/parts/gru.py", "_gru_backward_x_first"): "the reference with [x_t; h_prev] (a known mistake)",
    ("diagnosis/parts/gru.py", r"_(gru_forward|gru_backward)_knobs"): "a factory of mistake variants",
}

#: Grading-side code that, with its default arguments, computes a graded function (given the gates, which are one
#: line each): the reference-like base of the mistakes' variants. It must stay where student code cannot reach it
#: (see the last test).
KNOWN_IMPLEMENTATIONS: dict[tuple[str, str], str] = {
    ("cases/blocks.py", "_softmax"): "softmax",
    ("mutants/operators.py", "_softmax_expression"): "softmax (the syntax tree of one, for the error model of a softmax applied again)",
    ("diagnosis/parts/rnn_forward.py", "_rnn_forward_with"): "rnn_forward (given a step)",
    ("diagnosis/parts/bptt.py", "_jacobian_product_of"): "jacobian_product (given a state_jacobian)",
    ("diagnosis/parts/bptt.py", "product"): "jacobian_product (inside _jacobian_product_of)",
    ("diagnosis/parts/bptt.py", "<lambda>"): "state_jacobian (a lambda for the reverse-order mistake)",
    ("diagnosis/parts/lstm.py", "_lstm_forward"): "lstm_forward (given the gates)",
    ("diagnosis/parts/lstm.py", "_lstm_backward"): "lstm_backward, the bonus (given the gates)",
    ("diagnosis/parts/gru.py", "_gru_forward"): "gru_forward (given the gates)",
    ("diagnosis/parts/gru.py", "_gru_backward"): "gru_backward, the bonus (given the gates)",
}


def definitions(source: str, filename: str = "<source>") -> list[tuple[int, str, str]]:
    """(line, name, the graded function it is named after or takes the arguments of), for every suspect definition."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        name = getattr(node, "name", "<lambda>") if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)) else None
        if name is None:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):  # `softmax = ...` binds a graded name to anything
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found += [(node.lineno, t.id, t.id) for t in targets if isinstance(t, ast.Name) and t.id in ARGUMENTS]
            continue
        match = _NAMED.search(name)
        if match:
            found.append((node.lineno, name, match.group(1)))
            continue
        if not isinstance(node, ast.ClassDef):
            params = tuple(a.arg for a in node.args.posonlyargs + node.args.args)
            for signature, fn in _SIGNATURES.items():
                if params[: len(signature)] == signature:
                    found.append((node.lineno, name, fn))
    return found


def _kit_modules() -> dict[str, str]:
    return {
        p.relative_to(KIT).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(KIT.rglob("*.py"))
        if "example_class" not in p.relative_to(KIT).parts
    }


def _entry(table: dict, module: str, name: str):
    return next((key for key in table if key[0] == module and re.fullmatch(key[1], name)), None)


def _scan() -> tuple[list[str], set, set]:
    unexplained, allowed, known = [], set(), set()
    for module, source in _kit_modules().items():
        for line, name, graded in definitions(source, module):
            if (key := _entry(NOT_IMPLEMENTATIONS, module, name)) is not None:
                allowed.add(key)
            elif (key := _entry(KNOWN_IMPLEMENTATIONS, module, name)) is not None:
                known.add(key)
            else:
                unexplained.append(f"rnnkit/{module}:{line} {name} (named after or shaped like {graded})")
    return unexplained, allowed, known


def test_the_scan_finds_what_the_stand_ins_were():
    """Without this, a scan that finds nothing proves nothing: the old demo.py's definitions must all be caught."""
    old_demo = '''
def _standin_softmax(z): ...
def _standin_rnn_backward(x, y, U, W, V, s0=None, bptt_truncate=None): ...
def _lstm_cell(x_t, h_prev, c_prev, weights, bias): ...
def helper(x_t, s_prev, U, W): ...
class Softmax: ...
def outer():
    def gru_step_forward(x_t, h_prev, params): ...
    rnn_forward = lambda x, U, W, V, s0=None: None
STANDINS = {"sigmoid": None}
sigmoid = _standin_softmax
'''
    caught = {name: graded for _, name, graded in definitions(old_demo)}
    assert caught == {
        "_standin_softmax": "softmax",
        "_standin_rnn_backward": "rnn_backward",
        "helper": "rnn_step_forward",  # no graded name, but rnn_step_forward's arguments
        "_lstm_cell": "lstm_step_forward",  # lstm_step_forward's first three arguments
        "gru_step_forward": "gru_step_forward",
        "rnn_forward": "rnn_forward",
        "<lambda>": "rnn_forward",
        "sigmoid": "sigmoid",
    }
    # Names that merely contain a graded name's letters are not caught.
    assert definitions("def softmaxes(a): ...\ndef my_rnn_forwarding(a): ...\ndef grus(x, params): ...") == []


def test_no_module_of_the_kit_defines_a_graded_function():
    unexplained, allowed, known = _scan()
    assert not unexplained, "definitions named after or shaped like a graded function:\n" + "\n".join(unexplained)
    assert allowed == set(NOT_IMPLEMENTATIONS), f"stale entries: {set(NOT_IMPLEMENTATIONS) - allowed}"
    assert known <= set(KNOWN_IMPLEMENTATIONS)


def test_the_capstone_defines_no_function_named_after_or_shaped_like_a_graded_one():
    modules = _kit_modules()
    for module in ("demo.py", "partfiles.py"):
        assert definitions(modules[module], module) == [], module
    assert {name for _, name, _ in definitions(modules["probes.py"])} == {f"_probe_{n}" for n in (
        "softmax", "cross_entropy_loss", "rnn_forward", "rnn_step_forward", "softmax_cross_entropy_grad",
        "rnn_backward", "clip_gradient_norm")}
    assert not any(k[0] in ("demo.py", "partfiles.py", "probes.py") for k in KNOWN_IMPLEMENTATIONS)


def test_what_implements_a_graded_function_lives_only_where_student_code_cannot_reach():
    """The grader's own near-reference code (the cases' softmax, the mistakes' variants) is grading-side only.

    It is never among the modules a sandboxed worker can see (``rnnkit.worker``; bubblewrap shows nothing else,
    Landlock lets nothing else be read) nor in the student edition that ships with the notebooks.
    """
    from rnnkit.export.runtime import package_files
    from rnnkit.sandbox.modes import package_dir, worker_files

    _, _, known = _scan()
    assert known, "the scan no longer finds the grader's variants: update KNOWN_IMPLEMENTATIONS"
    visible = {p.relative_to(package_dir()).as_posix() for p in worker_files(package_dir())}
    shipped = {name.removeprefix("rnnkit/") for name in package_files()}
    for module, name in sorted(known):
        assert module not in visible, f"rnnkit/{module} ({name}) is visible inside the sandbox"
        assert module not in shipped, f"rnnkit/{module} ({name}) ships to students"
