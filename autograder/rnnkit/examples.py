"""The bundled example class that ``rnnkit grade`` grades when given no folder.

Four students, assembled in a scratch folder at grading time so that no copy
of the reference code is ever kept outside ``solutions/``:

* ``alice`` hands in the reference solutions as modules: full marks;
* ``bob`` makes typical mistakes (each one applied to a copy of the reference);
* ``carol`` hands in the untouched stub notebooks: not implemented yet;
* ``mallory`` hands in hostile files (``example_class/mallory``): hangs, a fork
  bomb, a memory bomb, exits, an output flood, a corrupt notebook, a file that
  is not UTF-8, and a ``numpy.py`` / ``sitecustomize.py`` that must be ignored.
"""
from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from . import content
from .course import Course

#: bob's mistakes: part -> [(reference text, what bob wrote instead)]
BOB_MISTAKES = {
    "rnn_forward": [
        ("np.tanh(U @ x_t + W @ s_prev)", "np.tanh(U @ x_t + W.T @ s_prev)"),
        ("return float(-np.sum(np.log(o[np.arange(T), y])))", "return float(-np.mean(np.log(o[np.arange(T), y])))"),
    ],
    "softmax_derivative": [
        ("return np.diag(y) - np.outer(y, y)", "return np.diag(y - y**2)"),
    ],
    "bptt": [
        ("s_before = s[k - 1] if k > 0 else s_init", "s_before = s[k]"),
        ("grad[index] = (f_plus - f_minus) / (2.0 * eps)", "grad[index] = (f_plus - f_minus) / eps"),
    ],
    "lstm": [
        ("hx = np.concatenate([h_prev, x_t])", "hx = np.concatenate([x_t, h_prev])"),
    ],
    "gru": [
        ("return (1.0 - z) * h_prev + z * h_tilde", "return z * h_prev + (1.0 - z) * h_tilde"),
    ],
}


def _mutate(text: str, part: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        if old not in text:
            raise RuntimeError(f"example student bob: {old!r} no longer appears in solutions/{part}.py; update BOB_MISTAKES")
        text = text.replace(old, new)
    return text


def example_class(course: Course, scratch: Path) -> Path:
    """Assemble the example class under ``scratch`` and return its folder."""
    root = Path(scratch) / "example-class"
    for student in ("alice", "bob", "carol"):
        (root / student).mkdir(parents=True, exist_ok=True)
    for part in course.parts:
        source = content.source_path(course.solutions_dir, part.name).read_text(encoding="utf-8")
        (root / "alice" / f"{part.name}.py").write_text(source, encoding="utf-8")
        if part.name in BOB_MISTAKES:
            (root / "bob" / f"{part.name}.py").write_text(_mutate(source, part.name, BOB_MISTAKES[part.name]), encoding="utf-8")
        stub = course.assignments_dir / f"{part.name}.ipynb"
        if stub.exists():
            shutil.copy(stub, root / "carol" / stub.name)
    hostile = resources.files(__package__).joinpath("example_class", "mallory")
    (root / "mallory").mkdir(parents=True, exist_ok=True)
    for entry in hostile.iterdir():
        if entry.is_file():  # not the __pycache__ a byte-compiled install leaves beside them
            (root / "mallory" / entry.name).write_bytes(entry.read_bytes())
    return root
