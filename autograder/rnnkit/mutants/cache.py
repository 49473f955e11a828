"""The generated models' tables, kept between runs of the same course (the catalogue's probe tables use it too,
in ``cache/catalogue/``, with the catalogue's code in their key: :class:`rnnkit.diagnosis.matching.VariantProbes`).

Building a function's table runs every mutant that reaches it on the probes: about a
second and a half for the whole course, in every grading run, though the reference
and the probes are the same for every class. Each table is kept in
``<course>/.rnnkit/cache/generated/`` (a folder only the instructor may read, like the
course secret: the tables hold near-reference outputs on hidden inputs), in a file
named after a hash of everything it depends on: the part's reference code, the
function's probe inputs and answers, the tolerance, the mutation code and numpy's
version. Anything changed, and the file name changes with it.

Plain arrays and JSON only (``numpy.load`` with ``allow_pickle=False``). A file that
cannot be read or written is ignored: the table is built as if there were no cache.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..worker import calls

#: The sources whose change changes what a table holds.
_CODE = ("generate.py", "operators.py", "notation.py", "match.py")


def _tuples(value: Any) -> Any:
    """JSON's lists back into the tuples of :func:`~.match.flatten`'s structures."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


class TableCache:
    """Tables on disk, one file per (part, function) and key."""

    def __init__(self, folder: Path | None, rtol: float, atol: float):
        self.folder = Path(folder) if folder is not None else None
        code = b"".join((Path(__file__).with_name(name)).read_bytes() for name in _CODE)
        self._salt = hashlib.sha256(code + f"{rtol!r} {atol!r} {np.__version__}".encode()).digest()

    def path(self, part: str, function: str, source: str, probes: list, answers: list) -> Path | None:
        """The file of this table under its key (None: no cache, or probes that cannot be hashed)."""
        if self.folder is None:
            return None
        try:
            data = calls.to_bytes(*calls.encode({"probes": [c.args for c in probes], "answers": list(answers)}))
        except calls.EncodingError:
            return None
        key = hashlib.sha256(self._salt + source.encode() + data).hexdigest()[:24]
        return self.folder / f"{part}.{function}.{key}.npz"

    @staticmethod
    def load(path: Path | None, by_id: dict) -> list | None:
        """``[(structure, [mutants], matrix)]`` as saved at ``path``, or None (no file, unreadable, or a mutant unknown)."""
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                index = json.loads(str(stored["index"]))
                rows = [(_tuples(row["structure"]), [by_id[i] for i in row["ids"]], np.array(stored[f"m{n}"], dtype=float)) for n, row in enumerate(index)]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return rows

    @staticmethod
    def save(path: Path | None, rows: list) -> None:
        """Keep ``rows`` (``[(structure, [mutants], matrix)]``) at ``path``; never raises."""
        if path is None:
            return
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the leaf, private: the files' folder
            index = [{"structure": structure, "ids": [m.id for m in mutants]} for structure, mutants, _ in rows]
            arrays = {f"m{n}": matrix for n, (_, _, matrix) in enumerate(rows)}
            fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.savez(f, index=np.array(json.dumps(index)), **arrays)
            os.replace(temporary, path)
        except (OSError, ValueError, TypeError):
            pass
