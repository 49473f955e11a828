"""Shared fixtures: the course, its references, and grading a class made of strings."""
from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.content import load_reference
from rnnkit.course import Course, load_course
from rnnkit.grading import StudentResult, discover, grade_class

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(ROOT)


@pytest.fixture(scope="session")
def references(course):
    return {part.name: load_reference(course.solutions_dir, part.name) for part in course.parts}


def make_class(folder: Path, students: dict[str, dict[str, str | bytes]]) -> Path:
    """Write ``{student: {filename: text or bytes}}`` under ``folder``."""
    for student, files in students.items():
        (folder / student).mkdir(parents=True, exist_ok=True)
        for name, body in files.items():
            path = folder / student / name
            if isinstance(body, bytes):
                path.write_bytes(body)
            else:
                path.write_text(body, encoding="utf-8")
    return folder


@pytest.fixture
def grade(course, tmp_path):
    """grade({student: {filename: body}}, **options) -> {student: StudentResult}"""

    def run(students: dict[str, dict[str, str | bytes]], **options) -> dict[str, StudentResult]:
        class_dir = make_class(tmp_path / "class", students)
        options.setdefault("jobs", 2)
        results = grade_class(discover(class_dir, course), course, **options)
        return {r.student: r for r in results}

    return run


def reference_source(course: Course, part: str) -> str:
    return (course.solutions_dir / f"{part}.py").read_text(encoding="utf-8")
