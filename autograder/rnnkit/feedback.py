"""What one student receives: ``feedback.md`` and Gradescope's ``results.json``.

Both say, per function, the score, what was checked (in words), and for a
failure what was wrong, the known mistake recognised (:mod:`.mistakes`) if any,
and a hint. Neither ever holds a hidden input or a reference answer: the
messages come from :mod:`.compare`, which describes differences without
values, and from the fixed words of the mistakes catalogue.
"""
from __future__ import annotations

import json
from pathlib import Path

from .course import Course
from .grading import CaseOutcome, FunctionResult, StudentResult


def _points(x: float) -> str:
    return f"{x:g}"


def function_status(result: FunctionResult) -> str:
    if result.passed:
        return "passed"
    if result.not_implemented:
        return "not implemented yet"
    if result.problem:
        return "not graded"
    return f"{result.passed_cases} of {len(result.cases)} cases passed"


def function_text(result: FunctionResult) -> str:
    """The body of one function's feedback (markdown): each case in words, any mistake recognised, then a hint.

    Consecutive failed cases with the same message are listed once.
    """
    lines = [result.problem] if result.problem else []
    groups: list[tuple[list[int], CaseOutcome]] = []
    for number, case in enumerate(result.cases, start=1):
        if groups and not case.passed and not groups[-1][1].passed and groups[-1][1].message == case.message:
            groups[-1][0].append(number)
        else:
            groups.append(([number], case))
    for numbers, case in groups:
        label = f"case {numbers[0]}" if len(numbers) == 1 else f"cases {numbers[0]}-{numbers[-1]}"
        abouts = "; ".join(dict.fromkeys(result.cases[n - 1].about for n in numbers))
        if case.passed:
            lines.append(f"- ✓ {label}: {abouts}")
        else:
            lines.append(f"- ✗ {label}: {abouts}. **{case.message}**" if "\n" not in case.message else f"- ✗ {label}: {abouts}. {case.message}")
    for diagnosis in result.diagnoses:  # known mistakes recognised in the outputs (rnnkit.mistakes)
        lines += ["", f"**Likely mistake: {diagnosis.name}.** {diagnosis.explanation}"]
    if not result.passed and not result.not_implemented:
        lines += ["", f"*{result.hint}*"]
    return "\n".join(lines)


def feedback_markdown(student: StudentResult, course: Course) -> str:
    possible = course.possible
    out = [
        f"# {course.title}: feedback for {student.student}",
        "",
        f"**Score: {_points(student.total)} / {_points(possible)}**"
        + (" (bonus points included)" if any(r.function.bonus and r.score for r in student.functions.values()) else ""),
        "",
        "Every function was called on hidden test cases with random inputs and compared with the reference "
        "solution. Float32 and any mathematically equal order of operations pass; an error of 1e-3 relative or more fails.",
    ]
    if student.ignored_files:
        out += ["", f"Files ignored (only `<part>.ipynb` or `<part>.py` are graded): {', '.join(sorted(student.ignored_files))}"]
    for part in course.parts:
        notes = student.parts.get(part.name)
        results = [student.functions[f.name] for f in part.functions]
        earned = sum(r.score for r in results)
        available = sum(f.points for f in part.functions if not f.bonus)
        out += ["", f"## {part.title} (`{part.name}`): {_points(earned)} / {_points(available)}"]
        if notes and notes.filename:
            out.append(f"Graded file: `{notes.filename}`")
        for message in (notes.messages if notes else []):
            out += ["", f"> {message}"]
        for error in (notes.cell_errors if notes else []):
            out += ["", f"> Cell {error.get('cell')} raised `{error.get('summary')}`; the cells after it still ran."]
            if error.get("traceback"):
                out += ["", "```", str(error["traceback"]), "```"]
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
    """Gradescope's results.json: one test per function, its name starting with the function name."""
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


def write_student(student: StudentResult, course: Course, out_dir: Path) -> Path:
    folder = Path(out_dir) / student.student
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feedback.md").write_text(feedback_markdown(student, course), encoding="utf-8")
    (folder / "results.json").write_text(json.dumps(gradescope_results(student, course), indent=2) + "\n", encoding="utf-8")
    return folder
