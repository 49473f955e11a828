"""Grade a class: find submissions, run them in the sandbox, score them against the reference.

The order of work matters for secrecy: the sandbox's zygotes start (and receive
the hidden inputs) *before* the reference answers exist in this process, so no
worker can ever find an answer in memory it inherited.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import content
from .worker import calls
from .cases import DEFAULT_SEED, Case, cases_for
from .hints import hint_for
from .mistakes import diagnose_class
from .compare import Verdict, changed_arguments, compare, describe
from .course import Course, Function
from .discovery import Submission, discover, read_submission_file, SUFFIXES  # noqa: F401 (re-exported)
from .sandbox.pool import Pool, Task, TaskFrames
from .spec import RETURNS



# --------------------------------------------------------------------------- results


@dataclass
class CaseOutcome:
    about: str
    passed: bool
    message: str = ""
    #: The student's decoded result (plain arrays and numbers), when there was one.
    found: Any = field(default=None, repr=False)
    #: Largest normalised error against the reference (inf when incomparable).
    error: float = 0.0
    #: The arguments as the call left them (functions left out), when there was a result.
    args_after: Any = field(default=None, repr=False)


@dataclass
class FunctionResult:
    function: Function
    cases: list[CaseOutcome] = field(default_factory=list)
    #: Why the function could not be tested at all (missing, not implemented, file unreadable...).
    problem: str = ""
    not_implemented: bool = False
    #: Known mistakes recognised in the outputs (:class:`rnnkit.mistakes.Diagnosis`), filled after scoring.
    diagnoses: list = field(default_factory=list)

    @property
    def passed_cases(self) -> int:
        return sum(c.passed for c in self.cases)

    @property
    def score(self) -> float:
        if self.problem or not self.cases:
            return 0.0
        return round(self.function.points * self.passed_cases / len(self.cases), 2)

    @property
    def passed(self) -> bool:
        return not self.problem and bool(self.cases) and self.passed_cases == len(self.cases)

    @property
    def hint(self) -> str:
        return hint_for(self.function.name)


@dataclass
class PartNotes:
    """What happened while a part's file was loaded."""

    filename: str | None = None
    cell_errors: list[dict] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


@dataclass
class StudentResult:
    student: str
    functions: dict[str, FunctionResult]
    parts: dict[str, PartNotes]
    ignored_files: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(r.score for r in self.functions.values()), 2)


# --------------------------------------------------------------------------- the hidden tests


@dataclass
class HiddenTests:
    """The hidden cases of every function, and (once computed) the reference answers."""

    cases: dict[str, list[Case]]
    expected: dict[str, list[Any]] = field(default_factory=dict)
    #: part -> the reference module (loaded by :meth:`compute_answers`).
    references: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def draw(cls, course: Course, seed: int) -> "HiddenTests":
        return cls({f.name: cases_for(f.name, seed) for f in course.functions})

    def inputs(self) -> dict[str, list[tuple]]:
        """What the sandbox receives: the arguments only."""
        return {name: [case.args for case in cases] for name, cases in self.cases.items()}

    def compute_answers(self, course: Course) -> None:
        for part in course.parts:
            reference = self.references[part.name] = content.load_reference(course.solutions_dir, part.name)
            for function in part.functions:
                fn = getattr(reference, function.name)
                self.expected[function.name] = [fn(*calls.copy_value(case.call_args())) for case in self.cases[function.name]]


# --------------------------------------------------------------------------- scoring a task


class _FunctionTally:
    def __init__(self, function: Function, cases: list[Case]):
        self.result = FunctionResult(function)
        self.cases = cases
        self.outcomes: dict[int, CaseOutcome] = {}
        self.ended: str | None = None


def score_task(frames: TaskFrames, course: Course, hidden: HiddenTests, parts: dict[str, PartNotes]) -> dict[str, FunctionResult]:
    """Turn one task's frames into a result per function of its part."""
    part = course.part(frames.task.part)
    notes = parts.setdefault(part.name, PartNotes(frames.task.filename))
    tallies = {f.name: _FunctionTally(f, hidden.cases[f.name]) for f in part.functions}
    defined: set[str] | None = None
    load_problem = ""
    last_cell = None
    limits = course.limits

    for header, payload in frames.frames:
        event = header.get("event")
        if event == "cell":
            last_cell = header.get("cell")
        elif event == "load_failed":
            load_problem = str(header.get("message", "the file could not be read"))
        elif event == "worker_error":
            load_problem = "The grader could not run your file (an internal error); please tell your instructor."
        elif event == "loaded":
            defined = set(header.get("defined", []))
            notes.cell_errors = [e for e in header.get("errors", []) if isinstance(e, dict)]
        elif event == "case":
            tally = tallies.get(header.get("function"))
            if tally is None or not isinstance(header.get("case"), int) or not 0 <= header["case"] < len(tally.cases):
                continue
            tally.outcomes[header["case"]] = _case_outcome(header, payload, tally, hidden, course)
            if header.get("kind") == "not_implemented":
                tally.result.not_implemented = True
        elif event == "function_end":
            tally = tallies.get(header.get("function"))
            if tally is not None:
                tally.ended = _end_words(header, limits)
        elif event == "done":
            worker = header.get("worker", {})
            if worker.get("status") == "timeout" and defined is None:
                where = f" (cell {last_cell} was running)" if last_cell else ""
                load_problem = f"Your file took longer than {limits.load_seconds:g} s to run{where}, so its functions could not be tested. Look for a loop that never ends, or heavy work at the top level."
            elif worker.get("status") == "killed" and defined is None:
                where = f" in cell {last_cell}" if last_cell else ""
                load_problem = f"Your file stopped the Python process{where} ({worker.get('signal')}): nothing could be tested. Look for os._exit, os.kill or very large allocations at the top level."
            elif worker.get("status") == "exited" and defined is None and not load_problem:
                where = f" in cell {last_cell}" if last_cell else ""
                load_problem = f"Your file ended the Python process{where} (exit code {worker.get('code')}) before its functions could be tested. Remove os._exit(...) from your file."
            elif worker.get("status") == "garbled":
                notes.messages.append("Your code wrote into the grader's result channel; grading of this part stopped there.")
            if header.get("output_bytes", 0) > limits.output_kb * 1024:
                notes.messages.append(f"Your code printed more than {limits.output_kb} KB; printing is not needed for grading and was cut off.")

    if frames.lost and not load_problem and defined is None:
        load_problem = "The grader lost contact with the process running your file (it may have been killed by your code)."

    results = {}
    for name, tally in tallies.items():
        result = tally.result
        if load_problem:
            result.problem = load_problem
        elif defined is not None and name not in defined:
            result.problem = f"There is no function `{name}` in {frames.task.filename}."
            if notes.cell_errors:
                result.problem += " A cell raised an error (see above); maybe the cell that defines it is the one that failed."
        elif defined is None:
            result.problem = "Your file could not be run to the end, so this function was not tested."
        elif result.not_implemented and all(
            tally.outcomes.get(i) is not None and tally.outcomes[i].message.startswith("your function raised NotImplementedError")
            for i in range(len(tally.cases))
        ):
            result.problem = "Not implemented yet: the stub still raises NotImplementedError."
        else:
            result.not_implemented = False  # raised NotImplementedError for some cases only: graded case by case
            missing_reason = tally.ended if tally.ended and "normally" not in tally.ended else (
                "the grader lost contact with your code" if frames.lost else "your code stopped before this case finished"
            )
            for i, case in enumerate(tally.cases):
                result.cases.append(tally.outcomes.get(i) or CaseOutcome(case.about, False, missing_reason))
        results[name] = result
    return results


def _case_outcome(header: dict, payload: bytes, tally: _FunctionTally, hidden: HiddenTests, course: Course) -> CaseOutcome:
    number = header["case"]
    case = tally.cases[number]
    if not header.get("ok"):
        kind = header.get("kind")
        error = str(header.get("error", ""))[:500]
        if kind == "memory":
            message = f"your function ran out of memory (the limit is {course.limits.memory_mb} MB): {error}"
        elif kind == "unsendable":
            expected = hidden.expected[tally.result.function.name][number]
            message = f"expected {describe(expected)}, but {error}; return numpy arrays, numbers, tuples and dicts as the docstring says"
        else:
            message = f"your function raised {error}"
            if "[Errno 27]" in error:
                message += f" (your code printed or wrote more than {course.limits.file_size_mb} MB)"
        trace = str(header.get("traceback", ""))[:3000]
        return CaseOutcome(case.about, False, message + (f"\n\n```\n{trace}\n```" if trace else ""))
    try:
        sent = calls.from_bytes(payload, rebuild_probes=False)
        if not isinstance(sent, dict) or "result" not in sent or not isinstance(sent.get("args_after"), tuple):
            raise calls.EncodingError("malformed value")
    except calls.EncodingError as exc:
        return CaseOutcome(case.about, False, f"the result could not be read ({exc})")
    expected = hidden.expected[tally.result.function.name][number]
    verdict: Verdict = compare(sent["result"], expected, course.tolerance, case.dims, item_names=RETURNS.get(case.function, ()))
    changed = changed_arguments(case.function, case.args, sent["args_after"])
    messages = []
    if not verdict.passed:
        messages.append(verdict.message)
    if changed:
        messages.append(f"your function changed its argument {', '.join(changed)}; work on a copy (e.g. `x = x.copy()`, or build new arrays)")
    return CaseOutcome(case.about, not messages, " ".join(messages), found=sent["result"], error=verdict.error, args_after=sent["args_after"])


def _end_words(header: dict, limits) -> str:
    status = header.get("status")
    if status == "timeout":
        return f"your function did not finish within {limits.call_seconds:g} s (a loop that never ends, or very slow or memory-hungry code?)"
    if status == "killed":
        signal_name = header.get("signal")
        if signal_name == "SIGXCPU":
            return f"your function used more than {limits.call_seconds:g} s of CPU time"
        return f"the process running your function was killed ({signal_name}); a memory or process limit may have been hit"
    if status == "exited" and header.get("code", 0) != 0:
        return f"your function ended the Python process (exit code {header.get('code')}): remove os._exit(...)"
    if status == "exited":
        return "your function ended the Python process before this case finished (os._exit?)"
    return "normally"


# --------------------------------------------------------------------------- grading a class


def grade_class(
    submissions: list[Submission],
    course: Course,
    *,
    seed: int = DEFAULT_SEED,
    jobs: int = 1,
    mode: str | None = None,
    on_task_done: Callable[[], None] | None = None,
) -> list[StudentResult]:
    hidden = HiddenTests.draw(course, seed)
    tasks: list[Task] = []
    results = {
        s.student: StudentResult(s.student, {}, {}, s.ignored)
        for s in submissions
    }
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
            tasks.append(Task((sub.student, part.name), part.name, path.name, data, [f.name for f in part.functions]))

    # The zygotes start, and get the inputs, before any answer exists in this process.
    with Pool(jobs, course.limits, hidden.inputs(), mode=mode) as pool:
        hidden.compute_answers(course)

        def score(frames: TaskFrames) -> None:
            # Called as each task ends (one at a time), so scoring overlaps the sandboxes' work.
            student = results[frames.task.key[0]]
            scored = score_task(frames, course, hidden, student.parts)
            for result in scored.values():
                if result.passed:  # only functions that lost credit are diagnosed: keep no outputs for the rest
                    for case in result.cases:
                        case.found = case.args_after = None
            student.functions.update(scored)
            if on_task_done is not None:
                on_task_done()

        pool.run(tasks, on_done=score)

    # What each failed function's outputs say about the mistake made.
    diagnose_class(results.values(), course, hidden, hidden.references)

    ordered = []
    for sub in submissions:
        student = results[sub.student]
        student.functions = {f.name: student.functions[f.name] for f in course.functions}
        ordered.append(student)
    return ordered
