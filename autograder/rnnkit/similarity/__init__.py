"""Copied work, found: which pairs of students handed in suspiciously alike code.

The integrator's one call, after grading::

    report = write_similarity(out_dir, submissions, students, course, settings)

writes ``out_dir/similarity.csv`` and ``out_dir/similarity/<pair>.html`` (the
evidence, side by side) and returns a :class:`SimilarityReport` whose
``html_section()`` goes into ``report.html``.

Two kinds of evidence, per pair of students:

* **code** (:mod:`.fingerprints`): copydetect's winnowed fingerprints of each
  student's own code (:mod:`.extract`: the released notebook's lines and the
  kit's are removed first, then every fingerprint of the starter code itself),
  tokenized so names, comments and layout do not matter, weighted by rarity in
  the class (weighted only: a group sharing code is found however large it
  is); per part a weighted Dice coefficient, 0 to 1, and overall the same over
  every part both handed in;
* **mistakes** (:mod:`.behaviour`): the named mistakes the two share, weighed by
  how rare each is in the class; 0 to 1, and 0 unless they share mistakes in
  at least ``min_shared_mistakes`` functions.

``score = code + mistakes_weight * mistakes`` (0 to 1.3). A pair is *flagged*
when its score reaches ``threshold``, or, if ``part_threshold`` is set, when one
part's code similarity reaches it (one part copied, the rest not: off by
default, because on a short part independent correct solutions can match
entirely; see the similarity section of ``bench/results.md``). A flag is a reason to look at
the two files, never a verdict. The default threshold is calibrated on classes
of independent correct work built from the corpus (``bench/similarity.py``).

Beside the pairs, every part file whose graded functions are not in it as
source (:mod:`.hidden`: code made at run time with ``exec``/``marshal``/
``importlib``..., encoded blobs, graded functions imported or bound to
something else) is listed as "source hidden: cannot be compared", with the
reasons: such a file can hold a classmate's exact code and match nothing.

Settings (``similarity:`` in ``course.yml``; every key optional):

==========================  =======  ==============================================
key                         default  meaning
==========================  =======  ==============================================
``enabled``                 true     false: write nothing, return an empty report
``threshold``               0.85     pair score at or above which a pair is flagged
``part_threshold``          null     one part's code similarity that flags the pair (off)
``mistakes_weight``         0.3      how much shared rare mistakes add to the score
``mistake_bits``            16       rarity (bits) of shared mistakes that counts fully
``min_shared_mistakes``     2        shared mistakes must be in this many functions
``common_fraction``         null     fingerprints in this share of the class are ignored (off)
``min_tokens``              40       parts with less own code (tokens) are not compared
``noise``                   20       copydetect's noise threshold k (tokens)
``guarantee``               25       copydetect's guarantee threshold (tokens)
``listed``                  20       unflagged pairs listed too, strongest first (CSV)
==========================  =======  ==============================================
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from ..course import Course
from ..discovery import Submission
from ..results import StudentResult
from .behaviour import MistakeIndex, SharedMistake
from .extract import boilerplate_lines, own_chunks, part_cells, template_cells
from .fingerprints import PartIndex, index_part, template_hashes
from .hidden import HiddenSource, hidden_reasons

DEFAULTS: dict = {
    "enabled": True,
    "threshold": 0.85,
    "part_threshold": None,
    "mistakes_weight": 0.3,
    "mistake_bits": 16,
    "min_shared_mistakes": 2,
    "common_fraction": None,
    "min_tokens": 40,
    "noise": 20,
    "guarantee": 25,
    "listed": 20,
}


def resolve_settings(settings: dict | None) -> dict:
    """The defaults updated with ``settings`` (unknown keys are refused, so a typo is not silently ignored)."""
    merged = dict(DEFAULTS)
    for key, value in (settings or {}).items():
        if key not in DEFAULTS:
            raise ValueError(f"similarity: unknown setting {key!r}; the settings are {', '.join(DEFAULTS)}")
        merged[key] = value
    if int(merged["guarantee"]) < int(merged["noise"]):
        raise ValueError("similarity: guarantee must be at least noise")
    return merged


@dataclass
class PartMatch:
    part: str
    code: float  # weighted Dice, 0..1
    passages: tuple[list, list] = ((), ())  # character ranges in each student's code, filled for listed pairs


@dataclass
class Pair:
    a: str
    b: str
    score: float
    code: float
    mistakes: float
    parts: dict[str, PartMatch] = field(default_factory=dict)
    shared_mistakes: list[SharedMistake] = field(default_factory=list)
    flagged: bool = False
    reasons: list[str] = field(default_factory=list)
    page: str | None = None  # relative to out_dir: "similarity/<pair>.html"

    @property
    def strongest_part(self) -> PartMatch | None:
        return max(self.parts.values(), key=lambda m: m.code, default=None)


@dataclass
class SimilarityReport:
    #: Flagged pairs, then the strongest unflagged ones (``listed``), strongest first.
    pairs: list[Pair]
    students: int
    compared_pairs: int
    settings: dict
    csv_path: Path | None = None
    #: Part files whose graded functions are not in the file as source (:mod:`.hidden`): listed, not compared.
    hidden: list[HiddenSource] = field(default_factory=list)

    @property
    def flagged(self) -> list[Pair]:
        return [p for p in self.pairs if p.flagged]

    def html_section(self) -> str:
        from .output import html_section

        return html_section(self)


def index_codes(codes: dict[str, dict[str, list[str]]], course: Course, settings: dict) -> dict[str, PartIndex]:
    """Every part's fingerprints of the students' own code (no grades needed: it may run while they are graded)."""
    k = int(settings["noise"])
    return {
        part.name: index_part(part.name, codes.get(part.name, {}), settings, template_hashes(template_cells(course, part.name), k))
        for part in course.parts
    }


def analyse(
    codes: dict[str, dict[str, list[str]]], students: list[StudentResult], course: Course, settings: dict, indexes: dict[str, PartIndex] | None = None
) -> tuple[list[Pair], dict[str, PartIndex], int]:
    """Every pair's evidence; ``codes``: part -> student -> own code. Returns (pairs sorted, indexes, pairs compared)."""
    if indexes is None:
        indexes = index_codes(codes, course, settings)
    mistakes = MistakeIndex(students)
    names = sorted({s.student for s in students} | {s for part in codes.values() for s in part})
    pairs = []
    compared = 0
    weight = float(settings["mistakes_weight"])
    for a, b in combinations(names, 2):
        compared += 1
        parts, shared_mass, total_mass = {}, 0.0, 0.0
        for name, index in indexes.items():
            da, db = index.documents.get(a), index.documents.get(b)
            if da is None or db is None or not da.mass or not db.mass:
                continue
            dice, mass = index.similarity(a, b)
            parts[name] = PartMatch(name, dice)
            shared_mass += mass
            total_mass += (da.mass + db.mass) / 2
        code = shared_mass / total_mass if total_mass else 0.0
        shared = mistakes.shared(a, b)
        evidence = MistakeIndex.evidence(shared, settings)
        if not code and not evidence:
            continue
        pair = Pair(a, b, code + weight * evidence, code, evidence, parts, shared)
        if pair.score >= float(settings["threshold"]):
            pair.flagged = True
            pair.reasons.append(f"score {pair.score:.2f} ≥ {float(settings['threshold']):.2f}")
        for m in parts.values() if settings["part_threshold"] is not None else ():
            if m.code >= float(settings["part_threshold"]):
                pair.flagged = True
                pair.reasons.append(f"{m.part} code {m.code:.2f} ≥ {float(settings['part_threshold']):.2f}")
        pairs.append(pair)
    pairs.sort(key=lambda p: (not p.flagged, -p.score, -max((m.code for m in p.parts.values()), default=0), p.a, p.b))
    return pairs, indexes, compared


def read_class(submissions: list[Submission], course: Course) -> tuple[dict[str, dict[str, list[str]]], list[HiddenSource]]:
    """(part -> student -> the student's own code for that part in chunks, the part files whose source is hidden)."""
    limit = course.limits.submission_kb * 1024
    codes: dict[str, dict[str, list[str]]] = {p.name: {} for p in course.parts}
    graded = {p.name: [f.name for f in p.functions] for p in course.parts}
    own_modules = frozenset(codes)
    hidden = []
    for sub in submissions:
        for part, path in sub.files.items():
            if part in codes:
                cells = part_cells(Path(path), limit)
                try:
                    codes[part][sub.student] = own_chunks(cells, course, part)
                    reasons = hidden_reasons(cells, graded[part], boilerplate_lines(course, part), own_modules)
                except (RecursionError, MemoryError):  # a file built to break the reader costs only itself
                    codes[part][sub.student] = []
                    reasons = ["the file's code is nested too deeply to be read"]
                if reasons:
                    hidden.append(HiddenSource(sub.student, part, reasons))
    return codes, hidden


def student_codes(submissions: list[Submission], course: Course) -> dict[str, dict[str, list[str]]]:
    """part -> student -> the student's own code for that part, in chunks."""
    return read_class(submissions, course)[0]


def prepare_codes(submissions: list[Submission], course: Course, settings: dict | None = None) -> tuple | None:
    """The code half of the evidence, which needs no grades: (codes, indexes, hidden), or None when the report is off.

    ``rnnkit grade`` computes it in a thread while the class is graded, then hands it to :func:`write_similarity`.
    """
    settings = resolve_settings(settings)
    if not settings["enabled"]:
        return None
    codes, hidden = read_class(submissions, course)
    return codes, index_codes(codes, course, settings), hidden


def write_similarity(
    out_dir: Path,
    submissions: list[Submission],
    students: list[StudentResult],
    course: Course,
    settings: dict | None = None,
    prepared: tuple | None = None,
) -> SimilarityReport:
    """Find alike pairs; write ``out_dir/similarity.csv`` and ``out_dir/similarity/<pair>.html``; return the report.

    ``prepared``: what :func:`prepare_codes` returned for the same submissions and settings (else it is computed here).
    """
    from .output import write_outputs

    settings = resolve_settings(settings)
    out_dir = Path(out_dir)
    if not settings["enabled"]:
        return SimilarityReport([], len(students), 0, settings)
    codes, indexes, hidden = prepared if prepared is not None else prepare_codes(submissions, course, settings)
    pairs, indexes, compared = analyse(codes, students, course, settings, indexes)
    flagged = [p for p in pairs if p.flagged]
    listed = flagged + [p for p in pairs if not p.flagged][: max(0, int(settings["listed"]))]
    for pair in listed:
        for name, match in pair.parts.items():
            match.passages = indexes[name].matching_slices(pair.a, pair.b)
    report = SimilarityReport(listed, len({s.student for s in students} | {s.student for s in submissions}), compared, settings, hidden=hidden)
    write_outputs(out_dir, report, codes)
    return report


__all__ = ["write_similarity", "prepare_codes", "SimilarityReport", "Pair", "PartMatch", "HiddenSource", "DEFAULTS", "resolve_settings"]
