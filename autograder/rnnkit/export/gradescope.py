"""Gradescope: ``rnnkit export gradescope`` builds the autograder zip; ``python -m rnnkit.export.gradescope`` grades.

The zip, as Gradescope wants it (unpacked to ``/autograder/source``):

* ``setup.sh``: run once, as root, when Gradescope builds the image: installs
  bubblewrap (the sandbox's strongest form), creates ``/autograder/venv``,
  installs ``requirements.txt`` and the kit, then makes ``/autograder/source``
  (the reference solutions) readable by root only;
* ``run_autograder``: grades ``/autograder/submission`` with the kit's sandboxed
  grader (:func:`run`) and writes ``/autograder/results/results.json``;
* ``requirements.txt``, and ``kit/``: the kit's package, ``course.yml`` and
  ``solutions/``, with a ``pyproject.toml`` of its own.

Both scripts take the root from ``AUTOGRADER_ROOT`` (default ``/autograder``).

Gradescope runs the autograder as root. Student code never runs in the grading
process: the sandbox forks it from a zygote that has never held an answer, as
an unprivileged uid of its own, inside bubblewrap when bubblewrap can create its
namespaces (only the system and the Python installation visible), and in any
case without read access to ``/autograder/source``.
"""
from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import traceback
import zipfile
from pathlib import Path

from ..course import Course
from ..secret import SECRET_FILE, course_secret
from . import ExportError

VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")

SETUP = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# Written by `rnnkit export gradescope`.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
PYTHON="${RNNKIT_PYTHON:-python3}"

# bubblewrap gives the sandbox its strongest form; the venv module may be a package of its own.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ -z "${RNNKIT_SKIP_APT:-}" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq bubblewrap python3-venv python3-pip >/dev/null
fi

"$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$SOURCE/requirements.txt"
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$SOURCE/kit"

# Student code runs under another uid: it must not read the reference solutions, the course
# secret or any module of the kit (the grader runs as root and reads them itself).
chmod -R go-rwx "$SOURCE"
chmod -R go-rwx "$("$ROOT/venv/bin/python" -c 'import os, rnnkit; print(os.path.dirname(rnnkit.__file__))')"
"$ROOT/venv/bin/python" -m rnnkit.export.gradescope --root "$ROOT" --describe-sandbox
"""

RUN = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission. Written by `rnnkit export gradescope`.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
export RNNKIT_COURSE="$ROOT/source/kit"
exec "$ROOT/venv/bin/python" -m rnnkit.export.gradescope --root "$ROOT"{seed_option} --visibility {visibility}
"""

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "rnnkit"
version = "{version}"
description = "rnnkit, as installed by a Gradescope autograder (rnnkit export gradescope)."
requires-python = ">=3.10"
dependencies = {dependencies}

[tool.setuptools.packages.find]
where = ["src"]

[tool.setuptools.package-data]
rnnkit = ["*.json", "**/*.json", "*.txt", "**/*.txt"]
"""

_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints"}
#: Folders of the kit's package the autograder never needs: the bundled example class holds
#: hostile student files (fork and memory bombs) that have no business in a course's image.
_LEFT_OUT_OF_ZIP = {"example_class"}


def dependencies(course: Course) -> list[str]:
    """The kit's runtime requirements: its pyproject.toml when it is a checkout, else its installed metadata."""
    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
    if pyproject.is_file():
        try:
            import tomllib
        except ImportError:  # Python 3.10
            tomllib = None
        if tomllib is not None:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            if data.get("project", {}).get("name") == "rnnkit":
                return list(data["project"]["dependencies"])
    from importlib.metadata import requires

    return [r for r in (requires("rnnkit") or []) if "extra ==" not in r]


def pinned(requirements: list[str]) -> list[str]:
    """Each requirement at the exact version installed here (what the kit was tested with), e.g. ``numpy==2.1.3``.

    A requirement that is not installed here keeps its range, so the zip still says what the kit needs.
    """
    import re
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for requirement in requirements:
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
        try:
            out.append(f"{name.group(0)}=={version(name.group(0))}" if name else requirement)
        except PackageNotFoundError:
            out.append(requirement)
    return out


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("rnnkit")
    except Exception:
        return "0"


def _tree(folder: Path, prefix: str, leave_out: set[str] = frozenset()) -> dict[str, Path]:
    files = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        top = Path(dirpath) == folder
        dirnames[:] = sorted(
            d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info") and not (top and d in leave_out)
        )
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = Path(dirpath) / name
            files[f"{prefix}/{path.relative_to(folder).as_posix()}"] = path
    return files


def contents(course: Course, seed: int | None, visibility: str = "visible") -> dict[str, bytes | Path]:
    """Every file of the zip: name -> bytes, or the path of a file to copy."""
    if visibility not in VISIBILITIES:
        raise ExportError(f"visibility {visibility!r}: choose one of {', '.join(VISIBILITIES)}")
    package = Path(__file__).resolve().parents[1]
    deps = pinned(dependencies(course))
    files: dict[str, bytes | Path] = {
        "setup.sh": SETUP.encode(),
        "run_autograder": RUN.format(seed_option="" if seed is None else f" --seed {int(seed)}", visibility=visibility).encode(),
        "requirements.txt": ("\n".join(deps) + "\n").encode(),
        "kit/pyproject.toml": PYPROJECT.format(version=_version(), dependencies=json.dumps(deps)).encode(),
        "kit/course.yml": course.root / "course.yml",
        # The course secret: each student's hidden inputs are drawn from it (rnnkit.secret).
        f"kit/{SECRET_FILE.as_posix()}": (course_secret(course.root).hex() + "\n").encode(),
    }
    files.update(_tree(package, "kit/src/rnnkit", leave_out=_LEFT_OUT_OF_ZIP))
    files.update(_tree(course.solutions_dir, "kit/solutions"))
    return files


def build_zip(course: Course, out_file: Path, seed: int | None = None, visibility: str = "visible") -> list[str]:
    """Write the autograder zip; return the names it holds."""
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    files = contents(course, seed, visibility)
    with zipfile.ZipFile(out_file, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, body if isinstance(body, bytes) else body.read_bytes())
    return sorted(files)


# --------------------------------------------------------------------------- grading, inside Gradescope


def find_submission(folder: Path, course: Course):
    """The submission's part files, wherever they are under ``folder`` (Gradescope keeps uploaded folders).

    Renamed copies (``rnn_forward (1).ipynb``, ``RNN_Forward.ipynb``) count, as in
    :mod:`..discovery`; among a part's files the exact name wins, then the one
    nearest the top, then the notebook. A missing part's note lists the files found.
    """
    from ..discovery import PartFile, Submission, choose, part_of

    parts = {p.name for p in course.parts}
    found: dict[str, list[tuple[int, PartFile]]] = {}
    everything: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
        depth = len(Path(dirpath).relative_to(folder).parts)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith("."):
                continue
            everything.append(str(path.relative_to(folder)))
            candidate = part_of(path, parts)
            if candidate is not None and not path.is_symlink():
                found.setdefault(candidate.part, []).append((depth, candidate))
    files, notes = {}, {}
    for part in course.parts:
        if part.name not in found:
            listed = ", ".join(f"`{name}`" for name in everything[:20]) or "none"
            notes[part.name] = [f"No `{part.name}.ipynb` or `{part.name}.py` was found. The files found: {listed}."]
            continue
        pool = [(depth, c) for depth, c in found[part.name] if c.exact] or found[part.name]
        shallowest = min(depth for depth, _ in pool)
        group = [c for depth, c in pool if depth == shallowest]
        chosen, part_notes = choose(group, relative_to=folder)
        others = [c for _, c in found[part.name] if c not in group]
        if others:
            part_notes.append("Also handed in, not graded: " + ", ".join(f"`{c.path.relative_to(folder)}`" for c in others) + ".")
        files[part.name] = chosen.path
        if part_notes:
            notes[part.name] = part_notes
    return Submission(student_id(folder.parent), folder, files, [], notes)


def student_id(root: Path) -> str:
    """Who handed in, from Gradescope's ``submission_metadata.json`` (the users' ids; group members joined).

    Each student's hidden inputs are drawn from this id: ``"submission"`` when the metadata is missing.
    """
    try:
        metadata = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
        ids = sorted(str(user.get("id") or user.get("email")) for user in metadata.get("users", []) if isinstance(user, dict))
    except (OSError, ValueError, AttributeError):
        ids = []
    return "+".join(ids) if ids else "submission"


def sandbox_words(root: Path, mode: str, course: Course | None = None) -> str:
    """What the sandbox protects in this container, in words: checked, not assumed.

    Gradescope's container differs from an instructor's machine: ``setup.sh`` has made
    ``ROOT/source`` (the reference solutions, ``course.yml`` and the course secret) and the
    installed kit readable by root only, and the grader runs as root.
    """
    import rnnkit

    from ..course import load_course
    from ..sandbox.modes import describe
    from ..worker.confine import available_layers

    def private(path: Path) -> bool:
        try:
            return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
        except OSError:
            return False

    source, kit = Path(root) / "source", Path(rnnkit.__file__).parent
    uid = 0 if os.geteuid() == 0 and mode != "none" else None
    if course is None:  # setup.sh asks before any grading: the course is the zip's own
        course = load_course(source / "kit") if (source / "kit" / "course.yml").is_file() else load_course()
    layers = available_layers(course.limits.__dict__, uid, [str(source), str(kit)])
    words = describe(mode, layers)  # "uid" is among them when the workers get a uid of their own
    if mode == "none":
        return f"{words}; student code runs as the grader's own user"
    locked = [f"{p} is readable by root only" if private(p) else f"{p} is readable by others: run setup.sh as root" for p in (source, kit)]
    return f"{words}; {'; '.join(locked)}"


def _is_skipped_bonus(result, student) -> bool:
    """A bonus function the student did not attempt: still a stub, or its part not handed in."""
    notes = student.parts.get(result.function.part)
    return result.function.bonus and (result.not_implemented or notes is None or not notes.filename)


def _extra_credit(data: dict, student, course: Course) -> None:
    """Bonus functions as Gradescope extra credit, so that every total agrees.

    A test's ``max_score`` is what the assignment's total is made of; a bonus test
    gets ``max_score`` 0 and its points as ``score``, which Gradescope adds above the
    total. So the tests' maxima add up to the course's possible points (bonus
    excluded), the top-level ``score`` is the sum of the tests' scores (bonus
    included), and the summary line says both. A bonus nobody attempted is not a
    failure: its ``status`` is ``passed`` and its output says it was optional.
    """
    results = list(student.functions.values())
    for test, result in zip(data.get("tests", []), results):
        if not result.function.bonus:
            continue
        test["max_score"] = 0
        test["score"] = result.score
        worth = f"Bonus (extra credit): up to {result.function.points:g} points above the total."
        if _is_skipped_bonus(result, student):
            test["status"] = "passed"
            test["output"] = f"{worth} Not attempted; nothing is lost."
        else:
            test["status"] = "passed" if result.passed else "failed"
            test["output"] = f"{worth}\n\n{test.get('output', '')}"
    bonus = round(sum(r.score for r in results if r.function.bonus), 2)
    total = round(sum(test["score"] for test in data.get("tests", [])), 2)
    data["score"] = total
    line = f"{total:g} / {course.possible:g} points"
    if bonus:
        line += f", {bonus:g} of them extra credit from bonus functions"
    data["output"] = line + ". Each test below is one function."


def results(student, course: Course, visibility: str, mode_words: str) -> dict:
    """Gradescope's results.json: the kit's per-function tests, with notes about the files graded."""
    from ..feedback import gradescope_results, safe_inline
    from ..outputs.safe import md_code, md_text

    data = gradescope_results(student, course)
    _extra_credit(data, student, course)
    lines = [data.get("output", "")]
    for part in course.parts:  # student text (messages, file names, errors) quoted inert, as in feedback.md
        notes = student.parts.get(part.name)
        if notes is None:
            continue
        for message in notes.messages:
            lines.append(f"- `{part.name}`: {safe_inline(message)}")
        for error in notes.cell_errors:
            lines.append(f"- {md_code(str(notes.filename))}: cell {md_text(error.get('cell'))} raised {md_code(str(error.get('summary')))}; the cells after it still ran.")
    data["output"] = "\n".join(line for line in lines if line)
    data["output_format"] = "md"
    for test in data.get("tests", []):
        test["visibility"] = visibility
    data["visibility"] = visibility
    data["stdout_visibility"] = "hidden"
    data["extra_data"] = {"rnnkit_sandbox": mode_words}
    return data


def run(root: Path, seed: int | None = None, visibility: str = "visible") -> int:
    """Grade ``root/submission`` and write ``root/results/results.json``; 0 when graded."""
    from ..course import load_course
    from ..grading import grade_class
    from ..sandbox.modes import best_mode

    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        course = load_course()
        submission = find_submission(root / "submission", course)
        mode = best_mode()
        words = sandbox_words(root, mode, course)
        print(f"rnnkit: grading {len(submission.files)} part file(s) in the {mode} sandbox: {words}")
        (student,) = grade_class([submission], course, seed=seed, jobs=os.cpu_count() or 1, mode=mode)
        data = results(student, course, visibility, words)
        if not submission.files:
            data["output"] = (
                "No notebook of the course was found in your submission: hand in "
                + ", ".join(f"`{p.name}.ipynb`" for p in course.parts)
                + " (or `.py` files of the same names).\n\n"
                + data["output"]
            )
        status = 0
    except Exception:
        traceback.print_exc()
        data = {
            "score": 0,
            "output": "The autograder could not grade this submission (an error in the grader, not in your code). Please tell your instructor.",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [],
        }
        status = 1
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"rnnkit: wrote {out} (score {data['score']:g}).")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnkit.export.gradescope", description="Grade a Gradescope submission.")
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder")))
    parser.add_argument("--seed", type=int, default=None, help="the same hidden inputs for everyone (default: per student)")
    parser.add_argument("--visibility", choices=VISIBILITIES, default="visible")
    parser.add_argument("--describe-sandbox", action="store_true", help="Say what the sandbox protects here, then exit.")
    args = parser.parse_args(argv)
    if args.describe_sandbox:
        from ..sandbox.modes import best_mode

        print("rnnkit sandbox:", sandbox_words(args.root, best_mode()))
        return 0
    return run(args.root, args.seed, args.visibility)


if __name__ == "__main__":
    sys.exit(main())
