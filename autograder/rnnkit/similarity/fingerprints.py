"""Code similarity: copydetect's winnowed fingerprints, weighted by how rare they are in the class.

copydetect (the winnowing algorithm behind MOSS) tokenizes each student's own
code with pygments: every identifier becomes ``V``/``F``, strings ``S``,
comments and white space vanish, so renaming, re-commenting and reformatting
change nothing. It hashes every k-gram of that token text and keeps a winnowed
sample (at least one per ``guarantee`` characters).

On top of that, per part:

* fingerprints of the kit's own lines (stub notebook, reference outside its
  solutions) are boilerplate, handed to copydetect to discard;
* fingerprints found in many students' files (``common_fraction`` of the class,
  and at least 3) are what correct solutions converge on: discarded too;
* every other fingerprint weighs ``log((N + 1) / df)`` (``df``: how many of the
  ``N`` students have it), so the lines half the class writes count for little
  and a passage only two students share counts most.

A pair's code similarity for a part is the weighted Dice coefficient of their
fingerprint sets: ``2 * shared / (mine + yours)``, 0 (nothing alike) to 1 (the same).
"""
from __future__ import annotations

import io
import logging
import math
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from copydetect.detector import CodeFingerprint, compare_files

logging.getLogger("copydetect").setLevel(logging.ERROR)


@dataclass
class Document:
    student: str
    code: str
    fingerprint: CodeFingerprint | None
    #: The hashes that count (boilerplate and class-common ones removed).
    hashes: frozenset = frozenset()
    mass: float = 0.0


@dataclass
class PartIndex:
    part: str
    documents: dict[str, Document] = field(default_factory=dict)
    weights: dict[int, float] = field(default_factory=dict)
    common: frozenset = frozenset()

    def similarity(self, a: str, b: str) -> tuple[float, float]:
        """(weighted Dice, shared mass) of students ``a`` and ``b``; (0, 0) when either wrote nothing."""
        da, db = self.documents.get(a), self.documents.get(b)
        if da is None or db is None or not da.mass or not db.mass:
            return 0.0, 0.0
        shared = da.hashes & db.hashes
        if not shared:
            return 0.0, 0.0
        w = self.weights
        mass = sum(w[h] for h in shared)
        return 2 * mass / (da.mass + db.mass), mass

    def matching_slices(self, a: str, b: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Character ranges of the matching passages in ``a``'s and ``b``'s code (copydetect's slices)."""
        da, db = self.documents.get(a), self.documents.get(b)
        if da is None or db is None or da.fingerprint is None or db.fingerprint is None:
            return [], []
        fa, fb = _restricted(da), _restricted(db)
        _, _, (sa, sb) = compare_files(fa, fb)
        return _ranges(sa), _ranges(sb)


def _ranges(slices) -> list[tuple[int, int]]:
    slices = np.asarray(slices)
    if slices.ndim != 2 or slices.shape[1] == 0:
        return []
    return [(int(s), int(e)) for s, e in zip(slices[0], slices[1])]


class _View:
    """A fingerprint limited to the hashes that count, in the shape ``compare_files`` reads."""

    def __init__(self, doc: Document):
        fp = doc.fingerprint
        self.k = fp.k
        self.hashes = set(doc.hashes)
        self.hash_idx = {h: fp.hash_idx[h] for h in doc.hashes}
        self.filtered_code = fp.filtered_code
        self.offsets = fp.offsets
        self.token_coverage = max(1, fp.token_coverage)


def _restricted(doc: Document) -> _View:
    return _View(doc)


def fingerprint(code: str, k: int, window: int, boilerplate: np.ndarray | None = None) -> CodeFingerprint | None:
    if not code.strip():
        return None
    try:
        return CodeFingerprint("student.py", k, window, boilerplate=boilerplate, language="python", fp=io.StringIO(code))
    except Exception:  # noqa: BLE001 - a file pygments cannot read is simply not compared
        return None


def boilerplate_hashes(texts: list[str], k: int, window: int) -> np.ndarray:
    """Every k-gram hash of the kit's own text (not winnowed: all of them are discarded)."""
    hashes: set[int] = set()
    for text in texts:
        fp = fingerprint(text, k, 1)
        if fp is not None:
            hashes |= fp.hashes
    return np.array(sorted(hashes), dtype=np.int64) if hashes else np.array([], dtype=np.int64)


def index_part(part: str, codes: dict[str, str], boilerplate: np.ndarray, settings: dict) -> PartIndex:
    """Fingerprint every student's code for ``part`` and weigh each fingerprint by its rarity."""
    k, window = int(settings["noise"]), int(settings["guarantee"]) - int(settings["noise"]) + 1
    index = PartIndex(part)
    df: Counter = Counter()
    for student, code in codes.items():
        fp = fingerprint(code, k, max(1, window), boilerplate)
        doc = Document(student, code, fp)
        if fp is not None and fp.token_coverage >= int(settings["min_tokens"]):
            doc.hashes = frozenset(fp.hashes)
            df.update(doc.hashes)
        index.documents[student] = doc
    n = sum(1 for d in index.documents.values() if d.hashes)
    limit = max(3, math.ceil(float(settings["common_fraction"]) * n))
    index.common = frozenset(h for h, c in df.items() if c >= limit)
    index.weights = {h: math.log((n + 1) / c) for h, c in df.items() if h not in index.common}
    for doc in index.documents.values():
        doc.hashes = frozenset(h for h in doc.hashes if h not in index.common)
        doc.mass = sum(index.weights[h] for h in doc.hashes)
    return index
