"""The course description: ``course.yml`` loaded, validated and typed.

``course.yml`` is the one place that says which parts and functions are graded,
for how many points, how answers are compared and what limits student code
runs under. Everything else reads it through :func:`load_course`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

import yaml

from . import lean_imports
from .spec import SPEC_FUNCTIONS


# Imported with this module, before ``nbformat`` (which imports jsonschema too) can be.
jsonschema = lean_imports.jsonschema()


class CourseError(ValueError):
    """A course file that cannot be used, with a message that says why."""


@dataclass(frozen=True)
class Function:
    name: str
    part: str
    points: float
    bonus: bool = False


@dataclass(frozen=True)
class Part:
    name: str
    title: str
    functions: tuple[Function, ...]


@dataclass(frozen=True)
class Extra:
    """An ungraded notebook generated beside the parts (``solutions/<name>.py``)."""

    name: str
    title: str


@dataclass(frozen=True)
class Tolerance:
    """An entry passes when |found - expected| <= rtol*|expected| + atol*max(1, max|expected|)."""

    rtol: float
    atol: float


@dataclass(frozen=True)
class Limits:
    load_seconds: float
    call_seconds: float
    memory_mb: int
    processes: int
    file_size_mb: int
    output_kb: int
    submission_kb: int


@dataclass(frozen=True)
class Course:
    title: str
    parts: tuple[Part, ...]
    tolerance: Tolerance
    limits: Limits
    root: Path
    #: Ungraded notebooks (the capstone): built with the parts, never graded.
    extras: tuple[Extra, ...] = ()
    #: The similarity report's settings (``similarity:`` in course.yml; see :mod:`rnnkit.similarity`).
    similarity: dict = field(default_factory=dict)

    @cached_property
    def functions(self) -> tuple[Function, ...]:
        """Every graded function, in course order."""
        return tuple(f for part in self.parts for f in part.functions)

    def part(self, name: str) -> Part:
        for part in self.parts:
            if part.name == name:
                return part
        raise KeyError(f"no part named {name!r}; the parts are {', '.join(p.name for p in self.parts)}")

    @property
    def possible(self) -> float:
        """Points available without the bonus functions."""
        return sum(f.points for f in self.functions if not f.bonus)

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def assignments_dir(self) -> Path:
        return self.root / "assignments"


def find_root(start: Path | None = None) -> Path:
    """The course root: $RNNKIT_COURSE, else the nearest folder holding course.yml.

    Looks upward from ``start`` (default: the current directory), then beside
    this package (an editable install inside the kit's own checkout).
    """
    if os.environ.get("RNNKIT_COURSE"):
        return Path(os.environ["RNNKIT_COURSE"]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "course.yml").is_file():
            return folder
    beside_package = Path(__file__).resolve().parents[2]
    if (beside_package / "course.yml").is_file():
        return beside_package
    raise CourseError(
        f"no course.yml in {here} or any folder above it; run rnnkit from inside the kit, "
        "or set RNNKIT_COURSE to the folder that holds course.yml"
    )


def _schema() -> dict:
    return json.loads(resources.files(__package__).joinpath("course_schema.json").read_text())


def _where(error) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".") or "the top level"


def _expected(schema: dict) -> str:
    """What a schema accepts, in words: its ``description``, else those of its alternatives, else its type."""
    if schema.get("description"):
        return schema["description"]
    alternatives = schema.get("oneOf") or schema.get("anyOf") or []
    words = [_expected(s) for s in alternatives if isinstance(s, dict)]
    if words and all(words):
        return " or ".join(words)
    return f"a value of type {schema['type']}" if "type" in schema else ""


def _explain(error) -> str:
    """One schema error in words: for a failed choice (oneOf/anyOf), what was expected and what was found."""
    if error.validator in ("oneOf", "anyOf"):
        expected = _expected(error.schema)
        if expected:
            return f"expected {expected}; found {error.instance!r}. Fix the value in course.yml, then run `rnnkit validate`."
    return error.message


def parse_course(data: object, root: Path) -> Course:
    """Validate the loaded YAML of a course file and build a :class:`Course`."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"  - at {_where(e)}: {_explain(e)}" for e in errors[:10]]
        raise CourseError("course.yml does not match its schema:\n" + "\n".join(lines))
    assert isinstance(data, dict)

    names = [p["name"] for p in data["parts"]]
    unknown = [n for n in names if n not in SPEC_FUNCTIONS]
    if unknown:
        raise CourseError(f"course.yml: unknown part(s) {', '.join(unknown)}; the parts are {', '.join(SPEC_FUNCTIONS)}")
    missing = [n for n in SPEC_FUNCTIONS if n not in names]
    if missing:
        raise CourseError(f"course.yml: missing part(s) {', '.join(missing)}; every part of the student API must be listed")
    if len(set(names)) != len(names):
        raise CourseError("course.yml: a part is listed twice")

    parts = []
    for entry in data["parts"]:
        spec = SPEC_FUNCTIONS[entry["name"]]
        listed = list(entry["functions"])
        bad = [f for f in listed if f not in spec]
        if bad:
            raise CourseError(
                f"course.yml: part {entry['name']} has unknown function(s) {', '.join(bad)}; "
                f"its functions are {', '.join(spec)}"
            )
        absent = [f for f in spec if f not in listed]
        if absent:
            raise CourseError(f"course.yml: part {entry['name']} does not list {', '.join(absent)}")
        functions = []
        for fname in spec:  # course order is the spec's order
            value = entry["functions"][fname]
            points, bonus = (value, False) if not isinstance(value, dict) else (value["points"], value.get("bonus", False))
            functions.append(Function(fname, entry["name"], float(points), bool(bonus)))
        parts.append(Part(entry["name"], entry["title"], tuple(functions)))

    extras = tuple(Extra(e["name"], e["title"]) for e in data.get("extras", []))
    extra_names = [e.name for e in extras]
    clash = sorted(set(extra_names) & set(names))
    if clash:
        raise CourseError(f"course.yml: {', '.join(clash)} is both a part and an extra; an extra is an ungraded notebook with a name of its own")
    if len(set(extra_names)) != len(extra_names):
        raise CourseError("course.yml: an extra is listed twice")

    return Course(
        title=data["title"],
        parts=tuple(parts),
        tolerance=Tolerance(**data["tolerance"]),
        limits=Limits(**data["limits"]),
        root=root,
        extras=extras,
        similarity=dict(data.get("similarity") or {}),
    )


def load_course(root: Path | None = None) -> Course:
    """Read and validate ``course.yml`` of the course at ``root`` (default: :func:`find_root`)."""
    root = Path(root) if root is not None else find_root()
    path = root / "course.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError(f"no course file at {path}") from None
    except yaml.YAMLError as exc:
        raise CourseError(f"{path} is not valid YAML: {exc}") from None
    return parse_course(data, root)
