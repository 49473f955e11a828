"""The hidden cases with their reference answers, packed for in-kernel tests (nbgrader, otter).

The same cases as ``rnnkit grade`` with the same seed, so an in-kernel score and
the kit's score can be compared. Packing them puts the answers into the
instructor's source notebooks and test files: in-kernel grading cannot keep
answers away from the code it grades (see :mod:`.inkernel`).
"""
from __future__ import annotations

from ..cases import DEFAULT_SEED
from ..checks import value_to_json
from ..course import Course
from ..grading import HiddenTests


def hidden_cases(course: Course, seed: int = DEFAULT_SEED) -> dict[str, list[dict]]:
    """function -> its hidden cases as JSON-able dicts: ``about``, ``dims``, ``args``, ``expected``."""
    hidden = HiddenTests.draw(course, seed)
    hidden.compute_answers(course)
    return {
        name: [
            {"about": case.about, "dims": case.dims, "args": value_to_json(case.args), "expected": value_to_json(expected)}
            for case, expected in zip(cases, hidden.expected[name])
        ]
        for name, cases in hidden.cases.items()
    }


def tolerance(course: Course) -> list[float]:
    return [course.tolerance.rtol, course.tolerance.atol]
