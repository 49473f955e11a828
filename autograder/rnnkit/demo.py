"""The capstone (``assignments/char_rnn.ipynb``) and ``rnnkit demo``.

The capstone trains a character-level language model with the student's own
functions from Parts 1-5. This module supplies what the notebook needs around
them:

* :func:`load_functions` runs the student's notebooks (or modules) of the
  earlier parts, found beside the capstone, and takes each function the
  capstone uses from there when it is done and agrees with the kit's own
  stand-in on a small probe; otherwise it falls back to the stand-in and says
  why, in one line per function;
* the **stand-ins** (``_standin_*``): compact, independent implementations of
  those functions (not the reference solutions of ``solutions/``: different
  code, vectorised differently), so that the capstone always runs;
* :func:`load_text`: the small public-domain text shipped with the kit;
* :func:`setting`: the capstone's sizes, which ``rnnkit demo --steps`` and the
  kit's tests can shrink;
* :func:`run_capstone`: ``rnnkit demo``, the capstone's own code cells run on
  the reference solutions, writing the loss plot to a PNG.

The stand-ins are for the capstone only: this module refuses to load while
the autograder runs a student's code.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import numpy as np

if os.environ.get("RNNKIT_GRADING"):  # set inside the grader's sandbox
    raise ImportError("rnnkit.demo is not available while grading: hand in code of your own")

from . import plots  # noqa: E402
from .worker.cells import SubmissionError, read_cells, run_cells  # noqa: E402

CAPSTONE = "char_rnn"

#: The functions the capstone trains and samples with, by the part that grades them.
USED: dict[str, tuple[str, ...]] = {
    "rnn_forward": ("softmax", "rnn_step_forward", "rnn_forward", "cross_entropy_loss"),
    "softmax_derivative": ("softmax_cross_entropy_grad",),
    "bptt": ("rnn_backward", "clip_gradient_norm"),
    "lstm": ("lstm_step_forward", "lstm_forward", "lstm_backward"),
    "gru": ("gru_step_forward", "gru_forward", "gru_backward"),
}
BONUS = {"lstm_backward": "Part 4", "gru_backward": "Part 5"}

#: The texts shipped in ``rnnkit/data`` (all in the public domain).
TEXTS = {
    "the_raven": {"title": "The Raven", "author": "Edgar Allan Poe", "year": 1845},
}


# =========================================================================== the stand-ins
#
# Written for the capstone, independently of solutions/: the gated cells stack
# their gates into one matrix product, and the RNN's backward pass is a single
# sweep. They take and return exactly what the student API says.


def _standin_sigmoid(z):
    # sigma(z) = (1 + tanh(z / 2)) / 2: no exponential, so nothing can overflow.
    return 0.5 + 0.5 * np.tanh(0.5 * np.asarray(z, dtype=float))


def _standin_softmax(z):
    logits = np.asarray(z, dtype=float)
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


def _standin_rnn_step_forward(x_t, s_prev, U, W):
    return np.tanh(W @ s_prev + U @ x_t)


def _initial(state, size):
    return np.zeros(size) if state is None else np.asarray(state, dtype=float)


def _standin_rnn_forward(x, U, W, V, s0=None):
    history = [_initial(s0, len(W))]
    for row in x:
        history.append(np.tanh(W @ history[-1] + U @ row))
    states = np.array(history[1:]).reshape(len(x), len(W))
    return states, _standin_softmax(states @ V.T)


def _standin_cross_entropy_loss(o, y):
    chosen = np.take_along_axis(np.asarray(o), np.asarray(y).reshape(-1, 1), axis=1)
    return float(-np.log(chosen).sum())


def _standin_softmax_cross_entropy_grad(o, y):
    onehot = np.eye(np.shape(o)[1])[np.asarray(y)]
    return np.asarray(o, dtype=float) - onehot


def _standin_rnn_backward(x, y, U, W, V, s0=None, bptt_truncate=None):
    states, probs = _standin_rnn_forward(x, U, W, V, s0)
    before = np.vstack([_initial(s0, len(W)), states[:-1]])  # row t: s_{t-1}
    dz = _standin_softmax_cross_entropy_grad(probs, y)
    slope = 1.0 - states**2
    from_output = (dz @ V) * slope  # dE_t/da_t for every t at once
    steps = len(x)
    da = np.zeros_like(states)  # row k: dE/da_k, summed over every E_t that reaches it
    if bptt_truncate is None:
        flowing = np.zeros(len(W))
        for k in reversed(range(steps)):
            da[k] = from_output[k] + flowing
            flowing = (da[k] @ W) * slope[k - 1] if k else flowing
    else:
        for t in range(steps):
            g = from_output[t]
            for k in range(t, max(0, t - bptt_truncate) - 1, -1):
                da[k] += g
                g = (g @ W) * slope[k - 1]
    return {"U": da.T @ x, "W": da.T @ before, "V": dz.T @ states}


def _standin_clip_gradient_norm(grads, max_norm):
    total = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {name: np.array(g, dtype=float) * factor for name, g in grads.items()}


_LSTM_GATES = ("f", "i", "c", "o")
_GRU_GATES = ("z", "r")


def _stacked(params, gates):
    return np.vstack([params["W" + g] for g in gates]), np.concatenate([params["b" + g] for g in gates])


def _lstm_cell(x_t, h_prev, c_prev, weights, bias):
    size = len(h_prev)
    joined = np.concatenate([h_prev, x_t])
    pre = weights @ joined + bias
    f, i, o = (_standin_sigmoid(pre[n * size : (n + 1) * size]) for n in (0, 1, 3))
    g = np.tanh(pre[2 * size : 3 * size])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    return o * tc, c, (joined, c_prev, f, i, g, o, tc)


def _standin_lstm_step_forward(x_t, h_prev, c_prev, params):
    return _lstm_cell(x_t, h_prev, c_prev, *_stacked(params, _LSTM_GATES))[:2]


def _lstm_run(x, params, h0, c0):
    weights, bias = _stacked(params, _LSTM_GATES)
    size = len(params["bf"])
    h, c = _initial(h0, size), _initial(c0, size)
    hs, cs, memo = [], [], []
    for row in x:
        h, c, kept = _lstm_cell(row, h, c, weights, bias)
        hs.append(h)
        cs.append(c)
        memo.append(kept)
    return np.array(hs).reshape(len(x), size), np.array(cs).reshape(len(x), size), memo, weights


def _standin_lstm_forward(x, params, h0=None, c0=None):
    return _lstm_run(x, params, h0, c0)[:2]


def _standin_lstm_backward(x, params, dh, h0=None, c0=None):
    _, _, memo, weights = _lstm_run(x, params, h0, c0)
    size = len(params["bf"])
    d_weights = np.zeros_like(weights)
    d_bias = np.zeros(4 * size)
    dx = np.zeros(np.shape(x))
    carry_h, carry_c = np.zeros(size), np.zeros(size)
    for t in reversed(range(len(memo))):
        joined, c_prev, f, i, g, o, tc = memo[t]
        total_h = dh[t] + carry_h
        total_c = carry_c + total_h * o * (1.0 - tc * tc)
        d_pre = np.concatenate(
            [total_c * c_prev * f * (1.0 - f), total_c * g * i * (1.0 - i), total_c * i * (1.0 - g * g), total_h * tc * o * (1.0 - o)]
        )
        d_weights += d_pre[:, None] * joined[None, :]
        d_bias += d_pre
        d_joined = d_pre @ weights
        carry_h, dx[t] = d_joined[:size], d_joined[size:]
        carry_c = total_c * f
    out = {"x": dx, "h0": carry_h, "c0": carry_c}
    for n, gate in enumerate(_LSTM_GATES):
        out["W" + gate] = d_weights[n * size : (n + 1) * size].copy()
        out["b" + gate] = d_bias[n * size : (n + 1) * size].copy()
    return out


def _gru_cell(x_t, h_prev, params, gate_weights, gate_bias):
    size = len(h_prev)
    joined = np.concatenate([h_prev, x_t])
    zr = _standin_sigmoid(gate_weights @ joined + gate_bias)
    z, r = zr[:size], zr[size:]
    reset_joined = np.concatenate([r * h_prev, x_t])
    cand = np.tanh(params["Wh"] @ reset_joined + params["bh"])
    return h_prev + z * (cand - h_prev), (joined, reset_joined, h_prev, z, r, cand)


def _standin_gru_step_forward(x_t, h_prev, params):
    h, _ = _gru_cell(x_t, h_prev, params, *_stacked(params, _GRU_GATES))
    return h


def _gru_run(x, params, h0):
    gate_weights, gate_bias = _stacked(params, _GRU_GATES)
    size = len(params["bz"])
    h = _initial(h0, size)
    hs, memo = [], []
    for row in x:
        h, kept = _gru_cell(row, h, params, gate_weights, gate_bias)
        hs.append(h)
        memo.append(kept)
    return np.array(hs).reshape(len(x), size), memo, gate_weights


def _standin_gru_forward(x, params, h0=None):
    return _gru_run(x, params, h0)[0]


def _standin_gru_backward(x, params, dh, h0=None):
    _, memo, gate_weights = _gru_run(x, params, h0)
    size = len(params["bz"])
    d_gates_w = np.zeros_like(gate_weights)
    d_gates_b = np.zeros(2 * size)
    d_wh, d_bh = np.zeros_like(params["Wh"]), np.zeros(size)
    dx = np.zeros(np.shape(x))
    carry = np.zeros(size)
    for t in reversed(range(len(memo))):
        joined, reset_joined, h_prev, z, r, cand = memo[t]
        total = dh[t] + carry
        d_cand_pre = total * z * (1.0 - cand * cand)
        d_wh += d_cand_pre[:, None] * reset_joined[None, :]
        d_bh += d_cand_pre
        d_reset_joined = d_cand_pre @ params["Wh"]
        d_zr_pre = np.concatenate(
            [total * (cand - h_prev) * z * (1.0 - z), d_reset_joined[:size] * h_prev * r * (1.0 - r)]
        )
        d_gates_w += d_zr_pre[:, None] * joined[None, :]
        d_gates_b += d_zr_pre
        d_joined = d_zr_pre @ gate_weights
        dx[t] = d_reset_joined[size:] + d_joined[size:]
        carry = total * (1.0 - z) + d_reset_joined[:size] * r + d_joined[:size]
    return {
        "Wz": d_gates_w[:size].copy(), "bz": d_gates_b[:size].copy(),
        "Wr": d_gates_w[size:].copy(), "br": d_gates_b[size:].copy(),
        "Wh": d_wh, "bh": d_bh, "x": dx, "h0": carry,
    }


#: name -> the kit's stand-in.
STANDINS: dict[str, Callable] = {
    name: globals()[f"_standin_{name}"] for names in USED.values() for name in names
}
STANDINS["sigmoid"] = _standin_sigmoid


# =========================================================================== probing a student's function


def _probe_arguments(name: str) -> list[tuple]:
    """Small fixed inputs on which a function must agree with the stand-in to be used."""
    rng = np.random.default_rng(20240607)
    T, D, H, K = 5, 4, 3, 6
    x = rng.standard_normal((T, D))
    y = rng.integers(0, K, size=T)
    U, W, V = rng.standard_normal((H, D)), rng.standard_normal((H, H)), rng.standard_normal((K, H))
    s0 = rng.standard_normal(H)
    o = _standin_softmax(rng.standard_normal((T, K)))
    gated = {
        "lstm": {f"{kind}{g}": rng.standard_normal((H, H + D) if kind == "W" else H) for g in _LSTM_GATES for kind in "Wb"},
        "gru": {f"{kind}{g}": rng.standard_normal((H, H + D) if kind == "W" else H) for g in ("z", "r", "h") for kind in "Wb"},
    }
    dh = rng.standard_normal((T, H))
    h0, c0 = rng.standard_normal(H), rng.standard_normal(H)
    big = {"U": 3 * rng.standard_normal((H, D)), "W": 3 * rng.standard_normal((H, H))}
    table = {
        "softmax": [(3 * rng.standard_normal((T, K)),), (rng.standard_normal(K),)],
        "rnn_step_forward": [(x[0], s0, U, W)],
        "rnn_forward": [(x, U, W, V, s0), (x, U, W, V)],
        "cross_entropy_loss": [(o, y)],
        "softmax_cross_entropy_grad": [(o, y)],
        "rnn_backward": [(x, y, U, W, V, s0)],
        "clip_gradient_norm": [(big, 1.0), (big, 1e6)],
        "lstm_step_forward": [(x[0], h0, c0, gated["lstm"])],
        "lstm_forward": [(x, gated["lstm"], h0, c0)],
        "lstm_backward": [(x, gated["lstm"], dh, h0, c0)],
        "gru_step_forward": [(x[0], h0, gated["gru"])],
        "gru_forward": [(x, gated["gru"], h0)],
        "gru_backward": [(x, gated["gru"], dh, h0)],
    }
    return table[name]


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    return value


def _same(found: Any, expected: Any, *, keys: set | None = None) -> bool:
    """Equal up to float32 rounding; dicts compare on ``keys`` (default: every key expected)."""
    if isinstance(expected, dict):
        wanted = keys if keys is not None else set(expected)
        return isinstance(found, dict) and all(k in found and _same(found[k], expected[k]) for k in wanted)
    if isinstance(expected, tuple):
        return isinstance(found, (tuple, list)) and len(found) == len(expected) and all(map(_same, found, expected))
    try:
        a, b = np.asarray(found, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return False
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and bool(np.all(np.abs(a - b) <= 1e-4 * np.abs(b) + 1e-5 * scale))


def _unchanged(before: tuple, after: tuple) -> bool:
    return all(_same(a, b) for a, b in zip(after, before))


def why_not_usable(name: str, fn: Any) -> str | None:
    """None when ``fn`` can stand for the capstone's ``name``; otherwise the reason, in words."""
    if not callable(fn):
        return "is not a function"
    for args in _probe_arguments(name):
        kept = _copy(args)
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                given = _copy(args)
                found = fn(*given)
        except NotImplementedError as exc:
            inner = _innermost_function(exc)
            if inner and inner != name:
                return f"not done yet: it calls {inner}, which is still a stub"
            return "not done yet (still a stub)"
        except Exception as exc:  # noqa: BLE001 - any error of the student's code is a reason in words
            return f"raises {type(exc).__name__}: {str(exc)[:160]}"
        expected = STANDINS[name](*_copy(args))
        keys = {k for k in expected if k not in ("x", "h0", "c0")} if name in BONUS else None
        if not _same(found, expected, keys=keys):
            return f'gives different numbers from the kit\'s on a small test: run check("{name}") in its notebook'
        if not _unchanged(kept, given):
            return "changes its arguments (the training loop needs them unchanged)"
    return None


def _innermost_function(exc: BaseException) -> str | None:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_name if tb is not None else None


# =========================================================================== the student's notebooks


_TAGS = re.compile(r"^# %%.*\btags\s*=\s*\[(?P<tags>[^\]]*)\]")
_CHECK_CALL = re.compile(r"^check\(.*\)$")


def _tags_of_notebook_cells(data: bytes) -> dict[int, list[str]]:
    try:
        cells = json.loads(data.decode("utf-8-sig")).get("cells", [])
        return {n: list(c.get("metadata", {}).get("tags", [])) for n, c in enumerate(cells, start=1) if isinstance(c, dict)}
    except (ValueError, AttributeError):
        return {}


def _left_out(source: str, tags: list[str]) -> bool:
    """Check cells and plot cells are not needed for the functions (and would print or draw)."""
    if "check" in tags or "plot" in tags:
        return True
    lines = [line.strip() for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]
    first = source.lstrip("\n").split("\n", 1)[0]
    match = _TAGS.match(first)
    if match and re.search(r"[\"'](check|plot)[\"']", match.group("tags")):
        return True
    return bool(lines) and (all(_CHECK_CALL.match(line) for line in lines) or any("make_check" in line for line in lines))


@dataclass
class PartFile:
    part: str
    path: Path | None
    namespace: dict
    problem: str = ""
    cell_errors: tuple[str, ...] = ()


def run_part_file(folder: Path, part: str) -> PartFile:
    """Run the code cells of ``<part>.ipynb`` (else ``<part>.py``) in ``folder``, quietly."""
    path = next((folder / f"{part}{s}" for s in (".ipynb", ".py") if (folder / f"{part}{s}").is_file()), None)
    if path is None:
        return PartFile(part, None, {}, f"no {part}.ipynb or {part}.py in this folder")
    data = path.read_bytes()
    try:
        cells = read_cells(data, path.name)
    except SubmissionError as exc:
        return PartFile(part, path, {}, str(exc))
    tags = _tags_of_notebook_cells(data) if path.suffix == ".ipynb" else {}
    kept = [c for c in cells if not _left_out(c.source, tags.get(c.number, []))]
    sink = io.StringIO()
    with plots.quiet(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = run_cells(kept, f"rnnkit_capstone_{part}")
    _close_figures()
    errors = tuple(f"cell {e.cell} raised {e.summary}" for e in loaded.errors)
    return PartFile(part, path, loaded.namespace, "", errors)


def _close_figures() -> None:
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@dataclass
class Choice:
    name: str
    fn: Callable
    yours: bool
    note: str


class Functions:
    """The functions the capstone uses, by name (``fns.rnn_forward``), each the student's or the kit's."""

    def __init__(self, choices: dict[str, Choice], heading: str, whose: str = "yours"):
        self.choices = choices
        self.heading = heading
        self.whose = whose  # what the summary calls a function that is not a stand-in

    def __getattr__(self, name: str) -> Callable:
        choices = self.__dict__.get("choices", {})
        if name in choices:
            return choices[name].fn
        raise AttributeError(f"the capstone has no function {name!r}; it uses {', '.join(choices)}")

    @property
    def yours(self) -> list[str]:
        return [c.name for c in self.choices.values() if c.yours]

    def summary(self) -> str:
        width = max(len(name) for name in self.choices)
        lines = [self.heading, ""]
        for names in USED.values():
            for name in names:
                choice = self.choices[name]
                mark = self.whose if choice.yours else "kit"
                lines.append(f"  {name:<{width}}  {mark:<{len(self.whose)}}  {choice.note}")
        owner = "yours" if self.whose == "yours" else f"the {self.whose} solutions"
        lines += ["", f"{len(self.yours)} of {len(self.choices)} functions are {owner}."]
        if len(self.yours) < len(self.choices):
            lines.append("Where it says kit, the kit's own stand-in is used, for the reason given. Finish a function, "
                         "save its notebook, and run this cell again to train with yours.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


_forced: Functions | None = None
_overrides: dict[str, Any] = {}


def load_functions(folder: str | Path | None = None, *, show: bool = True) -> Functions:
    """The capstone's functions: yours from the notebooks beside this one where they work, else the kit's.

    For each part, ``<part>.ipynb`` (or ``<part>.py``) in ``folder`` (default:
    the current folder, which is the notebook's own) is run quietly, without
    its check and plot cells. Each function the capstone needs is then taken
    from it if it is defined, does not raise, leaves its arguments alone and
    agrees with the kit's stand-in on a small test; otherwise the stand-in is
    used, and the summary says why.
    """
    if _forced is not None:
        functions = _forced
    else:
        folder = Path(folder) if folder is not None else Path.cwd()
        choices: dict[str, Choice] = {}
        for part, names in USED.items():
            loaded = run_part_file(folder, part)
            for name in names:
                choices[name] = _choose(name, loaded)
        functions = Functions(choices, f"Functions for the capstone, from the notebooks in {folder}:")
    if show:
        print(functions.summary())
    return functions


def _choose(name: str, loaded: PartFile) -> Choice:
    standin = STANDINS[name]
    bonus = f" (bonus of {BONUS[name]})" if name in BONUS else ""
    if loaded.problem:
        return Choice(name, standin, False, loaded.problem)
    where = loaded.path.name if loaded.path else loaded.part
    if name not in loaded.namespace:
        reason = f"{where} defines no {name}{bonus}"
        if loaded.cell_errors:
            reason += f"; {loaded.cell_errors[0]}"
        return Choice(name, standin, False, reason)
    fn = loaded.namespace[name]
    reason = why_not_usable(name, fn)
    if reason is None:
        return Choice(name, fn, True, f"from {where}")
    return Choice(name, standin, False, f"{reason}{bonus}")


def reference_functions(solutions_dir: Path) -> Functions:
    """Every function from the reference solutions (for ``rnnkit demo``; the trusted side only)."""
    from . import content

    choices = {}
    for part, names in USED.items():
        module = content.load_reference(solutions_dir, part)
        for name in names:
            choices[name] = Choice(name, getattr(module, name), True, f"solutions/{part}.py")
    return Functions(choices, "rnnkit demo: the capstone runs on the reference solutions.", whose="reference")


def standin_functions() -> Functions:
    """Every function from the kit's stand-ins."""
    choices = {name: Choice(name, fn, False, "stand-in") for name, fn in STANDINS.items() if name != "sigmoid"}
    return Functions(choices, "The kit's stand-ins for every function.")


@contextlib.contextmanager
def forced_functions(functions: Functions):
    """Within this block, :func:`load_functions` returns ``functions`` (``rnnkit demo``, tests)."""
    global _forced
    before, _forced = _forced, functions
    try:
        yield
    finally:
        _forced = before


# =========================================================================== text and settings


def load_text(name: str = "the_raven") -> str:
    """A text shipped with the kit (see :data:`TEXTS`); all are in the public domain."""
    if name not in TEXTS:
        raise KeyError(f"no text named {name!r}; the texts are {', '.join(TEXTS)}")
    return resources.files(__package__).joinpath("data", f"{name}.txt").read_text(encoding="utf-8")


def about_text(name: str = "the_raven") -> str:
    info = TEXTS[name]
    return f"{info['title']}, by {info['author']} ({info['year']}; public domain)"


def setting(name: str, default):
    """``default``, unless ``rnnkit demo`` or ``$RNNKIT_DEMO_<NAME>`` (the kit's tests) sets another value."""
    if name in _overrides:
        return type(default)(_overrides[name])
    value = os.environ.get(f"RNNKIT_DEMO_{name.upper()}")
    return type(default)(value) if value else default


@contextlib.contextmanager
def overridden(**values):
    """Within this block, :func:`setting` returns these values (``None`` values are ignored)."""
    before = dict(_overrides)
    _overrides.update({k: v for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        _overrides.clear()
        _overrides.update(before)


# =========================================================================== rnnkit demo


def capstone_cells(solutions_dir: Path) -> list[tuple[int, str]]:
    """The capstone's code cells (number, source), from its source in ``solutions/``."""
    from . import content

    notebook = content.read_source(solutions_dir, CAPSTONE)
    return [
        (number, cell.source)
        for number, cell in enumerate(notebook.cells, start=1)
        if cell.cell_type == "code" and not content.is_check_cell(cell) and not content.is_plot_cell(cell)
    ]


def run_capstone(solutions_dir: Path, out_dir: Path, *, steps: int | None = None, functions: Functions | None = None) -> list[Path]:
    """Run the capstone's code on the reference solutions; save its figures as PNGs in ``out_dir``.

    Its printed output (the functions used, the samples, the losses) goes to
    stdout. Returns the PNG files written.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    functions = functions or reference_functions(Path(solutions_dir))
    namespace: dict = {"__name__": "__main__", "display": print}
    plt.close("all")
    with forced_functions(functions), overridden(steps=steps), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*non-interactive.*")
        for number, source in capstone_cells(Path(solutions_dir)):
            exec(compile(source, f"char_rnn cell {number}", "exec"), namespace)  # noqa: S102 - the kit's own notebook
    written = []
    for index, num in enumerate(plt.get_fignums(), start=1):
        figure = plt.figure(num)
        label = re.sub(r"[^A-Za-z0-9_.-]+", "_", figure.get_label() or f"figure_{index}")
        path = out_dir / f"{label}.png"
        figure.savefig(path, dpi=110)
        written.append(path)
    plt.close("all")
    return written

