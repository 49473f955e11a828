"""``rnnkit export gradescope``: the autograder zip, as Gradescope wants it (unpacked to ``/autograder/source``).

* ``setup.sh``: run once, as root, when Gradescope builds the image: installs
  bubblewrap (the sandbox's strongest form), creates ``/autograder/venv``,
  installs ``requirements.txt`` and the kit, builds the diagnosis's tables, then
  makes ``/autograder/source`` (the reference solutions) readable by root only;
* ``run_autograder``: grades ``/autograder/submission`` with the kit's sandboxed
  grader (:func:`rnnkit.export.gradescope.run`) and writes ``/autograder/results/results.json``;
* ``requirements.txt`` (pinned to the versions installed here), and ``kit/``: the kit's
  package, ``course.yml``, ``solutions/`` and the course secret, with a ``pyproject.toml`` of its own.

Both scripts take the root from ``AUTOGRADER_ROOT`` (default ``/autograder``).
"""
from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

from ..course import Course
from ..secret import SECRET_FILE, course_secret
from . import ExportError
from .gradescope import VISIBILITIES

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

# The diagnosis's tables (every function's error models on the probes), built once for the image
# so that no submission pays for them; each submission's container starts from this image.
RNNKIT_COURSE="$SOURCE/kit" "$ROOT/venv/bin/python" -m rnnkit.export.gradescope --root "$ROOT" --build-tables

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
