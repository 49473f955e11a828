"""The capstone (``assignments/char_rnn.ipynb``) and ``rnnkit demo``.

The capstone trains a character-level language model with the student's own
functions from Parts 1-5, and with nothing else: the kit has no stand-ins.
This module supplies what the notebook needs around those functions:

* :func:`load_functions` runs the student's notebooks (or modules) of the
  parts, found beside the capstone, quietly and without their check and plot
  cells, and tries each function the capstone uses on a tiny input
  (:mod:`.probes`: shapes, finiteness, agreement with the student's other
  functions; no reference answers). It prints which functions are usable and,
  per model (:data:`SAMPLING`, :data:`TRAINING`), whether it trains or is
  skipped and why;
* :class:`Functions`: what the notebook calls (``fns.rnn_forward``); an error
  of a student's function while training stops that model only, with one
  sentence that names the function (:meth:`Functions.guard`);
* :func:`load_text`, :func:`setting`: the text shipped with the kit, and the
  capstone's sizes, which ``rnnkit demo --steps`` and the kit's tests change;
* :func:`run_capstone`: ``rnnkit demo``, the capstone's own code cells run on
  the reference solutions of ``solutions/`` (the instructor's side only).

It ships in the student release: it imports numpy, :mod:`.plots`,
:mod:`.probes` and :mod:`.partfiles` (with :mod:`.worker.cells`) only, and
matplotlib when it draws.
"""
from __future__ import annotations

import contextlib
import os
import re
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable


from . import probes
from .partfiles import run_part_file

CAPSTONE = "char_rnn"

#: The functions the capstone trains and samples with, by the part that grades them.
USED: dict[str, tuple[str, ...]] = {
    "rnn_forward": ("softmax", "rnn_step_forward", "rnn_forward", "cross_entropy_loss"),
    "softmax_derivative": ("softmax_cross_entropy_grad",),
    "bptt": ("rnn_backward", "clip_gradient_norm"),
    "lstm": ("lstm_step_forward", "lstm_forward", "lstm_backward"),
    "gru": ("gru_step_forward", "gru_forward", "gru_backward"),
}
PART_OF = {name: part for part, names in USED.items() for name in names}
NUMBER = {part: n for n, part in enumerate(USED, start=1)}
BONUS = ("lstm_backward", "gru_backward")

#: model -> what it needs to write text (sampling: one step, then the softmax).
SAMPLING: dict[str, tuple[str, ...]] = {
    "vanilla RNN": ("rnn_step_forward", "softmax"),
    "LSTM": ("lstm_step_forward", "softmax"),
    "GRU": ("gru_step_forward", "softmax"),
}
#: model -> what else it needs to train (loss, gradients, clipping).
TRAINING: dict[str, tuple[str, ...]] = {
    "vanilla RNN": ("rnn_forward", "cross_entropy_loss", "rnn_backward", "clip_gradient_norm"),
    "LSTM": ("lstm_forward", "cross_entropy_loss", "softmax_cross_entropy_grad", "lstm_backward", "clip_gradient_norm"),
    "GRU": ("gru_forward", "cross_entropy_loss", "softmax_cross_entropy_grad", "gru_backward", "clip_gradient_norm"),
}

#: The texts shipped in ``rnnkit/data`` (all in the public domain).
TEXTS = {
    "the_raven": {"title": "The Raven", "author": "Edgar Allan Poe", "year": 1845},
}


def label(name: str) -> str:
    """``rnn_backward`` (Part 3), ``lstm_backward`` (the bonus of Part 4): how messages name a function."""
    part = f"Part {NUMBER[PART_OF[name]]}"
    return f"`{name}` (the bonus of {part})" if name in BONUS else f"`{name}` ({part})"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def labels(names: list[str]) -> str:
    """Several functions, grouped by part: ```rnn_backward` and `clip_gradient_norm` (Part 3)``."""
    groups: dict[tuple[str, bool], list[str]] = {}
    for name in names:
        groups.setdefault((PART_OF[name], name in BONUS), []).append(f"`{name}`")
    return _and([f"{_and(g)} ({'the bonus of ' if bonus else ''}Part {NUMBER[part]})" for (part, bonus), g in groups.items()])


@dataclass
class Verdict:
    """One function the capstone uses: the student's ``fn`` and ``None`` as ``reason`` when usable."""

    name: str
    fn: Callable | None
    reason: str | None
    where: str = ""  # the file it came from

    @property
    def usable(self) -> bool:
        return self.reason is None


class FunctionFailed(Exception):
    """A student's function raised while the capstone used it."""

    def __init__(self, name: str, error: BaseException):
        super().__init__(name)
        self.name, self.error = name, error


class Diverged(Exception):
    """The loss of a model became nan or inf (raised by the notebook's training loop)."""

    def __init__(self, step: int, loss: float):
        super().__init__(step)
        self.step, self.loss = step, loss


def _guarded(name: str, fn: Callable) -> Callable:
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - becomes one sentence naming the function
            raise FunctionFailed(name, exc) from exc

    run.__name__ = run.__qualname__ = name
    run.__doc__ = fn.__doc__
    return run


class Functions:
    """The functions the capstone uses, by name (``fns.rnn_forward``), and what each model can do with them."""

    def __init__(self, verdicts: dict[str, Verdict], heading: str, whose: str = "your"):
        self.verdicts = verdicts
        self.heading = heading
        self.whose = whose
        self.failed: dict[str, str] = {}  # model -> what stopped it
        self._calls = {n: _guarded(n, v.fn) for n, v in verdicts.items() if v.usable}

    def __getattr__(self, name: str) -> Callable:
        calls = self.__dict__.get("_calls", {})
        if name in calls:
            return calls[name]
        verdict = self.__dict__.get("verdicts", {}).get(name)
        if verdict is not None:
            raise FunctionFailed(name, RuntimeError(f"{name} {verdict.reason}"))
        raise AttributeError(f"the capstone has no function {name!r}")

    def usable(self, name: str) -> bool:
        return self.verdicts[name].usable

    def _missing(self, names) -> list[str]:
        """The unusable ones among ``names``, in the order of the notebooks."""
        return [n for n in PART_OF if n in names and not self.usable(n)]

    def can_sample(self, model: str) -> bool:
        """Whether ``model`` can write text: its step function and the softmax are usable."""
        return not self._missing(SAMPLING[model]) and model not in self.failed

    def can_train(self, model: str) -> bool:
        """Whether ``model`` trains: every function it needs (:data:`SAMPLING`, :data:`TRAINING`) is usable."""
        return not self._missing(SAMPLING[model] + TRAINING[model])

    def skipped(self, model: str) -> str:
        """One sentence: why ``model`` does not train (empty when it does)."""
        missing = self._missing(SAMPLING[model] + TRAINING[model])
        by_reason: dict[str, list[str]] = {}
        for name in missing:  # the same reason is said once, for all its functions, when the grammar allows
            reason = self.verdicts[name].reason
            by_reason.setdefault(reason if reason.startswith(("is ", "cannot ")) else name, []).append(name)
        said = []
        for key, names in by_reason.items():
            reason = self.verdicts[names[0]].reason
            if len(names) > 1 and reason.startswith("is "):
                reason = "are " + reason[3:]
            said.append(f"{labels(names)} {reason}")
        return f"The {model} is skipped: {'; '.join(said)}." if said else ""

    def first_steps(self) -> str:
        """When nothing can train: the model closest to training, and what to finish for it (else empty)."""
        if any(self.can_train(m) for m in TRAINING):
            return ""
        model = min(TRAINING, key=lambda m: len(self._missing(SAMPLING[m] + TRAINING[m])))
        by_part: dict[str, list[str]] = {}
        for name in self._missing(SAMPLING[model] + TRAINING[model]):
            by_part.setdefault(PART_OF[name], []).append(f"`{name}`")
        todo = ", then ".join(f"{_and(names)} in {part}.ipynb (Part {NUMBER[part]})" for part, names in by_part.items())
        return (f"Nothing can train yet, and that is fine: each function you finish brings a model closer. "
                f"The nearest is the {model}: finish {todo}, save, and run this notebook again.")

    def summary(self) -> str:
        width = max(len(n) for n in self.verdicts) + len(" (bonus)")
        lines = [self.heading, ""]
        for names in USED.values():
            for name in names:
                v = self.verdicts[name]
                shown = f"{name} (bonus)" if name in BONUS else name
                note = f"usable: {self.whose} {name}, from {v.where}" if v.usable else v.reason
                lines.append(f"  {'✓' if v.usable else '✗'} {shown:<{width}} {note}")
        usable = sum(v.usable for v in self.verdicts.values())
        lines += ["", f"{usable} of {len(self.verdicts)} functions are usable.", ""]
        for model in TRAINING:
            if self.can_train(model):
                lines.append(f"The {model} trains with {self.whose} functions.")
            else:
                writes = " It still writes a sample, untrained." if self.can_sample(model) else ""
                lines.append(self.skipped(model) + writes)
        if not any(self.can_train(m) for m in TRAINING):
            lines += ["", self.first_steps()]
        elif usable < len(self.verdicts):
            lines += ["", "Finish a function, save its notebook, and run this notebook again to train more."]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    @contextlib.contextmanager
    def guard(self, model: str, doing: str = "training"):
        """Within this block an error stops ``model`` only, with one sentence naming the function that failed."""
        try:
            yield
        except FunctionFailed as exc:
            error = exc.error
            text = f"{type(error).__name__}: {str(error).strip()[:200]}" if str(error).strip() else type(error).__name__
            self.failed[model] = f"{exc.name} raised {text}"
            print(f"The {model} stopped while {doing}: your {label(exc.name)} raised {text}. "
                  f'Run check("{exc.name}") in {PART_OF[exc.name]}.ipynb to find out more.')
        except Diverged as exc:
            self.failed[model] = f"its loss became {exc.loss} at update {exc.step}"
            print(f"The {model} stopped at update {exc.step}: its loss became {exc.loss}. One of its functions "
                  f"returned nan or inf; their checks will say which.")
        except Exception as exc:  # noqa: BLE001 - the notebook's own code tripping over a returned value
            self.failed[model] = f"{type(exc).__name__}: {exc}"
            print(f"The {model} stopped while {doing}: {type(exc).__name__}: {str(exc)[:200]} "
                  "(on something one of its functions returned).")


_forced: Functions | None = None
_overrides: dict[str, Any] = {}


def judge(found: dict[str, tuple[Any, str]], problems: dict[str, str]) -> dict[str, Verdict]:
    """A verdict per function: ``found`` maps a name to (the function, its file), ``problems`` to why it is missing."""
    verdicts: dict[str, Verdict] = {}
    usable: dict[str, Callable] = {}
    for name in probes.ORDER:
        if name not in found:
            verdicts[name] = Verdict(name, None, problems.get(name, "is not defined"))
            continue
        fn, where = found[name]
        reason = probes.probe(name, fn, usable)
        verdicts[name] = Verdict(name, fn if reason is None else None, reason, where)
        if reason is None:
            usable[name] = fn
    return verdicts


def load_functions(folder: str | Path | None = None, *, show: bool = True) -> Functions:
    """Your functions for the capstone, from your notebooks beside this one; prints what trains and what is skipped.

    For each part, ``<part>.ipynb`` (else ``<part>.py``) in ``folder`` (default:
    the current folder, the notebook's own) runs quietly, without its check and
    plot cells. Each function the capstone needs is then tried on a tiny input
    (:mod:`.probes`); a function that is missing, still a stub, raises, changes
    its arguments or gives output that cannot be right is not used, and the
    summary says why and which models are skipped for it.
    """
    if _forced is not None:
        functions = _forced
    else:
        folder = Path(folder) if folder is not None else Path.cwd()
        found: dict[str, tuple[Any, str]] = {}
        problems: dict[str, str] = {}
        for part, names in USED.items():
            loaded = run_part_file(folder, part)
            where = loaded.path.name if loaded.path else f"{part}.ipynb"
            for name in names:
                if loaded.problem:
                    problems[name] = loaded.problem
                elif name in loaded.namespace:
                    found[name] = (loaded.namespace[name], where)
                else:
                    problems[name] = f"is not defined in {where}" + (f" ({loaded.cell_errors[0]})" if loaded.cell_errors else "")
        functions = Functions(judge(found, problems), f"Your functions for the capstone, from the notebooks in {folder}:")
    if show:
        print(functions.summary())
    return functions


def reference_functions(solutions_dir: Path) -> Functions:
    """Every function from the reference solutions in ``solutions/`` (for ``rnnkit demo``: the instructor's side only)."""
    from . import content  # not in the student edition: students have no solutions/

    found = {}
    for part, names in USED.items():
        module = content.load_reference(solutions_dir, part)
        for name in names:
            found[name] = (getattr(module, name), f"solutions/{part}.py")
    return Functions(judge(found, {}), "rnnkit demo: the capstone runs on the reference solutions.", whose="the reference")


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
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", figure.get_label() or f"figure_{index}")
        path = out_dir / f"{stem}.png"
        figure.savefig(path, dpi=110)
        written.append(path)
    plt.close("all")
    return written

