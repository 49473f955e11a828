"""Function calls as plain data: how arguments travel to student code and results back.

A value is encoded as a JSON *skeleton* plus a list of arrays, so that it can
cross a process boundary as JSON and raw array bytes, never as a pickle:

===============================  =======================================
value                            skeleton node
===============================  =======================================
``numpy.ndarray`` (numeric)      ``{"a": i}`` (the i-th array)
``bool`` / ``int`` / ``float``   ``{"b": v}`` / ``{"i": v}`` / ``{"f": v}``
``None``                         ``{"n": null}``
``tuple`` / ``list``             ``{"t": [...]}`` / ``{"l": [...]}``
``dict`` with ``str`` keys       ``{"d": {key: node}}``
:class:`Probe`                   ``{"p": name, "args": {key: node}}``
===============================  =======================================

A :class:`Probe` stands for a callable argument (``numerical_gradient``'s
``f``): only its name and parameters travel; the receiving side rebuilds it
from :data:`PROBES`.
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

#: Largest array (in elements) and deepest nesting accepted from a student's result.
MAX_ELEMENTS = 4_000_000
MAX_DEPTH = 8


class EncodingError(ValueError):
    """A value that cannot travel as plain data (its message is shown to students)."""


# --------------------------------------------------------------------------- probes


def _weighted_sines(x: np.ndarray, c: np.ndarray) -> float:
    """f(x) = sum(c * sin(x)) + sum(x**3) / 3: not quadratic, so eps matters."""
    # Array methods, not np.sum (half the time): a numerical gradient calls f twice per entry, on both sides of the sandbox.
    return float((c * np.sin(x)).sum() + (x * x * x).sum() / 3.0)


def _coupled(x: np.ndarray, A: np.ndarray, b: np.ndarray) -> float:
    """f(x) = sum(tanh(A @ x.ravel() + b)**2): every entry interacts with every other."""
    t = np.tanh(A @ x.ravel() + b)
    return float(t @ t)


def _exponential(x: np.ndarray, c: np.ndarray) -> float:
    """f(x) = sum(exp(c * x)): large higher derivatives, so a forward difference is far off."""
    return float(np.exp(c * x).sum())


PROBES: dict[str, Callable[..., float]] = {
    "weighted_sines": _weighted_sines,
    "coupled": _coupled,
    "exponential": _exponential,
}


@dataclass(frozen=True)
class Probe:
    """A named scalar function of one array, with fixed array parameters."""

    name: str
    params: dict[str, np.ndarray] = field(default_factory=dict)

    def build(self) -> Callable[[np.ndarray], float]:
        fn = PROBES[self.name]
        params = {k: np.array(v, copy=True) for k, v in self.params.items()}

        def f(x):
            return fn(np.asarray(x, dtype=float), **params)

        f.__name__ = f"f_{self.name}"
        return f


# --------------------------------------------------------------------------- encode / decode


def encode(value: Any) -> tuple[Any, list[np.ndarray]]:
    """Encode ``value`` into (skeleton, arrays); raise :class:`EncodingError` for anything else."""
    arrays: list[np.ndarray] = []

    def walk(v: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise EncodingError(f"the value is nested more than {MAX_DEPTH} levels deep")
        if isinstance(v, np.ndarray):  # first: the commonest by far
            if v.dtype.kind not in "biuf":
                raise EncodingError(f"an array of dtype {v.dtype} (expected real numbers)")
            if v.size > MAX_ELEMENTS:
                raise EncodingError(f"an array of {v.size} elements (more than {MAX_ELEMENTS})")
            arrays.append(np.array(v, order="C", subok=False))  # a plain copy; keeps 0-d arrays 0-d
            return {"a": len(arrays) - 1}
        if isinstance(v, Probe):
            return {"p": v.name, "args": {k: walk(a, depth + 1) for k, a in v.params.items()}}
        if isinstance(v, (bool, np.bool_)):
            return {"b": bool(v)}
        if isinstance(v, (int, np.integer)):
            return {"i": int(v)}
        if isinstance(v, (float, np.floating)):
            return {"f": _json_float(float(v))}
        if v is None:
            return {"n": None}
        if isinstance(v, tuple):
            return {"t": [walk(x, depth + 1) for x in v]}
        if isinstance(v, list):
            return {"l": [walk(x, depth + 1) for x in v]}
        if isinstance(v, dict):
            if not all(isinstance(k, str) for k in v):
                raise EncodingError("a dict whose keys are not all strings")
            return {"d": {k: walk(x, depth + 1) for k, x in v.items()}}
        raise EncodingError(f"a value of type {type(v).__name__}")

    return walk(value, 0), arrays


def _json_float(x: float) -> float | str:
    return x if math.isfinite(x) else repr(x)  # "nan", "inf", "-inf"


def decode(skeleton: Any, arrays: list[np.ndarray], *, rebuild_probes: bool = True) -> Any:
    """Inverse of :func:`encode`. Validates the skeleton: untrusted input is safe to pass."""

    def walk(node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH + 1 or not isinstance(node, dict) or len(node) not in (1, 2):
            raise EncodingError("malformed value")
        ((tag, v), *rest) = node.items()
        if tag == "a" and type(v) is int and 0 <= v < len(arrays):
            return arrays[v]
        if tag == "b" and isinstance(v, bool):
            return v
        if tag == "i" and type(v) is int:
            if not -(1 << 63) <= v < 1 << 63:
                raise EncodingError("an integer outside the 64-bit range")
            return v
        if tag == "f" and (isinstance(v, (int, float)) or v in ("nan", "inf", "-inf")) and not isinstance(v, bool):
            if type(v) is int and not -(1 << 1023) < v < 1 << 1023:
                raise EncodingError("a number too large for a float")
            return float(v)
        if tag == "n" and v is None:
            return None
        if tag in ("t", "l") and isinstance(v, list):
            items = [walk(x, depth + 1) for x in v]
            return tuple(items) if tag == "t" else items
        if tag == "d" and isinstance(v, dict):
            return {str(k): walk(x, depth + 1) for k, x in v.items()}
        if tag == "p" and isinstance(v, str) and v in PROBES and rest and rest[0][0] == "args":
            params = {str(k): walk(x, depth + 1) for k, x in rest[0][1].items()}
            probe = Probe(v, params)
            return probe.build() if rebuild_probes else probe
        raise EncodingError("malformed value")

    return walk(skeleton, 0)


#: Array dtypes that may travel: booleans, integers and floats of standard sizes, either byte order.
_DTYPES = {np.dtype(f"{order}{kind}{size}").str for order in "<>" for kind, sizes in (("b", (1,)), ("i", (1, 2, 4, 8)), ("u", (1, 2, 4, 8)), ("f", (2, 4, 8))) for size in sizes}
_HEADER = struct.Struct("!I")


def to_bytes(skeleton: Any, arrays: list[np.ndarray]) -> bytes:
    """A JSON header (the skeleton, and each array's dtype and shape) followed by the arrays' raw bytes.

    Not ``.npz``: decoding a zip member per array cost most of the grader's scoring time,
    and raw buffers read with ``np.frombuffer`` are just as safe (no pickle, ever).
    """
    meta = [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in arrays]
    head = json.dumps({"skeleton": skeleton, "arrays": meta}).encode()
    return b"".join([_HEADER.pack(len(head)), head, *(np.ascontiguousarray(a).tobytes() for a in arrays)])


def from_bytes(data: bytes, *, max_bytes: int = 256 * 2**20, rebuild_probes: bool = True, copy: bool = True) -> Any:
    """Decode :func:`to_bytes` output safely: no pickle, bounded size, validated structure.

    ``copy=False``: the arrays are read-only views of ``data`` (for inputs that are copied before each call anyway).
    """
    if len(data) > max_bytes:
        raise EncodingError(f"a result of {len(data)} bytes (more than {max_bytes})")
    try:
        (head_len,) = _HEADER.unpack_from(data)
        head = json.loads(bytes(data[_HEADER.size : _HEADER.size + head_len]))
        skeleton, meta = head["skeleton"], head["arrays"]
        offset = _HEADER.size + head_len
        arrays = []
        for entry in meta:
            dtype = entry["dtype"]
            shape = tuple(entry["shape"])
            if dtype not in _DTYPES or not all(type(n) is int and n >= 0 for n in shape):
                raise EncodingError("malformed value")
            size = math.prod(shape)
            if size > MAX_ELEMENTS:
                raise EncodingError("malformed value")
            nbytes = size * np.dtype(dtype).itemsize
            if offset + nbytes > len(data):
                raise EncodingError("malformed value")
            array = np.frombuffer(data, dtype=dtype, count=size, offset=offset).reshape(shape)
            arrays.append(array.copy() if copy else array)
            offset += nbytes
        if offset != len(data):
            raise EncodingError("malformed value")
    except EncodingError:
        raise
    except Exception as exc:  # truncated or corrupt bytes of any kind
        raise EncodingError(f"malformed value ({type(exc).__name__})") from None
    return decode(skeleton, arrays, rebuild_probes=rebuild_probes)


_LENGTH = struct.Struct("!Q")


def pack_inputs(scored: bytes, probes: bytes) -> bytes:
    """A task's inputs: two :func:`to_bytes` blobs of ``{"cases": {function: [argument tuples]}}``, the task's
    own scored cases and the part's probes (the same for every task of the part, so encoded once)."""
    return _LENGTH.pack(len(scored)) + scored + probes


def unpack_inputs(data: bytes) -> dict[str, list]:
    """Per function, the argument tuples of :func:`pack_inputs`: its scored cases, then its probes (read-only arrays)."""
    (length,) = _LENGTH.unpack_from(data)
    view = memoryview(data)
    scored = from_bytes(view[_LENGTH.size : _LENGTH.size + length], rebuild_probes=False, copy=False)["cases"]
    probes = from_bytes(view[_LENGTH.size + length :], rebuild_probes=False, copy=False)["cases"]
    return {name: [*args, *probes.get(name, [])] for name, args in scored.items()}


def _arrays(value: Any, path: str = "") -> list[tuple[str, np.ndarray]]:
    if isinstance(value, np.ndarray):
        return [(path, value)]
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _arrays(v, f"{path}[{k!r}]")]
    if isinstance(value, (tuple, list)):
        return [leaf for i, v in enumerate(value) for leaf in _arrays(v, f"{path}[{i}]")]
    return []


def _share(a: np.ndarray, b: np.ndarray) -> bool:
    if not np.may_share_memory(a, b):  # their memory bounds do not even overlap: the usual, cheap answer
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=100_000))
    except Exception:  # noqa: BLE001 - numpy.exceptions.TooHardError: too costly to decide exactly
        return bool(np.may_share_memory(a, b))


def aliases(result: Any, args: tuple, limit: int = 20) -> list[str]:
    """Paths of the arrays in ``result`` that share memory with an argument (``[0]['U']``: grads['U'] itself)."""
    given = [(f"[{i}]{path}", a) for i, arg in enumerate(args) for path, a in _arrays(arg)]
    found = []
    for path, array in _arrays(result):
        for where, a in given:
            if array.size and a.size and _share(array, a):
                found.append(f"{path}={where}"[:100])
                break
    return found[:limit]


def outline(value: Any) -> str:
    """A few words for the type and shape of a value, never its numbers (for a result too large to send)."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, dict):
        return f"a dict of {len(value)} keys"
    return f"a value of type {type(value).__name__}"


def copy_value(value: Any) -> Any:
    """A deep copy of an encodable value (arrays copied, probes kept)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return tuple(copy_value(v) for v in value)
    if isinstance(value, list):
        return [copy_value(v) for v in value]
    if isinstance(value, dict):
        return {k: copy_value(v) for k, v in value.items()}
    return value
