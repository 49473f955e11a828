"""Gradescope: ``python -m rnnkit.export.gradescope`` grades one submission (what ``run_autograder`` runs).

The zip it runs from is built by :mod:`.gradescope_zip` (``rnnkit export gradescope``).

Gradescope runs the autograder as root. Student code never runs in the grading
process: the sandbox forks it from a zygote that has never held an answer, as
an unprivileged uid of its own, inside bubblewrap when bubblewrap can create its
namespaces (only the system and the Python installation visible), and in any
case without read access to ``/autograder/source``.
"""
from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import traceback
from pathlib import Path

from ..course import Course

VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")


def find_submission(folder: Path, course: Course):
    """The submission's part files, wherever they are under ``folder`` (Gradescope keeps uploaded folders).

    Renamed copies (``rnn_forward (1).ipynb``, ``RNN_Forward.ipynb``) count, as in
    :mod:`..discovery`; among a part's files the exact name wins, then the one
    nearest the top, then the notebook. A missing part's note lists the files found.
    """
    from ..discovery import PartFile, Submission, choose, part_of

    parts = {p.name for p in course.parts}
    found: dict[str, list[tuple[int, PartFile]]] = {}
    everything: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
        depth = len(Path(dirpath).relative_to(folder).parts)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith("."):
                continue
            everything.append(str(path.relative_to(folder)))
            candidate = part_of(path, parts)
            if candidate is not None and not path.is_symlink():
                found.setdefault(candidate.part, []).append((depth, candidate))
    files, notes = {}, {}
    for part in course.parts:
        if part.name not in found:
            listed = ", ".join(f"`{name}`" for name in everything[:20]) or "none"
            notes[part.name] = [f"No `{part.name}.ipynb` or `{part.name}.py` was found. The files found: {listed}."]
            continue
        pool = [(depth, c) for depth, c in found[part.name] if c.exact] or found[part.name]
        shallowest = min(depth for depth, _ in pool)
        group = [c for depth, c in pool if depth == shallowest]
        chosen, part_notes = choose(group, relative_to=folder)
        others = [c for _, c in found[part.name] if c not in group]
        if others:
            part_notes.append("Also handed in, not graded: " + ", ".join(f"`{c.path.relative_to(folder)}`" for c in others) + ".")
        files[part.name] = chosen.path
        if part_notes:
            notes[part.name] = part_notes
    return Submission(student_id(folder.parent), folder, files, [], notes)


def student_id(root: Path) -> str:
    """Who handed in, from Gradescope's ``submission_metadata.json`` (the users' ids; group members joined).

    Each student's hidden inputs are drawn from this id: ``"submission"`` when the metadata is missing.
    """
    try:
        metadata = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
        ids = sorted(str(user.get("id") or user.get("email")) for user in metadata.get("users", []) if isinstance(user, dict))
    except (OSError, ValueError, AttributeError):
        ids = []
    return "+".join(ids) if ids else "submission"


def sandbox_words(root: Path, mode: str, course: Course | None = None) -> str:
    """What the sandbox protects in this container, in words: checked, not assumed.

    Gradescope's container differs from an instructor's machine: ``setup.sh`` has made
    ``ROOT/source`` (the reference solutions, ``course.yml`` and the course secret) and the
    installed kit readable by root only, and the grader runs as root.
    """
    import rnnkit

    from ..course import load_course
    from ..sandbox.modes import describe
    from ..worker.confine import available_layers

    def private(path: Path) -> bool:
        try:
            return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
        except OSError:
            return False

    source, kit = Path(root) / "source", Path(rnnkit.__file__).parent
    uid = 0 if os.geteuid() == 0 and mode != "none" else None
    if course is None:  # setup.sh asks before any grading: the course is the zip's own
        course = load_course(source / "kit") if (source / "kit" / "course.yml").is_file() else load_course()
    layers = available_layers(course.limits.__dict__, uid, [str(source), str(kit)])
    words = describe(mode, layers)  # "uid" is among them when the workers get a uid of their own
    if mode == "none":
        return f"{words}; student code runs as the grader's own user"
    locked = [f"{p} is readable by root only" if private(p) else f"{p} is readable by others: run setup.sh as root" for p in (source, kit)]
    return f"{words}; {'; '.join(locked)}"


def _is_skipped_bonus(result, student) -> bool:
    """A bonus function the student did not attempt: still a stub, or its part not handed in."""
    notes = student.parts.get(result.function.part)
    return result.function.bonus and (result.not_implemented or notes is None or not notes.filename)


def _extra_credit(data: dict, student, course: Course) -> None:
    """Bonus functions as Gradescope extra credit, so that every total agrees.

    A test's ``max_score`` is what the assignment's total is made of; a bonus test
    gets ``max_score`` 0 and its points as ``score``, which Gradescope adds above the
    total. So the tests' maxima add up to the course's possible points (bonus
    excluded), the top-level ``score`` is the sum of the tests' scores (bonus
    included), and the summary line says both. A bonus nobody attempted is not a
    failure: its ``status`` is ``passed`` and its output says it was optional.
    """
    results = list(student.functions.values())
    for test, result in zip(data.get("tests", []), results):
        if not result.function.bonus:
            continue
        test["max_score"] = 0
        test["score"] = result.score
        worth = f"Bonus (extra credit): up to {result.function.points:g} points above the total."
        if _is_skipped_bonus(result, student):
            test["status"] = "passed"
            test["output"] = f"{worth} Not attempted; nothing is lost."
        else:
            test["status"] = "passed" if result.passed else "failed"
            test["output"] = f"{worth}\n\n{test.get('output', '')}"
    bonus = round(sum(r.score for r in results if r.function.bonus), 2)
    total = round(sum(test["score"] for test in data.get("tests", [])), 2)
    data["score"] = total
    line = f"{total:g} / {course.possible:g} points"
    if bonus:
        line += f", {bonus:g} of them extra credit from bonus functions"
    data["output"] = line + ". Each test below is one function."


def results(student, course: Course, visibility: str, mode_words: str) -> dict:
    """Gradescope's results.json: the kit's per-function tests, with notes about the files graded."""
    from ..feedback import gradescope_results, safe_inline
    from ..outputs.safe import md_code, md_text

    data = gradescope_results(student, course)
    _extra_credit(data, student, course)
    lines = [data.get("output", "")]
    for part in course.parts:  # student text (messages, file names, errors) quoted inert, as in feedback.md
        notes = student.parts.get(part.name)
        if notes is None:
            continue
        for message in notes.messages:
            lines.append(f"- `{part.name}`: {safe_inline(message)}")
        for error in notes.cell_errors:
            lines.append(f"- {md_code(str(notes.filename))}: cell {md_text(error.get('cell'))} raised {md_code(str(error.get('summary')))}; the cells after it still ran.")
    data["output"] = "\n".join(line for line in lines if line)
    data["output_format"] = "md"
    for test in data.get("tests", []):
        test["visibility"] = visibility
    data["visibility"] = visibility
    data["stdout_visibility"] = "hidden"
    data["extra_data"] = {"rnnkit_sandbox": mode_words}
    return data


def run(root: Path, seed: int | None = None, visibility: str = "visible") -> int:
    """Grade ``root/submission`` and write ``root/results/results.json``; 0 when graded."""
    from ..course import load_course
    from ..grading import grade_class
    from ..sandbox.modes import best_mode

    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        course = load_course()
        submission = find_submission(root / "submission", course)
        mode = best_mode()
        words = sandbox_words(root, mode, course)
        print(f"rnnkit: grading {len(submission.files)} part file(s) in the {mode} sandbox: {words}")
        (student,) = grade_class([submission], course, seed=seed, jobs=os.cpu_count() or 1, mode=mode)
        data = results(student, course, visibility, words)
        if not submission.files:
            data["output"] = (
                "No notebook of the course was found in your submission: hand in "
                + ", ".join(f"`{p.name}.ipynb`" for p in course.parts)
                + " (or `.py` files of the same names).\n\n"
                + data["output"]
            )
        status = 0
    except Exception:
        traceback.print_exc()
        data = {
            "score": 0,
            "output": "The autograder could not grade this submission (an error in the grader, not in your code). Please tell your instructor.",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [],
        }
        status = 1
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"rnnkit: wrote {out} (score {data['score']:g}).")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnkit.export.gradescope", description="Grade a Gradescope submission.")
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder")))
    parser.add_argument("--seed", type=int, default=None, help="the same hidden inputs for everyone (default: per student)")
    parser.add_argument("--visibility", choices=VISIBILITIES, default="visible")
    parser.add_argument("--describe-sandbox", action="store_true", help="Say what the sandbox protects here, then exit.")
    parser.add_argument("--build-tables", action="store_true", help="Build the diagnosis's tables into the course's cache (setup.sh), then exit.")
    args = parser.parse_args(argv)
    if args.build_tables:
        from ..course import load_course
        from ..grading import build_tables

        print(f"rnnkit: the diagnosis's tables built for {build_tables(load_course())} functions.")
        return 0
    if args.describe_sandbox:
        from ..sandbox.modes import best_mode

        print("rnnkit sandbox:", sandbox_words(args.root, best_mode()))
        return 0
    return run(args.root, args.seed, args.visibility)


if __name__ == "__main__":
    sys.exit(main())
