"""Code similarity: copydetect's winnowed fingerprints, weighted by how rare they are in the class.

Each student's own code becomes copydetect's token text (:mod:`.tokens`:
every identifier ``V``/``F``, strings ``S``, comments and white space gone, so
renaming, re-commenting and reformatting change nothing); copydetect hashes
every k-gram of it and keeps a winnowed sample (the winnowing algorithm behind
MOSS: every match of ``guarantee`` tokens is found, none under ``noise``).

On top of that, per part:

* the kit's own lines never reach it (:mod:`.extract` removes them), and
  each chunk (a cell, a top-level function) is fingerprinted on its own, so
  reordering functions changes nothing;
* fingerprints found in many students' files (``common_fraction`` of the class,
  and at least 3) are what correct solutions converge on: discarded too;
* every other fingerprint weighs ``log((N + 1) / df)`` (``df``: how many of the
  ``N`` students have it), so the lines half the class writes count for little
  and a passage only two students share counts most.

A pair's code similarity for a part is the weighted Dice coefficient of their
fingerprint sets: ``2 * shared / (mine + yours)``, 0 (nothing alike) to 1 (the same).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..lean_imports import copydetect_utils
from .tokens import Fingerprint, fingerprint


@dataclass
class Document:
    student: str
    chunks: list[str]
    #: One fingerprint per chunk (None for a chunk too short to have one).
    fingerprints: list = field(default_factory=list)
    #: The hashes that count (class-common ones removed).
    hashes: frozenset = frozenset()
    mass: float = 0.0
    tokens: int = 0

    @property
    def code(self) -> str:
        return "".join(self.chunks)


@dataclass
class PartIndex:
    part: str
    k: int = 20
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
        """Character ranges, in each student's code, of the passages whose fingerprints both have."""
        da, db = self.documents.get(a), self.documents.get(b)
        if da is None or db is None:
            return [], []
        shared = da.hashes & db.hashes
        return _ranges(da, shared), _ranges(db, shared)


def _ranges(doc: Document, shared: frozenset) -> list[tuple[int, int]]:
    get_copied_slices = copydetect_utils().get_copied_slices

    out, start = [], 0
    for chunk, fp in zip(doc.chunks, doc.fingerprints):
        if fp is not None:
            idx = [i for h in fp.hashes & shared for i in fp.hash_idx[h]]
            if idx:
                slices = get_copied_slices(np.array(idx, dtype=int), fp.k)
                for s, e in zip(slices[0], slices[1]):
                    a, b = fp.code_range(int(s), int(e))
                    out.append((start + a, start + b))
        start += len(chunk)
    return out


def index_part(part: str, codes: dict[str, list[str]], settings: dict) -> PartIndex:
    """Fingerprint every student's code (chunks) for ``part`` and weigh each fingerprint by its rarity."""
    k, window = int(settings["noise"]), int(settings["guarantee"]) - int(settings["noise"]) + 1
    index = PartIndex(part, k)
    df: Counter = Counter()
    seen: dict[str, Fingerprint | None] = {}  # the same chunk twice (a helper pasted from Part 1) is lexed once
    for student, chunks in codes.items():
        doc = Document(student, list(chunks))
        hashes: set = set()
        for chunk in doc.chunks:
            if chunk not in seen:
                seen[chunk] = fingerprint(chunk, k, max(1, window))
            fp = seen[chunk]
            doc.fingerprints.append(fp)
            if fp is not None:
                hashes |= fp.hashes
                doc.tokens += len(fp.filtered_code)
        if doc.tokens >= int(settings["min_tokens"]):
            doc.hashes = frozenset(hashes)
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
