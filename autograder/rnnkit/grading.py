"""Grade a class: find submissions, run them in the sandbox, score them against the reference.

Each task (one student's file for one part) gets hidden inputs of its own
(:mod:`.secret`): drawn from the course secret, the student id and the file's
content, unless a seed pins the same inputs for everyone (tests, benchmarks).
The inputs reach the task's worker only; the answers stay in this process.
Each task is scored as its data arrives (:mod:`.scoring`), its failed functions
are diagnosed at once (:mod:`.diagnosis`), and only words are kept: the
grader's memory does not grow with what students return.
"""
from __future__ import annotations

import sys
import threading
import traceback
from typing import Callable

from .course import Course
from .discovery import SUFFIXES, Submission, discover, read_submission_file  # noqa: F401 - where the commands look for them
from . import content
from .diagnosis import CATALOGUE, Diagnoser, Diagnosis
from .diagnosis.matching import VariantProbes
from .diagnosis.model import _close
from .cases import PROBES_PER_FUNCTION
from .diagnosis.further import explain_further
from .hidden_tests import CaseSet, HiddenTests, Probes, References  # noqa: F401 - HiddenTests: for the exports and tests
from .mutants.match import OPERATOR_NAMES, GeneratedModels, name_generated
from .results import CaseOutcome, FunctionResult, PartNotes, StudentResult  # noqa: F401 - the results' home is .results
from .sandbox.pool import Pool
from .sandbox.tasks import Task
from .scoring import TaskScorer, drop_outputs
from .secret import PRIVATE_DIR, course_secret, task_seed


# --------------------------------------------------------------------------- grading a class


def task_seconds(course: Course, functions: int) -> float:
    """The deadline of a whole task: loading (twice: once more when a function crashes), every function's
    limit, a little slack. No frame can extend it."""
    limits = course.limits
    return 2 * limits.load_seconds + functions * (limits.call_seconds + 1.0) + 2.0


class _Draws:
    """The case sets of a grading run: one per task, or shared by everyone when a seed pins them."""

    def __init__(self, course: Course, seed: int | None, references: References):
        self.course = course
        self.seed = seed
        self.references = references
        self.probes = Probes(references)
        self.secret = course_secret(course.root) if seed is None else b""
        self._pinned: dict[str, tuple[CaseSet, Diagnoser]] = {}
        self._lock = threading.Lock()
        self._generated: GeneratedModels | None = None
        #: part -> its reference code: what the error models are made from, and part of their tables' keys.
        self.sources = {p.name: content.reference_code(content.read_source(course.solutions_dir, p.name)) for p in course.parts}
        # The catalogue's variants on the probes, shared by the class and kept between runs, as the generated models' tables.
        self.variant_probes = VariantProbes(course.root / PRIVATE_DIR / "cache" / "catalogue", self.sources, course.tolerance)

    @property
    def generated(self) -> GeneratedModels:
        """The error models generated from the reference, with their outputs on the probes (built on first use)."""
        with self._lock:
            if self._generated is None:
                parts = self.course.parts
                probes, answers = {}, {}
                for part in parts:  # the ordinary probes only: the controlled ones serve localisation (diagnosis.further)
                    cases, expected = self.probes.of(part)
                    probes.update({name: c[:PROBES_PER_FUNCTION] for name, c in cases.items()})
                    answers.update({name: a[:PROBES_PER_FUNCTION] for name, a in expected.items()})
                functions = {p.name: [f.name for f in p.functions] for p in parts}
                cache = self.course.root / PRIVATE_DIR / "cache" / "generated"
                self._generated = GeneratedModels(self.sources, functions, probes, answers, self.course.tolerance, cache)
            return self._generated

    def for_task(self, student: str, part_name: str, data: bytes, filename: str = "") -> tuple[CaseSet, Diagnoser]:
        part = self.course.part(part_name)
        if self.seed is not None:
            with self._lock:
                if part_name not in self._pinned:
                    caseset = CaseSet.draw(part, self.seed, self.references, self.probes)
                    self._pinned[part_name] = (caseset, Diagnoser(self.course, caseset, self.references.all(), self.variant_probes))
                return self._pinned[part_name]
        caseset = CaseSet.draw(part, task_seed(self.secret, student, part_name, data, filename), self.references, self.probes)
        return caseset, Diagnoser(self.course, caseset, self.references.all(), self.variant_probes)


def build_tables(course: Course) -> int:
    """Build every table the diagnosis keeps in ``.rnnkit/cache/`` (the generated models' and the catalogue's
    outputs on the probes), as a course's first run does while it grades; return how many functions have them.

    Gradescope's ``setup.sh`` calls it once per image, so that no submission pays for them.
    """
    draws = _Draws(course, 0, References(course))

    def close(found, target) -> bool:
        return _close(found, target, course.tolerance)

    for part in course.parts:
        _, diagnoser = draws.for_task("", part.name, b"")
        for function in part.functions:
            draws.generated.table(part.name, function.name, close)
            diagnoser.build_probe_table(function.name)
    return len(course.functions)


def _specific(diagnosis: Diagnosis) -> bool:
    """A catalogued mistake named for itself, not a general pattern (those give way to a generated model)."""
    mistake = CATALOGUE.get(diagnosis.mistake)
    return mistake is not None and not mistake.general


def _generated_diagnosis(mutant, function: str, words: str, inherited: bool) -> Diagnosis:
    explanation = f"Your outputs are exactly those of a correct `{mutant.function}` with one change: {words}."
    if inherited:
        explanation += f" (It comes from your `{mutant.function}`.)"
    return Diagnosis(f"generated_{mutant.operator}", mutant.function, OPERATOR_NAMES.get(mutant.operator, "one small change"), explanation, "", inherited)


def _named(diagnosis: Diagnosis) -> bool:
    """A diagnosis that names a mistake (catalogued or generated), not a general pattern."""
    mistake = CATALOGUE.get(diagnosis.mistake)
    return mistake is None or not mistake.general


def _inherited(diagnosis: Diagnosis, home: str) -> Diagnosis:
    text = diagnosis.explanation if diagnosis.inherited else f"{diagnosis.explanation} (It comes from your `{home}`.)"
    return Diagnosis(diagnosis.mistake, diagnosis.function, diagnosis.name, text, diagnosis.detail, True)


def grade_class(
    submissions: list[Submission],
    course: Course,
    *,
    seed: int | None = None,
    jobs: int = 1,
    mode: str | None = None,
    on_task_done: Callable[[], None] | None = None,
    pool_words: list[str] | None = None,
    on_student_done: Callable[[StudentResult], None] | None = None,
) -> list[StudentResult]:
    """Grade every submission; ``seed=None``: hidden inputs per student (see :mod:`.secret`).

    ``pool_words``, when given, receives the sandbox's description for the summary line.
    ``on_student_done(student)`` is called once per student, as soon as all their files are graded
    (one call at a time), so their outputs can be written while the rest of the class is graded.
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
    remaining = {s.student: 0 for s in submissions}
    for task in tasks:
        remaining[task.key[0]] += 1

    def finish(student: StudentResult) -> None:
        """The student's last file is graded: put their functions in course order, and hand them on."""
        student.functions = {f.name: student.functions[f.name] for f in course.functions}
        if on_student_done is not None:
            on_student_done(student)

    ended: set[int] = set()

    def task_ended(task: Task) -> None:  # called with ``done`` held; once per task
        if id(task) in ended:
            return
        ended.add(id(task))
        remaining[task.key[0]] -= 1
        if remaining[task.key[0]] == 0:
            finish(results[task.key[0]])
        if on_task_done is not None:
            on_task_done()

    class Consumer:
        """Scores one task as it arrives; when it ends, names its mistakes and keeps the words only."""

        def __init__(self, task: Task):
            self.task = task
            self.caseset, self.diagnoser = draws.for_task(task.key[0], task.part, task.data, task.filename)
            task.inputs = self.caseset.inputs
            task.case_counts = self.caseset.case_counts
            task.caps = self.caseset.caps
            self.scorer = TaskScorer(task, course, self.caseset, results[task.key[0]].parts[task.part])

        def frame(self, header: dict, payload: bytes) -> None:
            self.scorer.frame(header, payload)

        def _close(self, found, target) -> bool:
            return _close(found, target, course.tolerance)

        def end(self, ending) -> None:
            scored = self.scorer.end(ending)
            part = course.part(self.task.part)
            try:
                self.diagnoser.diagnose_part(scored, part)
                if any(r.cases and not r.passed and not r.problem for r in scored.values()):
                    name_generated(scored, part, self.caseset, draws.generated, self._close, _specific, _generated_diagnosis, _inherited)
                    explain_further(scored, part, self.caseset, draws.probes.layout(part), draws.references[part.name], self._close, _named, _inherited)
            except Exception:  # noqa: BLE001 - naming a mistake is a courtesy: grading goes on without it
                for result in scored.values():
                    result.diagnoses, result.where = [], []
            drop_outputs(scored)
            self.task.data = self.task.inputs = b""
            with done:
                results[self.task.key[0]].functions.update(scored)
                task_ended(self.task)

    def failed(task: Task, exc: BaseException) -> None:
        traceback.print_exception(exc, file=sys.stderr)
        with done:
            student = results[task.key[0]]
            if id(task) not in ended:
                for f in course.part(task.part).functions:
                    student.functions[f.name] = FunctionResult(
                        f, problem="The grader hit an internal error while scoring this part (not your code's fault); please tell your instructor."
                    )
            task_ended(task)

    for name, count in remaining.items():
        if count == 0:  # nothing to run: graded already (missing or unreadable files)
            finish(results[name])
    with Pool(jobs, course.limits, mode=mode, hidden=[course.root]) as pool:
        if pool_words is not None:
            pool_words.append(pool.describe())
        pool.run(tasks, Consumer, failed)
    return [results[sub.student] for sub in submissions]
