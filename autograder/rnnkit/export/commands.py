"""The commands ``rnnkit release``, ``rnnkit export ...`` and ``rnnkit grade --nbgrader`` (registered in :mod:`..cli`)."""
from __future__ import annotations

from pathlib import Path

import click

from ..clihelp import FullHelpGroup
from . import ExportError


def _course():
    from ..cli import _course as load

    return load()


def _run(action):
    try:
        return action()
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("release")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="A new or empty folder.")
def release_command(out_dir: Path) -> None:
    """Write what students get: the notebooks, the public checks and what they need, a README."""
    from .release import release

    course = _course()
    written, left_out = _run(lambda: release(course, out_dir))
    for name, why in left_out.items():
        click.echo(f"note: {name} is not in the release: {why}.")
    click.echo(f"Wrote the student release ({len(written)} files) to {out_dir}/. It holds no reference code and no hidden tests.")


@click.group("export", cls=FullHelpGroup)
def export_group() -> None:
    """Export the course to Gradescope, nbgrader or otter-grader, and grades to Canvas or Moodle."""


@export_group.command("gradescope")
@click.option("--out", "out_file", default="autograder.zip", show_default=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", default=None, type=int, help="The same hidden inputs for every student (default: inputs per student, from the course secret).")
@click.option(
    "--visibility", default="visible", show_default=True,
    type=click.Choice(["visible", "after_due_date", "after_published", "hidden"]),
    help="When students see the per-function results (their feedback never shows a hidden input or answer).",
)
def gradescope_command(out_file: Path, seed: int | None, visibility: str) -> None:
    """A Gradescope autograder zip that grades with the kit's sandbox."""
    from .gradescope_zip import build_zip

    course = _course()
    names = _run(lambda: build_zip(course, out_file, seed=seed, visibility=visibility))
    click.echo(f"Wrote {out_file} ({len(names)} files). Upload it as the autograder of a Gradescope programming assignment.")


@export_group.command("nbgrader")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="The nbgrader course folder.")
@click.option("--assignment", default="rnn", show_default=True, help="Name of the nbgrader assignment holding the parts.")
@click.option("--seed", default=None, type=int, help="Seed of the hidden test inputs (default: the course's fixed seed).")
def nbgrader_command(out_dir: Path, assignment: str, seed: int | None) -> None:
    """An nbgrader course: config, and source notebooks with nbgrader metadata and hidden tests."""
    from ..cases import DEFAULT_SEED
    from .nbgrader import export

    course = _course()
    written = _run(lambda: export(course, out_dir, assignment, seed=DEFAULT_SEED if seed is None else seed))
    config = out_dir / "nbgrader_config.py"
    if config not in written and "ClearSolutions.code_stub" not in config.read_text(encoding="utf-8", errors="replace"):
        click.echo(
            f"note: kept the existing {out_dir / 'nbgrader_config.py'}; for the kit's stubs it needs "
            "c.ClearSolutions.code_stub = {\"python\": \"# YOUR CODE HERE\"}"
        )
    click.echo(
        f"Wrote {len(written)} files to {out_dir}/. Next, from {out_dir}: nbgrader generate_assignment {assignment}; "
        f"to grade with the kit's sandbox: rnnkit grade --nbgrader {out_dir} {assignment}"
    )


@export_group.command("otter")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="A new or empty folder.")
@click.option("--seed", default=None, type=int, help="Seed of the hidden test inputs (default: the course's fixed seed).")
def otter_command(out_dir: Path, seed: int | None) -> None:
    """otter-assign master notebooks, one per part, with public and hidden tests."""
    from ..cases import DEFAULT_SEED
    from .otter import export

    course = _course()
    written = _run(lambda: export(course, out_dir, seed=DEFAULT_SEED if seed is None else seed))
    click.echo(f"Wrote {len(written)} files to {out_dir}/. Next, for each part: otter assign {out_dir}/<part>/<part>.ipynb dist/<part>")


@export_group.command("lms")
@click.option("--grades", "grades_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="The grades.csv that `rnnkit grade` wrote.")
@click.option("--roster", "roster_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="CSV: student (the folder name), then the LMS identity columns (see README).")
@click.option("--format", "fmt", required=True, type=click.Choice(["canvas", "moodle"]), help="The gradebook to import into.")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The import file to write.")
@click.option("--assignment", default="rnnkit", show_default=True, help="The assignment column (Canvas: 'Name (id)' updates an existing one) or Moodle grade item.")
def lms_command(grades_file: Path, roster_file: Path, fmt: str, out_file: Path, assignment: str) -> None:
    """A Canvas or Moodle gradebook import file from grades.csv and a roster."""
    from .lms import export_lms

    result = _run(lambda: export_lms(grades_file, roster_file, fmt, out_file, assignment))
    click.echo(f"Wrote {out_file}: {result.written} students for {fmt}'s gradebook import, the total in the column {assignment!r}.")
    if result.not_in_roster:
        click.echo(
            f"warning: {len(result.not_in_roster)} graded student(s) are not in the roster and are not in the file: "
            f"{', '.join(result.not_in_roster)}. Add them to {roster_file} and export again."
        )
    if result.without_grade:
        click.echo(f"note: no grade for {', '.join(result.without_grade)} (empty cells: the LMS keeps their grade as it is).")


def grade_nbgrader(course_dir: Path, assignment: str | None, out_dir: Path, jobs: int, seed: int | None, console) -> None:
    """``rnnkit grade --nbgrader COURSE_DIR [ASSIGNMENT]``: grade nbgrader's submissions in the sandbox, into its gradebook."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..report import write_class
    from ..sandbox.modes import best_mode, mode_words
    from .nbgrader import grade

    course = _course()
    mode = best_mode()
    if mode != "bwrap":
        console.print(f"[yellow]warning:[/] {mode_words(mode)}. Install bubblewrap for the full sandbox (see README).")
    with Progress(
        TextColumn("grading {task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("files"), TimeElapsedColumn(),
        console=console, transient=False,
    ) as progress:
        bars: dict[str, int] = {}

        def start(name: str, total: int) -> None:
            bars["current"] = progress.add_task(name, total=total)

        graded = _run(
            lambda: grade(
                course, course_dir, assignment, seed=seed, jobs=jobs, mode=mode,
                on_task_done=lambda: progress.advance(bars["current"]), on_start=start,
            )
        )
    for item in graded:
        folder = out_dir / item.name
        write_class(item.students, course, folder, mode_words(mode), Console())
        click.echo(
            f"{item.name}: wrote the scores of {len(item.students)} students into the gradebook of {course_dir} "
            f"(nbgrader export and formgrader show them), and {folder / 'grades.csv'} with feedback in {folder}/."
        )
        if item.unreleased:
            click.echo(
                f"note: no released notebook for {', '.join(item.unreleased)} in {course_dir}/release/{item.name}/, so nbgrader's "
                f"feedback cannot show them; run `nbgrader generate_assignment {item.name}` there, then grade again."
            )
        click.echo(f"Next, for nbgrader's feedback with these scores, from {course_dir}: nbgrader generate_feedback {item.name}")
