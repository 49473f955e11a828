"""The ``rnnkit`` command: build, check, grade, validate, report, demo."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .clihelp import FullHelpGroup
from .course import CourseError, load_course

console = Console(stderr=True)


def _course():
    try:
        return load_course()
    except CourseError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(cls=FullHelpGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rnnkit", prog_name="rnnkit", message="%(prog)s %(version)s")
def main() -> None:
    """rnnkit: a course kit that teaches recurrent neural networks, with an autograder."""


@main.command()
def validate() -> None:
    """Check course.yml against its schema and the student API."""
    course = _course()
    click.echo(f"course.yml is valid: {len(course.parts)} parts, {len(course.functions)} functions, {course.possible:g} points (+ bonus).")


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Where to write (default: assignments/).")
def build(out_dir: Path | None) -> None:
    """Generate the student notebooks and public checks from solutions/."""
    from .build import build as build_assignments

    course = _course()
    for path in build_assignments(course, out_dir):
        click.echo(f"wrote {path}")


@main.command()
@click.argument("part")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check(part: str, path: Path | None) -> None:
    """Run the public checks of PART on your notebook or module (default: assignments/PART.ipynb)."""
    from .checks import PublicChecks, run_check
    from .worker.cells import SubmissionError, load_file

    course = _course()
    try:
        part_spec = course.part(part)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from None
    path = path or course.assignments_dir / f"{part}.ipynb"
    namespace: dict = {}
    # The notebook's own check(...) and plot cells stay silent while it loads
    # (as in the grader); the checks then run once, below, each verdict printed once.
    os.environ["RNNKIT_GRADING"] = "1"
    try:
        loaded = load_file(path, namespace)
    except SubmissionError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        os.environ.pop("RNNKIT_GRADING", None)
    for error in loaded.errors:
        click.echo(f"note: cell {error.cell} raised {error.summary}")
    public = PublicChecks.load(course.assignments_dir / "public_checks.json")
    results = [run_check(f.name, namespace, public) for f in part_spec.functions]
    for result in results:
        click.echo(str(result))
    passed = sum(r.passed for r in results)
    click.echo(f"\n{passed} of {len(results)} functions of {part} pass their public checks.")
    sys.exit(0 if passed == len(results) else 1)


@main.command()
@click.argument("class_dir", metavar="[CLASS_DIR | ASSIGNMENT]", required=False, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", default="grades", show_default=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--jobs", "-j", default=0, help="Parallel sandboxes (default: one per core).")
@click.option("--seed", default=None, type=int, help="Pin the hidden test inputs to this seed, the same for everyone (default: each student's own inputs).")
@click.option("--full", is_flag=True, help="Re-grade every student, even those whose files did not change since the last run into --out.")
@click.option(
    "--nbgrader", "nbgrader_dir", default=None, type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="COURSE_DIR",
    help="Grade the submissions of this nbgrader course into its gradebook; the argument is then the ASSIGNMENT (default: every assignment).",
)
def grade(class_dir: Path | None, out_dir: Path, jobs: int, seed: int | None, full: bool, nbgrader_dir: Path | None) -> None:
    """Grade CLASS_DIR (one folder per student; default: the bundled example class) into --out.

    On a folder a previous run wrote, only students who are new or whose files changed are graded again
    (--full: everyone); the class files are rewritten so that everything agrees.

    With --nbgrader COURSE_DIR, the argument is an ASSIGNMENT of that nbgrader course (default: all of
    them): its submitted/ notebooks are graded into nbgrader's gradebook.
    """
    if nbgrader_dir is not None:
        from .export.commands import grade_nbgrader

        grade_nbgrader(nbgrader_dir, str(class_dir) if class_dir else None, out_dir, jobs or os.cpu_count() or 1, seed, console)
        return
    if class_dir is not None and not class_dir.is_dir():
        raise click.BadParameter(f"{class_dir} is not a folder.", param_hint="'CLASS_DIR'")
    from .examples import example_class
    from .grading import discover, grade_class
    from .outputs.files import OutputLocked
    from .outputs.run import grade_into
    from .report import print_tables
    from .sandbox.modes import best_mode, mode_words
    from .sandbox.tasks import SandboxError

    course = _course()
    jobs = jobs or os.cpu_count() or 1
    sandbox_words: list[str] = []
    if class_dir is None:
        shutil.rmtree(out_dir / "example-class", ignore_errors=True)
        class_dir = example_class(course, out_dir)
        console.print(f"Grading the bundled example class ({escape(str(class_dir))}: open its notebooks to see what was graded).")
    submissions = discover(class_dir, course)
    if not submissions:
        raise click.ClickException(f"{class_dir} holds no student folders and no part files")
    try:
        mode = best_mode()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if mode != "bwrap":
        console.print(f"[yellow]warning:[/] {mode_words(mode)}. Install bubblewrap for the full sandbox (see README).")

    similarity = _Background(lambda: _prepare_similarity(submissions, course))  # the code half needs no grades

    def run_grader(todo: list, on_student_done) -> list:
        tasks = sum(len(s.files) for s in todo)
        with Progress(
            TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TextColumn("files"), TimeElapsedColumn(),
            console=console, transient=False,
        ) as progress:
            bar = progress.add_task("grading", total=tasks)
            return grade_class(
                todo, course, seed=seed, jobs=jobs, mode=mode, on_task_done=lambda: progress.advance(bar),
                pool_words=sandbox_words, on_student_done=on_student_done,
            )

    def plan(todo: int, kept: int) -> None:
        if kept:
            console.print(f"{escape(str(out_dir))} was graded before: {kept} student{'s' if kept != 1 else ''} unchanged (kept), {todo} to grade. --full re-grades everyone.")

    try:
        run = grade_into(out_dir, submissions, course, run_grader, seed=seed, full=full, on_plan=plan)
    except OutputLocked as exc:
        raise click.ClickException(str(exc)) from None
    except SandboxError as exc:
        raise click.ClickException(f"{exc}\nTry another sandbox setting, e.g. RNNKIT_SANDBOX=uid (see README).") from None
    _similarity(out_dir, submissions, run.students, course, similarity.result())
    for note in run.refused:
        console.print(f"[yellow]note:[/] {escape(note['reason'])}")
    if run.repaired:
        console.print(f"The previous run into {escape(str(out_dir))} had not finished; this run completed it.")
    print_tables(run.students, course, sandbox_words[0] if sandbox_words else mode_words(mode), Console())
    grades, mistakes, report_page = run.written
    kept = f" ({len(run.kept)} kept from the last run)" if run.kept else ""
    click.echo(
        f"Wrote {grades}, {mistakes}, the class report {report_page} and feedback for {len(run.students)} students{kept} "
        f"in {out_dir}/students/."
    )


class _Background:
    """``work()`` in a thread from now on; :meth:`result` waits for it (None if it failed: it is done again later)."""

    def __init__(self, work):
        import threading

        self._value = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work) -> None:
        try:
            self._value = work()
        except Exception:  # noqa: BLE001 - whoever needs it computes it again and reports what goes wrong
            self._value = None

    def result(self):
        self._thread.join()
        return self._value


def _prepare_similarity(submissions: list, course):
    from .similarity import prepare_codes

    return prepare_codes(submissions, course, settings=course.similarity)


def _similarity(out_dir: Path, submissions: list, students: list, course, prepared=None) -> None:
    """The similarity report (``similarity.csv``, evidence pages, a section of ``report.html``); never fatal."""
    from .outputs.files import OutputLock, write_atomic
    from .report_data import SIMILARITY_SECTION
    from .report_html import write_report
    from .similarity import write_similarity

    try:
        with OutputLock(out_dir):
            found = write_similarity(out_dir, submissions, students, course, settings=course.similarity, prepared=prepared)
            section = out_dir / SIMILARITY_SECTION
            section.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(section, found.html_section())
            write_report(out_dir, course)
        flagged = [p for p in found.pairs if getattr(p, "flagged", False)]
        hidden = getattr(found, "hidden", [])
        if flagged or hidden:
            said = [f"{len(flagged)} pair{'s' if len(flagged) != 1 else ''} of students to look at"] if flagged else []
            said += [f"{len(hidden)} file{'s' if len(hidden) != 1 else ''} whose source is hidden"] if hidden else []
            console.print(f"similarity: {' and '.join(said)} (a reason to look, not a verdict): {out_dir / 'similarity.csv'}")
    except Exception as exc:  # noqa: BLE001 - a similarity report that cannot be made never costs the grades
        console.print(f"[yellow]note:[/] the similarity report could not be made ({escape(str(exc))}); the grades are complete.")


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def report(out_dir: Path) -> None:
    """Write OUT_DIR/report.html, the class report, from what `rnnkit grade` wrote in OUT_DIR."""
    from .outputs.files import OutputLock, OutputLocked
    from .report_data import ReportError
    from .report_html import write_report

    try:
        with OutputLock(out_dir):
            path = write_report(out_dir, _course())
    except (ReportError, OutputLocked) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Wrote {path}")


@main.command()
@click.option("--out", "out_dir", default="demo", show_default=True, type=click.Path(file_okay=False, path_type=Path), help="Where to write the plot.")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Parameter updates per model (default: the capstone's own).")
def demo(out_dir: Path, steps: int | None) -> None:
    """Train the capstone's character-level RNN, LSTM and GRU on the reference solutions; plot the loss."""
    import time

    from .demo import run_capstone

    course = _course()
    start = time.perf_counter()
    written = run_capstone(course.solutions_dir, out_dir, steps=steps)
    for path in written:
        click.echo(f"Wrote {path}")
    click.echo(f"The capstone ran in {time.perf_counter() - start:.1f} s.")


def _register_exports() -> None:
    from .export.commands import export_group, release_command

    main.add_command(release_command)
    main.add_command(export_group)


_register_exports()


if __name__ == "__main__":
    main()
