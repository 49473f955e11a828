"""Scoring one task as its data arrives: checked frames in, a result per function out.

A :class:`TaskScorer` is the consumer of one task's data frames
(:mod:`rnnkit.sandbox.zygotes`). Each case's result is decoded (with a size cap
derived from the expected answer) and compared the moment it arrives; the
outputs are kept until the task ends (for the diagnosis of the functions that
lost credit) and dropped once their mistakes are named. How the task ended comes from the trusted side only
(:class:`~rnnkit.sandbox.tasks.TaskEnd`): a worker's frames can say nothing about
any other task, and nothing about deadlines.
"""
from __future__ import annotations

import re
from typing import Any

from .compare import PASS, Verdict, agrees, changed_arguments, compare, describe, length_names
from .course import Course, Function, Limits
from .exception_hints import EXPLAINED, RAISED, hint_for
from .results import CaseOutcome, FunctionResult, PartNotes
from .hidden_tests import CaseSet
from .sandbox.tasks import Task, TaskEnd
from .spec import ARGUMENTS, RETURNS
from .worker import calls


class _FunctionTally:
    def __init__(self, function: Function, count: int):
        self.result = FunctionResult(function)
        self.count = count  # scored cases; the probes come after them
        self.outcomes: dict[int, CaseOutcome] = {}
        self.probes: dict[int, Any] = {}
        self.ended: str | None = None


class TaskScorer:
    """Turns one task's frames into a :class:`FunctionResult` per function of its part."""

    def __init__(self, task: Task, course: Course, caseset: CaseSet, notes: PartNotes):
        self.task = task
        self.course = course
        self.caseset = caseset
        self.notes = notes
        self.tallies = {f.name: _FunctionTally(f, len(caseset.cases[f.name])) for f in caseset.part.functions}
        self.defined: set[str] | None = None
        self.load_problem = ""
        self.last_cell: int | None = None
        self.results: dict[str, FunctionResult] | None = None

    # ----------------------------------------------------------------- frames

    def frame(self, header: dict, payload: bytes) -> None:
        event = header["event"]
        if event == "cell":
            self.last_cell = header["cell"]
        elif event == "load_failed":
            self.load_problem = header["message"]
        elif event == "worker_error":
            self.load_problem = "The grader could not run your file (an internal error); please tell your instructor."
        elif event == "loaded":
            self.defined = set(header["defined"])
            self.notes.cell_errors = list(header["errors"])
        elif event == "case":
            tally = self.tallies[header["function"]]
            if header["case"] >= tally.count:
                self._probe(header, payload, tally)
                return
            tally.outcomes[header["case"]] = self._case_outcome(header, payload, tally)
            if header.get("kind") == "not_implemented":
                tally.result.not_implemented = True
        elif event == "function_end":
            self.tallies[header["function"]].ended = end_words(header, self.course.limits)

    def _probe(self, header: dict, payload: bytes, tally: _FunctionTally) -> None:
        """Keep a probe's output, for the diagnosis, only when the function has lost credit (never scored)."""
        if all(o.passed for o in tally.outcomes.values()) and len(tally.outcomes) == tally.count:
            return
        value = None
        if header["ok"] and not header.get("aliases"):
            try:
                sent = calls.from_bytes(payload, max_bytes=self.task.caps.get(tally.result.function.name, 0), rebuild_probes=False)
                value = sent["result"] if isinstance(sent, dict) and "result" in sent else None
            except calls.EncodingError:
                value = None
        tally.probes[header["case"] - tally.count] = value

    def _case_outcome(self, header: dict, payload: bytes, tally: _FunctionTally) -> CaseOutcome:
        name, number = tally.result.function.name, header["case"]
        case = self.caseset.cases[name][number]
        expected = self.caseset.expected[name][number]
        limits = self.course.limits
        if not header["ok"]:
            kind, error, trace = header["kind"], header["error"], header.get("traceback", "")
            if kind == "memory":
                message = f"your function ran out of memory (the limit is {limits.memory_mb} MB): {error}"
            elif kind in ("unsendable", "too_large"):
                message = f"expected {describe(expected)}, but {error}; return numpy arrays, numbers, tuples and dicts as the docstring says"
            else:
                said = [f"Your code printed or wrote more than {limits.file_size_mb} MB."] if "[Errno 27]" in error else []
                said += [w[0].upper() + w[1:] for w in (sizes_in_words(error, case.dims), hint_for(error, trace)) if w]
                explained = " ".join(said)
                message = f"{RAISED}{error}" + (EXPLAINED + explained[:1].lower() + explained[1:] if said else "")
            return CaseOutcome(case.about, False, message + (f"\n\n```\n{trace}\n```" if trace else ""))
        try:
            sent = calls.from_bytes(payload, max_bytes=self.task.caps.get(name, 0), rebuild_probes=False)
            if not isinstance(sent, dict) or set(sent) != {"result", "args_after"} or not isinstance(sent["args_after"], tuple):
                raise calls.EncodingError("malformed value")
        except calls.EncodingError as exc:
            return CaseOutcome(case.about, False, f"the result could not be read ({exc})")
        # Most answers pass: the quick predicate first, the words only for an answer that fails.
        verdict: Verdict = PASS if agrees(sent["result"], expected, self.course.tolerance) else compare(
            sent["result"], expected, self.course.tolerance, case.dims, item_names=RETURNS.get(case.function, ())
        )
        changed = changed_arguments(case.function, case.args, sent["args_after"])
        messages = []
        if not verdict.passed:
            messages.append(verdict.message)
        if changed:
            messages.append(f"your function changed its argument {', '.join(changed)}; work on a copy (e.g. `x = x.copy()`, or build new arrays)")
        if header.get("aliases"):
            messages.append(alias_words(name, header["aliases"]))
        # Outputs are kept (within the task's caps) until the task ends: the diagnosis of a function that
        # lost credit compares every one of its cases, passed ones included.
        return CaseOutcome(case.about, not messages, " ".join(messages), found=sent["result"], args_after=sent["args_after"])

    # ----------------------------------------------------------------- the end

    def end(self, ending: TaskEnd) -> dict[str, FunctionResult]:
        limits = self.course.limits
        worker = ending.worker
        status = worker.get("status")
        where = f" (cell {self.last_cell} was running)" if self.last_cell else ""
        if self.defined is None and not self.load_problem:
            if status == "timeout" or (status == "killed" and worker.get("signal") == "SIGALRM"):
                self.load_problem = (
                    f"Your file took longer than {limits.load_seconds:g} s to run{where}, so its functions could not be tested. "
                    "Look for a loop that never ends, or heavy work at the top level."
                )
            elif status == "killed" and worker.get("signal") == "memory":
                self.load_problem = (
                    f"Your file used more than {limits.memory_mb} MB of memory{where}, all its processes together, so its "
                    "functions could not be tested. Look for very large arrays, or processes started at the top level."
                )
            elif status == "killed":
                self.load_problem = (
                    f"Your file stopped the Python process{where} ({worker.get('signal')}): nothing could be tested. "
                    "Look for os._exit, os.kill or very large allocations at the top level."
                )
            elif status == "exited" and not ending.garbled:
                self.load_problem = (
                    f"Your file ended the Python process{where} (exit code {worker.get('code')}) before its functions could be tested. "
                    "Remove os._exit(...) from your file."
                )
        if ending.garbled:
            self.notes.messages.append("Your code wrote into the grader's result channel; grading of this part stopped there.")
        if ending.output_bytes > limits.output_kb * 1024:
            self.notes.messages.append(f"Your code printed more than {limits.output_kb} KB; printing is not needed for grading and was cut off.")
        if ending.lost and not self.load_problem and self.defined is None:
            self.load_problem = "The grader lost contact with the process running your file (it may have been killed by your code)."
        stopped = (
            "the grader lost contact with your code" if ending.lost
            else "your code took longer than the whole part is allowed" if status == "timeout"
            else "your code stopped before this case finished"
        )
        self.results = {name: self._finish(tally, stopped) for name, tally in self.tallies.items()}
        return self.results

    def _finish(self, tally: _FunctionTally, stopped: str) -> FunctionResult:
        result, name = tally.result, tally.result.function.name
        cases = self.caseset.cases[name]
        if self.load_problem:
            result.problem = self.load_problem
        elif self.defined is not None and name not in self.defined:
            result.problem = f"There is no function `{name}` in {self.task.filename}."
            if self.notes.cell_errors:
                result.problem += " A cell raised an error (see above); maybe the cell that defines it is the one that failed."
        elif self.defined is None:
            result.problem = "Your file could not be run to the end, so this function was not tested."
        elif result.not_implemented and all(
            tally.outcomes.get(i) is not None and tally.outcomes[i].message.startswith("your function raised NotImplementedError")
            for i in range(len(cases))
        ):
            result.problem = "Not implemented yet: the stub still raises NotImplementedError."
        else:
            result.not_implemented = False  # raised NotImplementedError for some cases only: graded case by case
            missing = tally.ended if tally.ended and tally.ended != "normally" else stopped
            result.cases = [tally.outcomes.get(i) or CaseOutcome(case.about, False, missing) for i, case in enumerate(cases)]
            result.probes = [tally.probes.get(i) for i in range(len(self.caseset.probes.get(name, [])))]
        return result


_SHAPE = re.compile(r"\((\d+(?:,\s*\d+)*),?\)")
_SIZE = re.compile(r"\b(?:size|from) (\d+)\b")


def sizes_in_words(error: str, dims: dict[str, int]) -> str:
    """The shapes and sizes an exception mentions, in the function's own names: ``In this case ...: (7, 4) is (T, K); 5 is H.``

    Only lengths that name one size of the case unambiguously are named; nothing when none is.
    """
    name = length_names(dims).get
    said: list[str] = []
    for match in _SHAPE.finditer(error):
        shape = [int(n) for n in match.group(1).split(",")]
        names = [name(n) for n in shape]
        if all(names):
            words = f"{match.group(0)} is ({', '.join(names)}{',' if len(names) == 1 else ''})"
            if words not in said:
                said.append(words)
    for match in _SIZE.finditer(error):
        n = int(match.group(1))
        if name(n) and f"{n} is {name(n)}" not in said:
            said.append(f"{n} is {name(n)}")
    if not said:
        return ""
    sizes = ", ".join(f"{k} = {v}" for k, v in dims.items())
    return f"In this case {sizes}: {'; '.join(said[:6])}."


def alias_words(function: str, aliases: list[str]) -> str:
    """The message for a result that returns an argument's own array instead of a new one."""
    names = ARGUMENTS.get(function, ())

    def spec_name(alias: str) -> str:
        returned, _, given = alias.partition("=")
        index, _, rest = given[1:].partition("]")
        name = names[int(index)] if index.isdigit() and int(index) < len(names) else "an argument"
        return f"`{name}{rest}`"

    where = ", ".join(dict.fromkeys(spec_name(a) for a in aliases))
    return (
        f"your function returned the array it was given ({where}) instead of a new one: the caller's array and yours "
        "are then the same object, and changing one changes the other; return a copy (e.g. `g.copy()`)"
    )


def end_words(header: dict, limits: Limits) -> str:
    """Why a function's remaining cases did not report, from its ``function_end`` frame."""
    status = header.get("status")
    if status == "timeout":
        return f"your function did not finish within {limits.call_seconds:g} s (a loop that never ends, or very slow or memory-hungry code?)"
    if status == "killed":
        signal_name = header.get("signal")
        if signal_name == "memory":
            return f"your code used more than {limits.memory_mb} MB of memory, all its processes together"
        if signal_name == "SIGXCPU":
            return f"your function used more than {limits.call_seconds:g} s of CPU time"
        return f"the process running your function was killed ({signal_name}); a memory or process limit may have been hit"
    if status == "exited" and header.get("code", 0) != 0:
        return f"your function ended the Python process (exit code {header.get('code')}): remove os._exit(...)"
    if status == "exited":
        return "your function ended the Python process before this case finished (os._exit?)"
    return "normally"


def drop_outputs(results: dict[str, FunctionResult]) -> None:
    """Forget every decoded output once the diagnosis is done: feedback needs words only."""
    for result in results.values():
        result.probes = []
        for case in result.cases:
            case.found = case.args_after = None
