"""The student edition of the kit: the public checks as a small ``rnnkit`` package that needs numpy only.

The notebooks say ``from rnnkit.checks import make_check``. Students do not
have the instructor's kit (it holds the reference solutions), so every export
that reaches students ships this folder beside the notebooks instead: the
kit's own public-check modules copied verbatim, and a ``course.py`` reduced to
the :class:`~rnnkit.course.Tolerance` the checks need. No reference code, no
hidden-test generators, no ``course.yml``. ``rnnkit release`` also ships the
modules its notebooks import (the capstone's ``demo.py``, with the modules and
the data file it needs: :data:`DATA`).

:func:`package_files` refuses to build when a copied module imports anything
beyond the standard library, numpy, matplotlib and the other copied modules,
or is :data:`WITHHELD`, so a later change to the kit cannot silently break (or
bloat, or leak into) the student edition.
"""
from __future__ import annotations

import ast
import inspect
import re
import sys
from pathlib import Path

from ..course import Tolerance
from . import ExportError

PACKAGE = "rnnkit"

#: Modules of the kit copied verbatim, relative to the package.
COPIED = (
    "worker/calls.py",
    "worker/cells.py",
    "compare.py",
    "hints.py",
    "spec.py",
    "checks.py",
    "export/__init__.py",
    "export/inkernel.py",
)

_MAIN = '''"""The public checks from a terminal: ``python -m rnnkit check PART [FILE]`` (student edition).

Runs every function of PART in FILE (default: ``PART.ipynb`` here) on the public cases and
prints what each check finds, as the notebook's ``check(...)`` cells do.
"""
import os
import sys
from pathlib import Path

from .checks import PublicChecks, run_check
from .spec import API
from .worker.cells import SubmissionError, load_file


def main(argv):
    if len(argv) not in (2, 3) or argv[0] != "check" or argv[1] not in API:
        print(f"usage: python -m rnnkit check PART [FILE]   (PART: {', '.join(API)})", file=sys.stderr)
        return 2
    part = argv[1]
    path = Path(argv[2]) if len(argv) == 3 else Path(f"{part}.ipynb")
    if not path.is_file():
        print(f"There is no {path} here: run this from the folder of your notebooks, or give the file.", file=sys.stderr)
        return 2
    os.environ["RNNKIT_GRADING"] = "1"  # the notebook's own check and plot cells stay quiet while it loads
    namespace = {}
    try:
        loaded = load_file(path, namespace)
    except SubmissionError as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        os.environ.pop("RNNKIT_GRADING", None)
    for error in loaded.errors:
        print(f"note: cell {error.cell} raised {error.summary}")
    public = PublicChecks.load()
    results = [run_check(name, namespace, public) for name in API[part]]
    for result in results:
        print(result)
    passed = sum(r.passed for r in results)
    print(f"\\n{passed} of {len(results)} functions of {part} pass their public checks.")
    return 0 if passed == len(results) else 1


sys.exit(main(sys.argv[1:]))
'''

_INIT = '''"""rnnkit, student edition: the public checks of the course notebooks.

    from rnnkit.checks import make_check

Made by `rnnkit release` (or an nbgrader / otter export) from the instructor's
kit. It holds no solutions and no hidden tests. The checks need numpy only;
the capstone (`rnnkit.demo`, in the release) also draws with matplotlib.
"""
'''

_COURSE = '''"""Student edition: only what the public checks need from the kit's course.py."""
from __future__ import annotations

from dataclasses import dataclass


'''

#: Data files a shipped module reads (with ``importlib.resources``), shipped with it.
DATA = {
    "demo.py": ("data/the_raven.txt",),
}

#: Packages a student is expected to have (the notebooks' plots use matplotlib when it is there).
_THIRD_PARTY = {"numpy", "matplotlib"}
_KIT_IMPORT = re.compile(r"^\s*(?:from|import)\s+rnnkit\.([A-Za-z_][\w.]*)", re.MULTILINE)
_KIT_FROM_IMPORT = re.compile(r"^\s*from\s+rnnkit\s+import\s+(.+)$", re.MULTILINE)

#: Kit modules that never go to students, and why. A notebook that needs one is left out of the student edition.
#: (The capstone's ``demo.py`` ships: it trains with the student's own functions and implements none.)
WITHHELD = {
    "content.py": "it loads the reference solutions",
    "cases/__init__.py": "it generates the hidden test cases",
    "diagnosis/__init__.py": "it recognises mistakes by recomputing the graded functions",
    "grading.py": "it grades",
}


def _kit_dir() -> Path:
    return Path(__file__).resolve().parents[1]


def _module_path(parts: list[str]) -> str | None:
    """The shipped path of a kit module given as dotted parts (``["export", "inkernel"]``), if it exists."""
    kit = _kit_dir()
    for candidate in ("/".join(parts) + ".py", "/".join(parts) + "/__init__.py"):
        if (kit / candidate).is_file():
            return candidate
    return None


def _relative_targets(name: str, text: str, top_level_only: bool = False) -> list[tuple[str, list[str]]]:
    """(as written, dotted parts from the package root) of the relative imports of a module.

    ``top_level_only``: only those that run when the module is imported (an import
    inside a function is that function's business, needed only when it is called).
    """
    package_parts = list(Path(name).parent.parts)
    tree = ast.parse(text, name)
    nodes = _top_level_imports(tree) if top_level_only else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = package_parts[: len(package_parts) - (node.level - 1)]
            if node.module:
                found.append(("." * node.level + node.module, base + node.module.split(".")))
            else:
                found += [("." * node.level + a.name, base + [a.name]) for a in node.names]
    return found


_OPTIONAL = ("ImportError", "ModuleNotFoundError")


def _top_level_imports(tree: ast.Module):
    """Imports that run, and must succeed, when the module is imported.

    Not those inside functions (they run when used), nor those in a ``try`` whose
    ``except ImportError`` makes them optional.
    """
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.Try):
            optional = any(isinstance(h.type, ast.Name) and h.type.id in _OPTIONAL for h in node.handlers)
            todo += ([] if optional else node.body) + node.orelse + node.finalbody
            todo += [n for h in node.handlers for n in h.body]
        elif isinstance(node, (ast.If, ast.With)):
            todo += node.body + getattr(node, "orelse", [])


def _check_imports(name: str, text: str) -> None:
    allowed = set(sys.stdlib_module_names) | _THIRD_PARTY | {"__future__"}
    bad = []
    for node in _top_level_imports(ast.parse(text, name)):
        if isinstance(node, ast.Import):
            bad += [a.name for a in node.names if a.name.split(".")[0] not in allowed]
        elif node.level == 0 and (node.module or "").split(".")[0] not in allowed:
            bad.append(node.module or "")
    for written, parts in _relative_targets(name, text, top_level_only=True):
        if _module_path(parts) is None and _module_path(parts[:-1]) is None:
            bad.append(written)
    if bad:
        raise ExportError(
            f"the student edition cannot ship rnnkit/{name}: it imports {', '.join(sorted(set(bad)))}, "
            "which students do not have (see rnnkit/export/runtime.py)"
        )


def kit_modules_used_by(sources) -> set[str]:
    """The kit modules that code (notebook cells) imports: ``rnnkit.<module>`` or ``from rnnkit import <module>``."""
    found = set()
    for source in sources:
        dotted = list(_KIT_IMPORT.findall(source))
        for names in _KIT_FROM_IMPORT.findall(source):
            dotted += [n.split(" as ")[0].strip() for n in names.strip("() ").split(",") if n.strip()]
        for name in dotted:
            parts = name.split(".")
            while parts and _module_path(parts) is None:
                parts = parts[:-1]
            if parts:
                found.add(_module_path(parts))
    return found


def closure(modules) -> set[str]:
    """``modules`` and every kit module they import when imported (packages' ``__init__`` included)."""
    todo, done = list(modules), set()
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        if name == "course.py":
            continue  # replaced by the student edition's own
        text = (_kit_dir() / name).read_text(encoding="utf-8")
        for _, parts in _relative_targets(name, text, top_level_only=True):
            path = _module_path(parts) or _module_path(parts[:-1])
            if path:
                todo.append(path)
        for package in Path(name).parents:
            if str(package) != ".":
                todo.append(f"{package}/__init__.py")
    return done


def withheld(modules) -> dict[str, str]:
    """Which of ``modules`` (with what they import) students must not get, and why."""
    return {name: WITHHELD[name] for name in sorted(closure(modules)) if name in WITHHELD}


def package_files(also=frozenset()) -> dict[str, str]:
    """Every file of the student edition, by path relative to the folder that holds ``rnnkit/``.

    ``also``: further kit modules to ship (see :func:`kit_modules_used_by`); the
    modules they import come too. Refuses a module of :data:`WITHHELD`.
    """
    kit = _kit_dir()
    names = closure(set(COPIED) | set(also)) - {"course.py", "__init__.py"}
    refused = withheld(names)
    if refused:
        raise ExportError("the student edition cannot ship " + "; ".join(f"rnnkit/{n} ({why})" for n, why in refused.items()))
    files: dict[str, str] = {"__init__.py": _INIT, "__main__.py": _MAIN, "course.py": _COURSE + inspect.getsource(Tolerance)}
    for name in sorted(names):
        files[name] = (kit / name).read_text(encoding="utf-8")
    for name, text in list(files.items()):
        _check_imports(name, text)
        for data in DATA.get(name, ()):
            files[data] = (kit / data).read_text(encoding="utf-8")
    return {f"{PACKAGE}/{name}": text for name, text in sorted(files.items())}


def write_package(folder: Path, also: set[str] | frozenset[str] = frozenset()) -> list[Path]:
    """Write the student edition under ``folder`` (as ``folder/rnnkit/...``); return the paths."""
    written = []
    for name, text in package_files(also).items():
        path = Path(folder) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
