"""Grade a class: find submissions, run them in the sandbox, score them against the reference.

Each task (one student's file for one part) gets hidden inputs of its own
(:mod:`.secret`): drawn from the course secret, the student id and the file's
content, unless a seed pins the same inputs for everyone (tests, benchmarks).
The inputs reach the task's worker only; the answers stay in this process.
Each task is scored as its data arrives (:mod:`.scoring`), its failed functions
are diagnosed at once (:mod:`.mistakes`), and only words are kept: the
grader's memory does not grow with what students return.
"""
from __future__ import annotations

import os
import stat
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .course import Course
from .hidden_tests import CaseSet, HiddenTests, References  # noqa: F401 - HiddenTests: for the exports and tests
from .mistakes import Diagnoser
from .results import CaseOutcome, FunctionResult, PartNotes, StudentResult  # noqa: F401 - the results' home is .results
from .sandbox.pool import Pool, Task
from .scoring import TaskScorer, drop_outputs
from .secret import course_secret, task_seed

SUFFIXES = (".ipynb", ".py")


# --------------------------------------------------------------------------- finding submissions


@dataclass
class Submission:
    student: str
    folder: Path
    files: dict[str, Path]  # part -> file
    ignored: list[str]
    notes: dict[str, list[str]]  # part -> messages about the choice of file


def _is_part_file(path: Path, parts: set[str]) -> bool:
    return path.suffix in SUFFIXES and path.stem in parts


def discover(class_dir: Path, course: Course) -> list[Submission]:
    """One :class:`Submission` per student folder (or the folder itself, if it holds part files)."""
    class_dir = Path(class_dir)
    if not class_dir.is_dir():
        raise FileNotFoundError(f"{class_dir} is not a folder")
    parts = {p.name for p in course.parts}
    if any(_is_part_file(p, parts) for p in class_dir.iterdir()):
        return [_submission(class_dir.resolve().name, class_dir, course)]
    folders = sorted(p for p in class_dir.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    return [_submission(folder.name, folder, course) for folder in folders]


def _submission(student: str, folder: Path, course: Course) -> Submission:
    files: dict[str, Path] = {}
    notes: dict[str, list[str]] = {}
    ignored = []
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        note = f"The folder {folder.name} could not be read ({exc.strerror}); ask your instructor to check its permissions."
        return Submission(student, folder, {}, [], {part.name: [note] for part in course.parts})
    for part in course.parts:
        candidates = [folder / f"{part.name}{suffix}" for suffix in SUFFIXES if (folder / f"{part.name}{suffix}").exists()]
        if candidates:
            files[part.name] = candidates[0]
            if len(candidates) > 1:
                notes.setdefault(part.name, []).append(
                    f"Both {candidates[0].name} and {candidates[1].name} were handed in; {candidates[0].name} was graded."
                )
    chosen = set(files.values())
    for entry in entries:
        if entry not in chosen and not entry.name.startswith("."):
            ignored.append(entry.name)
    return Submission(student, folder, files, ignored, notes)


def read_submission_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file, refusing symlinks (a link could point at the reference)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"{path.name} is {info.st_size // 1024} KB, more than the {max_bytes // 1024} KB allowed")
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(max_bytes + 1)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- grading a class


def task_seconds(course: Course, functions: int) -> float:
    """The deadline of a whole task: loading, every function's limit, a little slack. No frame can extend it."""
    limits = course.limits
    return limits.load_seconds + functions * (limits.call_seconds + 1.0) + 2.0


class _Draws:
    """The case sets of a grading run: one per task, or shared by everyone when a seed pins them."""

    def __init__(self, course: Course, seed: int | None, references: References):
        self.course = course
        self.seed = seed
        self.references = references
        self.secret = course_secret(course.root) if seed is None else b""
        self._pinned: dict[str, tuple[CaseSet, Diagnoser]] = {}
        self._lock = threading.Lock()

    def for_task(self, student: str, part_name: str, data: bytes) -> tuple[CaseSet, Diagnoser]:
        part = self.course.part(part_name)
        if self.seed is not None:
            with self._lock:
                if part_name not in self._pinned:
                    caseset = CaseSet.draw(part, self.seed, self.references)
                    self._pinned[part_name] = (caseset, Diagnoser(self.course, caseset, self.references.all()))
                return self._pinned[part_name]
        caseset = CaseSet.draw(part, task_seed(self.secret, student, part_name, data), self.references)
        return caseset, Diagnoser(self.course, caseset, self.references.all())


def grade_class(
    submissions: list[Submission],
    course: Course,
    *,
    seed: int | None = None,
    jobs: int = 1,
    mode: str | None = None,
    on_task_done: Callable[[], None] | None = None,
    pool_words: list[str] | None = None,
) -> list[StudentResult]:
    """Grade every submission; ``seed=None``: hidden inputs per student (see :mod:`.secret`).

    ``pool_words``, when given, receives the sandbox's description for the summary line.
    """
    results = {s.student: StudentResult(s.student, {}, {}, s.ignored) for s in submissions}
    tasks: list[Task] = []
    for sub in submissions:
        student = results[sub.student]
        for part in course.parts:
            notes = student.parts.setdefault(part.name, PartNotes())
            notes.messages.extend(sub.notes.get(part.name, []))
            path = sub.files.get(part.name)
            if path is None:
                for f in part.functions:
                    student.functions[f.name] = FunctionResult(f, problem=f"No {part.name}.ipynb or {part.name}.py was handed in.")
                continue
            notes.filename = path.name
            try:
                data = read_submission_file(path, course.limits.submission_kb * 1024)
            except (OSError, ValueError) as exc:
                reason = str(exc) if isinstance(exc, ValueError) else f"{path.name} could not be read ({exc.strerror})"
                for f in part.functions:
                    student.functions[f.name] = FunctionResult(f, problem=f"{reason}; it was not graded.")
                continue
            functions = [f.name for f in part.functions]
            tasks.append(Task((sub.student, part.name), part.name, path.name, data, functions, seconds=task_seconds(course, len(functions))))

    references = References(course)
    draws = _Draws(course, seed, references)
    done = threading.Lock()

    class Consumer:
        """Scores one task as it arrives; when it ends, names its mistakes and keeps the words only."""

        def __init__(self, task: Task):
            self.task = task
            self.caseset, self.diagnoser = draws.for_task(task.key[0], task.part, task.data)
            task.inputs = self.caseset.inputs()
            task.case_counts = self.caseset.case_counts()
            task.caps = self.caseset.caps()
            self.scorer = TaskScorer(task, course, self.caseset, results[task.key[0]].parts[task.part])

        def frame(self, header: dict, payload: bytes) -> None:
            self.scorer.frame(header, payload)

        def end(self, ending) -> None:
            scored = self.scorer.end(ending)
            try:
                self.diagnoser.diagnose_part(scored, course.part(self.task.part))
            except Exception:  # noqa: BLE001 - naming a mistake is a courtesy: grading goes on without it
                for result in scored.values():
                    result.diagnoses = []
            drop_outputs(scored)
            self.task.data = self.task.inputs = b""
            with done:
                results[self.task.key[0]].functions.update(scored)
                if on_task_done is not None:
                    on_task_done()

    def failed(task: Task, exc: BaseException) -> None:
        traceback.print_exception(exc, file=sys.stderr)
        student = results[task.key[0]]
        for f in course.part(task.part).functions:
            student.functions[f.name] = FunctionResult(
                f, problem="The grader hit an internal error while scoring this part (not your code's fault); please tell your instructor."
            )
        if on_task_done is not None:
            on_task_done()

    with Pool(jobs, course.limits, mode=mode, hidden=[course.root]) as pool:
        if pool_words is not None:
            pool_words.append(pool.describe())
        pool.run(tasks, Consumer, failed)

    ordered = []
    for sub in submissions:
        student = results[sub.student]
        student.functions = {f.name: student.functions[f.name] for f in course.functions}
        ordered.append(student)
    return ordered
