"""The output folder's memory: ``OUT/manifest.json`` and ``OUT/students/<id>/grade.json``.

``manifest.json`` says which run wrote the folder and whether it finished::

    {"kit": "rnnkit", "version": "0.1.0", "course": "...", "seed": "per-student" | 1234,
     "fingerprint": "<sha256 of the kit version, course.yml and the seed mode>",
     "started": "...Z", "finished": "...Z" | null, "complete": true | false,
     "run": {"pid": 123, "host": "..."}, "students": ["ann", ...],
     "refused": [{"name": "a\\x07b", "reason": "..."}]}

``grade.json``, one per student, written *after* that student's ``feedback.md``
and ``results.json``, is the record a later run trusts instead of re-grading:
the submission's content digest, the fingerprint, the points and status per
function, the mistakes recognised, and the sha256 of the two feedback files (so
a student whose files were cut short by a killed run is re-graded).
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from ..course import Course, Function
from ..diagnosis import Diagnosis
from .files import now, write_atomic

MANIFEST = "manifest.json"
STUDENTS = "students"
RECORD = "grade.json"
FEEDBACK_FILES = ("feedback.md", "results.json")


def kit_version() -> str:
    try:
        from importlib.metadata import version

        return version("rnnkit")
    except Exception:  # not installed: running from the source tree
        return "unknown"


def seed_mode(seed: int | None | str) -> str | int:
    """What the manifest says about the hidden inputs: ``"per-student"`` or the pinned seed."""
    if isinstance(seed, str):
        return seed
    return "per-student" if seed is None else int(seed)


def fingerprint(course: Course, seed: int | None) -> str:
    """Changes whenever a kept grade could differ: another kit version, course.yml or seed mode."""
    h = hashlib.sha256()
    h.update(kit_version().encode())
    course_file = Path(course.root) / "course.yml"
    h.update(course_file.read_bytes() if course_file.is_file() else course.title.encode())
    h.update(str(seed_mode(seed)).encode())
    return h.hexdigest()


def submission_digest(submission) -> str:
    """sha256 over the sorted part files' names and bytes, and the names of the files ignored beside them."""
    h = hashlib.sha256()
    for part in sorted(submission.files):
        path = Path(submission.files[part])
        h.update(f"\0part\0{part}\0{path.name}\0".encode("utf-8", "surrogateescape"))
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        except OSError as exc:
            h.update(f"\0unreadable\0{exc.errno}".encode())
    for name in sorted(submission.ignored):
        h.update(f"\0ignored\0{name}".encode("utf-8", "surrogateescape"))
    h.update(json.dumps(submission.notes, sort_keys=True, default=str).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def student_folder(out_dir: Path, student: str) -> Path:
    """``OUT/students/<id>``: the id is the folder name as it is (it is already a valid file name)."""
    return Path(out_dir) / STUDENTS / student


# --------------------------------------------------------------------------- the manifest


def read_manifest(out_dir: Path) -> dict | None:
    """The manifest of ``out_dir``, or None when there is none or it cannot be read."""
    try:
        data = json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_manifest(out_dir: Path, course: Course, seed: int | None, *, started: str, complete: bool,
                   students: list[str], refused: list[dict]) -> Path:
    """Write ``OUT/manifest.json`` atomically (see the module's docstring for its fields)."""
    data = {
        "kit": "rnnkit",
        "version": kit_version(),
        "course": course.title,
        "seed": seed_mode(seed),
        "fingerprint": fingerprint(course, seed),
        "started": started,
        "finished": now() if complete else None,
        "complete": complete,
        "run": {"pid": os.getpid(), "host": socket.gethostname()},
        "students": students,
        "refused": refused,
    }
    return write_atomic(Path(out_dir) / MANIFEST, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------- per-student records


@dataclass
class StoredFunction:
    """What the class files need of one function's result: points, status, mistakes."""

    function: Function
    score: float
    passed: bool
    diagnoses: list = field(default_factory=list)


@dataclass
class StoredStudent:
    """A student as ``grade.json`` remembers them; reads like a :class:`~rnnkit.grading.StudentResult` for the class files."""

    student: str
    functions: dict[str, StoredFunction]
    total: float


def record_of(student, digest: str, finger: str, files: dict[str, str]) -> dict:
    """The ``grade.json`` of a freshly graded student (``files``: name -> sha256 of what was just written)."""
    return {
        "student": student.student,
        "digest": digest,
        "fingerprint": finger,
        "total": student.total,
        "functions": {
            name: {
                "score": r.score,
                "passed": r.passed,
                "mistakes": [
                    {"mistake": d.mistake, "function": d.function, "name": d.name, "explanation": d.explanation,
                     "detail": d.detail, "inherited": d.inherited}
                    for d in r.diagnoses
                ],
            }
            for name, r in student.functions.items()
        },
        "files": files,
    }


def load_kept(out_dir: Path, student: str, digest: str, finger: str, course: Course) -> StoredStudent | None:
    """The stored grade of ``student`` if it can be kept: same content, same fingerprint, files whole; else None."""
    folder = student_folder(out_dir, student)
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        if record.get("student") != student or record.get("digest") != digest or record.get("fingerprint") != finger:
            return None
        for name in FEEDBACK_FILES:
            if sha256_file(folder / name) != record["files"][name]:
                return None
        functions = {}
        for fn in course.functions:
            saved = record["functions"][fn.name]
            diagnoses = [Diagnosis(**m) for m in saved.get("mistakes", [])]
            functions[fn.name] = StoredFunction(fn, float(saved["score"]), bool(saved["passed"]), diagnoses)
        return StoredStudent(student, functions, float(record["total"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
