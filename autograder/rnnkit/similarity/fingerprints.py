"""Code similarity: copydetect's winnowed fingerprints, weighted by how rare they are in the class.

Each student's own code becomes copydetect's token text (:mod:`.tokens`:
every identifier ``V``/``F``, strings ``S``, comments and white space gone, so
renaming, re-commenting and reformatting change nothing); copydetect hashes
every k-gram of it and keeps a winnowed sample (the winnowing algorithm behind
MOSS: every match of ``guarantee`` tokens is found, none under ``noise``).

On top of that, per part:

* the starter code never counts: :mod:`.extract` removes its lines, and
  every k-gram of the starter code's own token text (:func:`template_hashes`:
  the released notebook and the reference with its solutions stubbed out) is
  removed from every student's fingerprints, so what students were given is
  excluded by what it is, however they re-indent, rename or re-wrap it; a
  student's code left with fewer than ``min_tokens`` tokens of their own is
  not compared at all;
* each chunk (a cell, a top-level function) is fingerprinted on its own, so
  reordering functions changes nothing;
* every other fingerprint weighs ``log((N + 1) / df)`` (``df``: how many of the
  ``N`` students have it), so the lines half the class writes count for little
  and a passage only two students share counts most. How common a passage is
  only weighs it, never removes it: a group that shares its code is a group
  however large, and when they share everything their similarity is 1.
  ``common_fraction`` (off by default) brings back the old discard of
  fingerprints that this share of the class (and at least 3) has, for a course
  whose students are given code the kit does not know about.

A pair's code similarity for a part is the weighted Dice coefficient of their
fingerprint sets: ``2 * shared / (mine + yours)``, 0 (nothing alike) to 1 (the same).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..lean_imports import copydetect_utils
from .tokens import Fingerprint, fingerprint, token_text


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
    #: Hashes discarded for being common (only with ``common_fraction`` set).
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


def template_hashes(texts, k: int) -> frozenset:
    """Every k-gram hash (not a winnowed sample) of the token text of each of ``texts``, the starter code."""
    kgrams = copydetect_utils().hashed_kgrams
    out: set = set()
    for text in texts:
        if text.strip():
            tokens = token_text(text)[0]
            if len(tokens) >= k:
                out.update(int(h) for h in kgrams(tokens, k))
    return frozenset(out)


def _own_tokens(fp: Fingerprint, excluded: frozenset) -> int:
    """Token characters of the chunk not covered only by starter-code k-grams."""
    if not excluded or not (fp.hashes & excluded):
        return len(fp.filtered_code)
    kept = np.zeros(len(fp.filtered_code), dtype=bool)
    given = np.zeros(len(fp.filtered_code), dtype=bool)
    for h, starts in fp.hash_idx.items():
        target = given if h in excluded else kept
        for i in starts:
            target[i : i + fp.k] = True
    return int(len(fp.filtered_code) - np.count_nonzero(given & ~kept))


def index_part(part: str, codes: dict[str, list[str]], settings: dict, template: frozenset = frozenset()) -> PartIndex:
    """Fingerprint every student's code (chunks) for ``part`` and weigh each fingerprint by its rarity.

    ``template``: the starter code's hashes (:func:`template_hashes`), never evidence.
    """
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
                doc.tokens += _own_tokens(fp, template)
        if doc.tokens >= int(settings["min_tokens"]):
            doc.hashes = frozenset(hashes - template)
            df.update(doc.hashes)
        index.documents[student] = doc
    n = sum(1 for d in index.documents.values() if d.hashes)
    fraction = settings.get("common_fraction")
    if fraction is not None:
        limit = max(3, math.ceil(float(fraction) * n))
        index.common = frozenset(h for h, c in df.items() if c >= limit)
    index.weights = {h: math.log((n + 1) / c) for h, c in df.items() if h not in index.common}
    for doc in index.documents.values():
        doc.hashes = frozenset(h for h in doc.hashes if h not in index.common)
        doc.mass = sum(index.weights[h] for h in doc.hashes)
    return index
