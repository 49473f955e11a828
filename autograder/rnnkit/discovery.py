"""Finding submissions: which file of a student's folder is which part.

A part's file is ``<part>.ipynb`` or ``<part>.py``. Students also hand in the
obvious renamings that browsers and file managers make: a copy suffix
(``rnn_forward (1).ipynb``, ``rnn_forward copy.ipynb``, ``rnn_forward - Copy.ipynb``,
``rnn_forward-1.ipynb``, ``Copy of rnn_forward.ipynb``) or another case of
the name (``RNN_Forward.ipynb``; the suffix must be ``.ipynb`` or ``.py``). Such a file is graded as the part, with a note in the
feedback; the exact name is preferred whenever it is there too. When a part is
missing, the note lists the files that were found, so a student sees at once
what went wrong.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from .course import Course
from .outputs.safe import shown_name

SUFFIXES = (".ipynb", ".py")

#: A copy suffix at the end of a file's stem: " (1)", " copy", " copy 2", " - Copy", " - Copy (2)", "-1", "_2", " 3".
_COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|\s*-\s*copy(?:\s*\(\d+\))?|\s+copy(?:\s*\d+)?|[-_ ]\d+)$", re.IGNORECASE)
#: A copy prefix: "Copy of " (Google Drive).
_COPY_PREFIX = re.compile(r"^copy of\s+", re.IGNORECASE)


@dataclass
class Submission:
    student: str
    folder: Path
    files: dict[str, Path]  # part -> file
    ignored: list[str]
    notes: dict[str, list[str]]  # part -> messages about the choice of file


@dataclass(frozen=True)
class PartFile:
    """A file that is, or obviously was meant to be, a part's file."""

    path: Path
    part: str
    #: True for ``<part>.ipynb`` / ``<part>.py`` exactly; False for a renaming.
    exact: bool

    @property
    def proper_name(self) -> str:
        """The name the file should have had: ``<part>`` with its suffix."""
        return self.part + self.path.suffix

    def sort_key(self, relative_to: Path | None = None) -> tuple:
        """Exact names first, then notebooks before modules, then the newest copy, then by name."""
        try:
            newest_first = -self.path.lstat().st_mtime
        except OSError:
            newest_first = 0.0
        shown = self.path.relative_to(relative_to) if relative_to else Path(self.path.name)
        return (not self.exact, SUFFIXES.index(self.path.suffix), newest_first, str(shown))


def part_of(path: Path, parts: set[str]) -> PartFile | None:
    """The part ``path`` holds, judged by its name alone, or None when it is no part's file."""
    suffix = path.suffix
    if suffix not in SUFFIXES:  # the grader reads the file by its suffix: ".IPYNB" would not be read as a notebook
        return None
    stem = path.name[: -len(suffix)]
    if stem in parts:
        return PartFile(path, stem, exact=True)
    name = _COPY_PREFIX.sub("", stem.strip())
    while True:
        if name.lower() in parts:
            return PartFile(path, name.lower(), exact=False)
        shorter = _COPY_SUFFIX.sub("", name).strip()
        if shorter == name or not shorter:
            return None
        name = shorter


def choose(candidates: list[PartFile], relative_to: Path | None = None) -> tuple[PartFile, list[str]]:
    """The file to grade among a part's candidates, and the notes that explain the choice."""
    ordered = sorted(candidates, key=lambda c: c.sort_key(relative_to))
    chosen = ordered[0]

    def shown(candidate: PartFile) -> str:
        return str(candidate.path.relative_to(relative_to)) if relative_to else candidate.path.name

    notes = []
    if not chosen.exact:
        notes.append(f"Graded `{shown(chosen)}` as `{chosen.proper_name}`. Next time, name the file `{chosen.proper_name}`.")
    others = ordered[1:]
    if others:
        notes.append(f"`{shown(chosen)}` was graded; also handed in, not graded: {', '.join(f'`{shown(c)}`' for c in others)}.")
    return chosen, notes


def _missing_note(part: str, found: list[str]) -> str:
    if not found:
        return f"No `{part}.ipynb` or `{part}.py` was found: the folder holds no files."
    listed = ", ".join(f"`{name}`" for name in found[:20]) + (f" and {len(found) - 20} more" if len(found) > 20 else "")
    return f"No `{part}.ipynb` or `{part}.py` was found. The files found: {listed}. Hand in your notebook as `{part}.ipynb`."


def discover(class_dir: Path, course: Course) -> list[Submission]:
    """One :class:`Submission` per student folder (or the folder itself, if it holds part files)."""
    class_dir = Path(class_dir)
    if not class_dir.is_dir():
        raise FileNotFoundError(f"{class_dir} is not a folder")
    parts = {p.name for p in course.parts}
    if any(part_of(p, parts) for p in class_dir.iterdir() if not p.is_dir()):
        return [_submission(class_dir.resolve().name, class_dir, course)]
    folders = sorted(p for p in class_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    return [_linked(folder, course) if folder.is_symlink() else _submission(folder.name, folder, course) for folder in folders]


def _linked(folder: Path, course: Course) -> Submission:
    """A student folder that is a symbolic link: listed with a note and graded as empty (it could point anywhere)."""
    note = (f"The folder {shown_name(folder.name)} is a symbolic link, which is not followed (it could point at any "
            "files); nothing in it was graded. Copy the files into a real folder.")
    return Submission(folder.name, folder, {}, [], {part.name: [note] for part in course.parts})


def _submission(student: str, folder: Path, course: Course) -> Submission:
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        note = f"The folder {folder.name} could not be read ({exc.strerror}); ask your instructor to check its permissions."
        return Submission(student, folder, {}, [], {part.name: [note] for part in course.parts})
    parts = {p.name for p in course.parts}
    visible = [entry for entry in entries if not entry.name.startswith(".")]
    candidates: dict[str, list[PartFile]] = {}
    for entry in visible:
        found = part_of(entry, parts) if entry.is_file() or entry.is_symlink() else None
        if found is not None:
            candidates.setdefault(found.part, []).append(found)
    files: dict[str, Path] = {}
    notes: dict[str, list[str]] = {}
    for part in course.parts:
        if part.name in candidates:
            chosen, part_notes = choose(candidates[part.name])
            files[part.name] = chosen.path
            if part_notes:
                notes[part.name] = part_notes
        else:
            notes[part.name] = [_missing_note(part.name, [shown_name(e.name) + ("/" if e.is_dir() else "") for e in visible])]
    chosen_paths = set(files.values())
    ignored = [shown_name(entry.name) for entry in visible if entry not in chosen_paths]  # a name may not be UTF-8
    return Submission(student, folder, files, ignored, notes)


def read_submission_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file, refusing symlinks (a link could point at the reference)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"{path.name} is {info.st_size // 1024} KB, more than the {max_bytes // 1024} KB allowed")
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(max_bytes + 1)
    finally:
        os.close(fd)
