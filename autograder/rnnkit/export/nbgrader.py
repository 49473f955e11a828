"""nbgrader: ``rnnkit export nbgrader`` writes a course, ``rnnkit grade --nbgrader`` grades it.

The export (:func:`export`) writes an nbgrader course directory:

* ``nbgrader_config.py``: the kit's stub (``# YOUR CODE HERE`` and, kept from the
  source, a ``raise NotImplementedError`` with the hint), and feedback without
  hidden tests;
* ``source/<assignment>/<part>.ipynb``: one notebook per part, with nbgrader's
  cell metadata: every cell that defines a graded function is a *solution* cell
  whose reference code sits between ``### BEGIN SOLUTION`` / ``### END SOLUTION``;
  every ``check("f")`` cell is a locked, graded *test* cell worth ``f``'s points
  in ``course.yml``, holding the public check and, between ``### BEGIN HIDDEN
  TESTS`` / ``### END HIDDEN TESTS``, the kit's hidden cases for ``f`` (packed,
  see :mod:`.inkernel`); everything else is locked;
* ``source/<assignment>/public_checks.json`` and ``rnnkit/``: what the ``check``
  cells need on the students' side (the student edition, :mod:`.runtime`).

``nbgrader generate_assignment`` then gives students notebooks equivalent to
``assignments/`` (same cells, same stubs and hints), and ``nbgrader autograde``
works as usual, with the kit's hidden cases and partial credit by case. But
nbgrader runs those tests inside the student's kernel, where a submission can
defeat them. :func:`grade` is the secure alternative: it grades
``submitted/<student>/<assignment>/`` with the kit's sandbox and writes each
function's score (and its feedback as the cell's comment) into nbgrader's
gradebook through nbgrader's own API, so formgrader and ``nbgrader export`` show
the kit's grades.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

from .. import build, content
from ..cases import DEFAULT_SEED
from ..checks import PUBLIC_FILE
from ..course import Course, Part
from . import ExportError, hidden, inkernel, runtime
from .nbgrader_feedback import write_autograded

DEFAULT_ASSIGNMENT = "rnn"
COURSE_ID = "rnnkit"
TEST_PREFIX = "test_"
SCHEMA_VERSION = 3

CONFIG = '''"""nbgrader configuration of the course written by `rnnkit export nbgrader`."""
import os
import sys

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 (nbgrader provides it)

# nbgrader runs `alembic` from PATH; it sits beside the Python that runs nbgrader
# (a venv's bin/), so `.venv/bin/nbgrader ...` works without activating the venv.
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

c.CourseDirectory.course_id = {course_id!r}

# The kit's stub: nbgrader writes "# YOUR CODE HERE" for each solution region,
# and the source keeps the `raise NotImplementedError("... Hint: ...")` line
# after it, so students get the hint the kit gives.
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE"}}

# Feedback (nbgrader generate_feedback) shows the test cells without their hidden tests.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
'''

_DEF = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)
#: The set-up of a notebook's checks, ``check = make_check("<part>", globals())``.
_MAKE_CHECK = re.compile(r'^(check\s*=\s*make_check\(\s*"\w+"\s*,\s*globals\(\))\s*\)', re.MULTILINE)

_CHECK = re.compile(r'^\s*check\(\s*"(?P<name>\w+)"\s*\)\s*$')


def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION, "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def solution_source(source: str, where: str) -> str:
    """A cell's source for nbgrader: each region keeps its reference code, and its stub's
    ``raise`` line follows the region, where only a student's copy reaches it."""
    out = []
    for piece in content.split_regions(source):
        if not isinstance(piece, content.SolutionRegion):
            out.append(piece)
            continue
        try:
            indent, body = piece.body_ending_in_return()
        except content.RegionError as exc:
            raise ExportError(f"{where}: {exc}, so that the stub's raise line after it is never reached") from None
        stub = content.stub_for(piece, indent).splitlines(keepends=True)
        out.append(f"{indent}{content.BEGIN}\n{body}{indent}{content.END}\n{''.join(stub[1:])}")
    return "".join(out)


def hidden_test_source(function: str, points: float, packed: str) -> str:
    """The test cell of ``function``: its public check, wrapped in hidden tests.

    The first hidden region sends stderr aside while the public check runs (nbgrader
    scores a cell that writes to stderr, a numpy warning included, as 0; the kit's
    grader does not) and lets the check report without raising; the second runs the
    hidden cases, restores both, and ends the cell with the points earned, which
    nbgrader takes as partial credit. Without the hidden regions (what students get,
    and what ``nbgrader validate`` runs) a failing check raises.
    """
    return (
        "### BEGIN HIDDEN TESTS\n"
        "from rnnkit.export import inkernel as _rnnkit_inkernel\n"
        "_rnnkit_inkernel.begin_hidden_test(globals())\n"
        "### END HIDDEN TESTS\n"
        f'check("{function}")\n'
        "### BEGIN HIDDEN TESTS\n"
        f'_rnnkit_inkernel.hidden_score(globals(), "{function}", {points!r}, "{packed}")\n'
        "### END HIDDEN TESTS"
    )


def source_notebook(course: Course, part: Part, cases: dict[str, list[dict]]) -> nbformat.NotebookNode:
    """The nbgrader source notebook of one part (solutions, locked cells, graded test cells)."""
    source = content.read_source(course.solutions_dir, part.name)
    functions = {f.name: f for f in part.functions}
    tolerance = hidden.tolerance(course)
    cells = []
    tested = set()
    made_check = False
    for index, cell in enumerate(source.cells):
        metadata = {k: v for k, v in cell.get("metadata", {}).items() if k == "tags"}
        where = f"solutions/{part.name}.py, cell {index + 1}"
        if cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(cell.source, metadata=metadata)
            new.metadata["nbgrader"] = _meta(f"{part.name}-text-{index:02d}", locked=True)
        elif content.BEGIN in cell.source:
            names = _DEF.findall(cell.source)
            grade_id = names[0] if names else f"{part.name}-code-{index:02d}"
            new = nbformat.v4.new_code_cell(solution_source(cell.source, where), metadata=metadata)
            new.metadata["nbgrader"] = _meta(grade_id, solution=True)
        elif (match := _CHECK.match(cell.source)) and match["name"] in functions:
            function = functions[match["name"]]
            packed = inkernel.pack({"tolerance": tolerance, "cases": cases[function.name]})
            new = nbformat.v4.new_code_cell(hidden_test_source(function.name, function.points, packed), metadata=metadata)
            new.metadata["nbgrader"] = _meta(TEST_PREFIX + function.name, grade=True, locked=True, points=function.points)
            tested.add(function.name)
        else:
            text = cell.source
            if content.is_check_cell(cell) and _MAKE_CHECK.search(text):
                # nbgrader validate and students see a failing check as an error, not only as words.
                text = _MAKE_CHECK.sub(r"\1, raise_on_failure=True)", text)
                made_check = True
            new = nbformat.v4.new_code_cell(text, metadata=metadata)
            new.metadata["nbgrader"] = _meta(f"{part.name}-code-{index:02d}", locked=True)
        new["id"] = f"{part.name}-{index:02d}"
        cells.append(new)
    if not made_check:
        raise ExportError(f'solutions/{part.name}.py has no cell tagged "check" with check = make_check("{part.name}", globals())')
    untested = [f for f in functions if f not in tested]
    if untested:
        raise ExportError(f"solutions/{part.name}.py has no check(...) cell for {', '.join(untested)}: nothing to grade it by")
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": build.KERNELSPEC,
        "language_info": {"name": "python"},
        "rnnkit": {"part": part.name, "generated_from": f"solutions/{part.name}.py"},
    }
    return notebook


def export(course: Course, out_dir: Path, assignment: str = DEFAULT_ASSIGNMENT, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write an nbgrader course with one assignment holding every part; return the paths written."""
    out_dir = Path(out_dir)
    folder = out_dir / "source" / assignment
    if folder.exists() and any(folder.iterdir()):
        raise ExportError(f"{folder} is not empty; export into a new course folder or remove that assignment first")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", assignment):
        raise ExportError(f"assignment name {assignment!r}: use letters, digits, '-' and '_' only")
    folder.mkdir(parents=True, exist_ok=True)
    cases = hidden.hidden_cases(course, seed)
    written = []
    config = out_dir / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG.format(course_id=COURSE_ID), encoding="utf-8")
        written.append(config)
    notebooks = {}
    for part in course.parts:
        notebook = source_notebook(course, part, cases)
        nbformat.validate(notebook)
        path = folder / f"{part.name}.ipynb"
        text = nbformat.writes(notebook) + "\n"
        path.write_text(text, encoding="utf-8")
        notebooks[path.name] = text
        written.append(path)
    public = folder / PUBLIC_FILE
    public.write_text(json.dumps(build.public_checks(course), indent=1) + "\n", encoding="utf-8")
    written.append(public)
    api = course.root / "docs" / build.API_FILE
    if api.is_file():  # the notebooks link to it beside them; nbgrader copies it into the release
        (folder / build.API_FILE).write_text(api.read_text(encoding="utf-8"), encoding="utf-8")
        written.append(folder / build.API_FILE)
    from .release import code_of

    written += runtime.write_package(folder, runtime.kit_modules_used_by(code_of(notebooks)))
    return written


# --------------------------------------------------------------------------- grading into the gradebook


class NbgraderMissing(ExportError):
    pass


def _nbgrader():
    try:
        from nbgrader.api import Gradebook, MissingEntry
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader
    except ImportError:
        raise NbgraderMissing("nbgrader is not installed: pip install 'rnnkit[ecosystem]' (or nbgrader)") from None
    _tools_on_path()
    return Gradebook, MissingEntry, CourseDirectory, PyFileConfigLoader


def _tools_on_path() -> None:
    """Put this Python's ``bin/`` first on PATH: nbgrader's Gradebook runs ``alembic`` from PATH,
    and the venv that holds nbgrader holds alembic too, even when that venv is not activated."""
    here = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if here not in path.split(os.pathsep):
        os.environ["PATH"] = here + (os.pathsep + path if path else "")


@contextlib.contextmanager
def _quiet_gradebook():
    """Silence the SQLAlchemy warnings nbgrader's own ``update_or_create_submission`` causes
    ("Object of type <SubmittedAssignment> not in session ..."): they are about nbgrader's
    internals, harmless, and say nothing an instructor can act on."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Object of type <Submitted(Assignment|Notebook)> not in session", category=SAWarning)
        yield


def course_directory(course_dir: Path):
    """nbgrader's CourseDirectory for ``course_dir``, configured by its ``nbgrader_config.py``."""
    _, _, CourseDirectory, PyFileConfigLoader = _nbgrader()
    course_dir = Path(course_dir).resolve()
    config = None
    if (course_dir / "nbgrader_config.py").is_file():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    coursedir = CourseDirectory(config=config) if config is not None else CourseDirectory()
    coursedir.root = str(course_dir)
    return coursedir


@dataclass
class GradedAssignment:
    name: str
    parts: list[str]
    students: list  # StudentResult
    #: Parts whose released notebook was missing, so no feedback notebook could be written for them.
    unreleased: list[str] = field(default_factory=list)


def _submitted(coursedir, assignment: str) -> dict[str, Path]:
    """student id -> their submitted folder of ``assignment`` (``submitted/<student>/<assignment>``)."""
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    found = {}
    for entry in sorted(submitted.iterdir()) if submitted.is_dir() else []:
        folder = Path(coursedir.format_path(coursedir.submitted_directory, entry.name, assignment))
        if entry.is_dir() and not entry.is_symlink() and folder.is_dir() and not folder.is_symlink():
            found[entry.name] = folder
    return found


def grade(
    course: Course,
    course_dir: Path,
    assignment: str | None = None,
    *,
    seed: int | None = None,
    jobs: int = 1,
    mode: str | None = None,
    on_task_done: Callable[[], None] | None = None,
    on_start: Callable[[str, int], None] | None = None,
) -> list[GradedAssignment]:
    """Grade nbgrader's submissions with the kit's sandbox and write the scores into its gradebook.

    ``assignment``: one assignment, or (None) every assignment in the gradebook
    that has notebooks named after the course's parts.
    """
    from ..grading import Submission, grade_class

    Gradebook, MissingEntry, _, _ = _nbgrader()
    coursedir = course_directory(course_dir)
    part_names = [p.name for p in course.parts]
    if coursedir.db_url.startswith("sqlite:///") and not Path(coursedir.db_url[len("sqlite:///"):]).is_file():
        raise ExportError(f"{course_dir} has no gradebook ({coursedir.db_url}): run `nbgrader generate_assignment` there first")
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        if assignment is not None:
            try:
                names = [gb.find_assignment(assignment).name]
            except MissingEntry:
                raise ExportError(
                    f"the gradebook of {course_dir} has no assignment {assignment!r}: run `nbgrader generate_assignment {assignment}` first"
                ) from None
        else:
            names = [a.name for a in gb.assignments if any(n.name in part_names for n in a.notebooks)]
            if not names:
                raise ExportError(f"the gradebook of {course_dir} has no assignment with the course's notebooks: run `nbgrader generate_assignment` first")
        layout = {name: [n.name for n in gb.find_assignment(name).notebooks if n.name in part_names] for name in names}

    graded = []
    for name in names:
        parts = layout[name]
        submissions = []
        for student, folder in _submitted(coursedir, name).items():
            files = {part: folder / f"{part}.ipynb" for part in parts if (folder / f"{part}.ipynb").is_file()}
            submissions.append(Submission(student, folder, files, [], {}))
        if on_start is not None:
            on_start(name, sum(len(s.files) for s in submissions))
        students = grade_class(submissions, course, seed=seed, jobs=jobs, mode=mode, on_task_done=on_task_done) if submissions else []
        folders = {s.student: s.folder for s in submissions}
        _write_gradebook(coursedir, name, parts, students, folders)
        missing = write_autograded(coursedir, name, parts, students, folders)
        graded.append(GradedAssignment(name, parts, students, missing))
    return graded


def _write_gradebook(coursedir, assignment: str, parts: list[str], students, folders: dict[str, Path]) -> None:
    from ..feedback import function_text

    Gradebook, MissingEntry, _, _ = _nbgrader()
    with _quiet_gradebook(), Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for student in students:
            gb.update_or_create_student(student.student)
            timestamp = coursedir.get_existing_timestamp(str(folders[student.student]))
            gb.update_or_create_submission(assignment, student.student, **({"timestamp": timestamp} if timestamp else {}))
            for notebook in gb.find_assignment(assignment).notebooks:
                if notebook.name not in parts:
                    continue
                for cell in notebook.grade_cells:
                    result = student.functions.get(cell.name[len(TEST_PREFIX):]) if cell.name.startswith(TEST_PREFIX) else None
                    if result is None:
                        continue
                    grade = gb.find_grade(cell.name, notebook.name, assignment, student.student)
                    grade.auto_score = min(result.score, cell.max_score)
                    grade.needs_manual_grade = False
                for cell in notebook.solution_cells:
                    result = student.functions.get(cell.name)
                    if result is None:
                        continue
                    try:
                        comment = gb.find_comment(cell.name, notebook.name, assignment, student.student)
                    except MissingEntry:
                        continue
                    comment.auto_comment = f"rnnkit: {result.score:g} / {result.function.points:g} points\n\n{function_text(result)}"
            gb.db.commit()
