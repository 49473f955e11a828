"""What one student receives: ``feedback.md`` and Gradescope's ``results.json``.

Both say, per function, the score, what was checked (in words), and for a
failure what was wrong, the known mistake recognised (:mod:`.diagnosis`) if any,
and a hint. Neither ever holds a hidden input or a reference answer: the
messages come from :mod:`.compare`, which describes hidden differences without
values, and from the fixed words of the mistakes catalogue.

Everything that can come from a student (exception messages, tracebacks, file
names, dict keys quoted in a message, the student id itself) is quoted inert
(:mod:`.outputs.safe`): escaped text, or code spans and fences longer than any
backtick run inside them. It can never close a fence, start a heading, write a
score line or open an HTML comment.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .course import Course
from .exception_hints import EXPLAINED, RAISED
from .grading import CaseOutcome, FunctionResult, StudentResult
from .outputs.files import write_atomic
from .outputs.safe import md_block, md_code, md_text

_SPAN = re.compile(r"`([^`\n]+)`")
_FENCE_SPLIT = "\n\n```\n"


def _points(x: float) -> str:
    return f"{x:g}"


def safe_inline(text: str) -> str:
    """Kit text that may quote student text, as inert markdown on one line: `spans` stay code, the rest is escaped."""
    out, last = [], 0
    for match in _SPAN.finditer(text):
        out += [md_text(text[last:match.start()], line_start=not out), md_code(match.group(1))]
        last = match.end()
    out.append(md_text(text[last:], line_start=not out))
    return "".join(out)


def _indent(block: str, by: str = "  ") -> str:
    return "\n".join(by + line if line else line for line in block.split("\n"))


def message_markdown(message: str, strong: bool = True) -> str:
    """One case's message as inert markdown: the words (bold), then any traceback in a fence of its own (indented)."""
    head, trace = message, ""
    if _FENCE_SPLIT in message and message.rstrip().endswith("```"):
        head, rest = message.split(_FENCE_SPLIT, 1)
        trace = rest.rstrip()[: -3].rstrip("\n")
    if head.startswith(RAISED):
        error, said, explained = head[len(RAISED):].rpartition(EXPLAINED)
        if not said:  # no words of the kit's after the exception
            error, explained = explained, ""
        words = RAISED + md_code(error) + (EXPLAINED + safe_inline(explained) if explained else "")
    else:
        words = safe_inline(head)
    text = f"**{words}**" if strong and words.strip() else words
    if trace:
        text += "\n\n" + _indent(md_block(trace))
    return text


def function_status(result: FunctionResult) -> str:
    if result.passed:
        return "passed"
    if result.not_implemented:
        return "not implemented yet"
    if result.problem:
        return "not graded"
    return f"{result.passed_cases} of {len(result.cases)} cases passed"


def function_text(result: FunctionResult) -> str:
    """The body of one function's feedback (inert markdown): each case in words, any mistake recognised, then a hint.

    Consecutive failed cases with the same message are listed once.
    """
    lines = [safe_inline(result.problem)] if result.problem else []
    groups: list[tuple[list[int], CaseOutcome]] = []
    for number, case in enumerate(result.cases, start=1):
        if groups and not case.passed and not groups[-1][1].passed and groups[-1][1].message == case.message:
            groups[-1][0].append(number)
        else:
            groups.append(([number], case))
    for numbers, case in groups:
        label = f"case {numbers[0]}" if len(numbers) == 1 else f"cases {numbers[0]}-{numbers[-1]}"
        abouts = safe_inline("; ".join(dict.fromkeys(result.cases[n - 1].about for n in numbers)))
        if case.passed:
            lines.append(f"- ✓ {label}: {abouts}")
        else:
            lines.append(f"- ✗ {label}: {abouts}. {message_markdown(case.message)}")
    for diagnosis in result.diagnoses:  # known mistakes recognised in the outputs (rnnkit.diagnosis): the catalogue's words
        lines += ["", f"**Likely mistake: {diagnosis.name}.** {diagnosis.explanation}"]
    if result.where:  # where the outputs go wrong (rnnkit.diagnosis.further): the kit's own words, no values
        lines += ["", f"**Where it goes wrong:** {' '.join(result.where)}"]
    if not result.passed and not result.not_implemented:
        lines += ["", f"*{result.hint}*"]
    return "\n".join(lines)


def notes_markdown(notes) -> list[str]:
    """A part's notes (messages about the files, errors raised by cells) as inert markdown paragraphs."""
    out: list[str] = []
    for message in (notes.messages if notes else []):
        out += ["", f"> {safe_inline(message)}"]
    for error in (notes.cell_errors if notes else []):
        out += ["", f"> Cell {md_text(error.get('cell'))} raised {md_code(str(error.get('summary')))}; the cells after it still ran."]
        if error.get("traceback"):
            out += ["", md_block(str(error["traceback"]))]
    return out


def feedback_markdown(student: StudentResult, course: Course) -> str:
    """The whole ``feedback.md`` of one student (markdown text)."""
    possible = course.possible
    out = [
        f"# {md_text(course.title)}: feedback for {md_text(student.student)}",
        "",
        f"**Score: {_points(student.total)} / {_points(possible)}**"
        + (" (bonus points included)" if any(r.function.bonus and r.score for r in student.functions.values()) else ""),
        "",
        "Every function was called on hidden test cases with random inputs and compared with the reference "
        "solution. Float32 and any mathematically equal order of operations pass; an error of 1e-3 relative or more fails. "
        "For hidden cases we say where your answer is wrong and roughly how much, never the expected values.",
    ]
    if student.ignored_files:
        names = ", ".join(md_code(name) for name in sorted(student.ignored_files))
        out += ["", f"Files ignored (only `<part>.ipynb` or `<part>.py` are graded): {names}"]
    for part in course.parts:
        notes = student.parts.get(part.name)
        results = [student.functions[f.name] for f in part.functions]
        earned = sum(r.score for r in results)
        available = sum(f.points for f in part.functions if not f.bonus)
        out += ["", f"## {md_text(part.title)} (`{part.name}`): {_points(earned)} / {_points(available)}"]
        if notes and notes.filename:
            out.append(f"Graded file: {md_code(notes.filename)}")
        out += notes_markdown(notes)
        for result in results:
            bonus = " (bonus)" if result.function.bonus else ""
            out += [
                "",
                f"### `{result.function.name}`{bonus}: {_points(result.score)} / {_points(result.function.points)} ({function_status(result)})",
                "",
                function_text(result),
            ]
    return "\n".join(out).rstrip() + "\n"


def gradescope_results(student: StudentResult, course: Course) -> dict:
    """Gradescope's results.json (a dict): one test per function, its name starting with the function name; inert markdown."""
    tests = []
    for result in student.functions.values():
        function = result.function
        tests.append(
            {
                "name": f"{function.name} ({function.part}{', bonus' if function.bonus else ''})",
                "score": result.score,
                "max_score": function.points,
                "status": "passed" if result.passed else "failed",
                "output": function_text(result),
                "output_format": "md",
                "visibility": "visible",
            }
        )
    return {
        "score": student.total,
        "output": f"{_points(student.total)} / {_points(course.possible)} points. Each test below is one function.",
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_student(student: StudentResult, course: Course, folder: Path) -> dict[str, str]:
    """Write ``folder/feedback.md`` and ``folder/results.json``, each whole (temporary file, then rename).

    ``folder`` is the student's own folder (``OUT/students/<id>``, see :mod:`.outputs.store`), created if needed.
    Returns the sha256 of each file written, by name.
    """
    import hashlib

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "feedback.md": feedback_markdown(student, course),
        "results.json": json.dumps(gradescope_results(student, course), indent=2) + "\n",
    }
    for name, text in texts.items():
        write_atomic(folder / name, text, durable=False)  # the run syncs once before it is marked complete
    return {name: hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest() for name, text in texts.items()}
