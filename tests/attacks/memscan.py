# A student who implements nothing and looks for classmates' work in its own process memory:
# every writable mapping of /proc/self/maps (read through /proc/self/mem, or with ctypes when
# that is refused), and every str/bytes object gc can see. It looks for
#   * the marker each honest classmate put in a comment: Z Q X <student> Q X Z (built at run
#     time, so this file never contains one);
#   * result frames the grader's side relayed for earlier students: '"event": "case", ...';
#   * the values a marked classmate returned (raw float64 bytes or text), whatever the framing.
# MODE "report": every function raises an exception saying what was found.
# MODE "source": exec a classmate's whole file found in memory (from the marker to its end
#                marker) and use its functions.
# MODE "frames": decode earlier students' result frames and return their results, case by case.
import gc
import json
import os
import re
import struct
import time

MODE = @@MODE@@
FUNCS = @@FUNCS@@
BUDGET = 6.0

_Z = bytes([90, 81, 88])  # the marker's opening letters
_E = bytes([81, 88, 90])  # its closing letters
MARK_RE = re.compile(_Z + rb"([a-z0-9_]{1,40})" + _E)
END = bytes([35, 32]) + _E + bytes([69, 78, 68])  # "# " + closing letters + "END"
FRAME_RE = re.compile(rb'"event": "case", "function": "([a-z_]+)", "case": ([0-9]+), "ok": true')

# The values a marked classmate returned (computed here, so this file's text holds none of them):
# found as raw float64 array bytes, or as text, they are an earlier student's results, whatever
# the grader's framing. The needle stops one value short and the last value is checked after it,
# so the needle itself (followed by a NUL) never counts.
MAGIC = [(k + 1) * 1111.1111111111111 for k in range(4)]
BIN_NEEDLE, BIN_LAST = struct.pack("<3d", *MAGIC[:3]), struct.pack("<d", MAGIC[3])
TXT_NEEDLE, TXT_LAST = repr(MAGIC[2]).encode(), repr(MAGIC[3]).encode()
magic_hits = 0

found_markers = set()
found_frames = {}  # (function, case) -> result
frame_hits = 0
sources = []
via = []


def _regions():
    out = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            perms = parts[1]
            path = parts[5] if len(parts) > 5 else ""
            if "r" not in perms or "w" not in perms or path in ("[vvar]", "[vsyscall]", "[vdso]"):
                continue
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            out.append((lo, hi))
    return out


try:
    _mem = open("/proc/self/mem", "rb", buffering=0)
    via.append("mem")
except OSError as exc:
    _mem = None
    via.append(f"ctypes({type(exc).__name__})")


def _read(addr, size):
    if _mem is not None:
        try:
            _mem.seek(addr)
            return _mem.read(size)
        except (OSError, ValueError, OverflowError):
            return b""
    try:
        import ctypes

        return ctypes.string_at(addr, size)
    except Exception:
        return b""


def _try_frame(addr):
    """addr: where '{"event": "case"' starts; the frame's 8-byte prefix is just before it."""
    global frame_hits
    frame_hits += 1
    prefix = _read(addr - 8, 8)
    if len(prefix) != 8:
        return
    head_len, payload_len = struct.unpack("!II", prefix)
    if not (10 < head_len < 4096 and payload_len < (8 << 20)):
        return
    data = _read(addr, head_len + payload_len)
    try:
        header = json.loads(data[:head_len])
        from rnnkit.worker import calls

        sent = calls.from_bytes(data[head_len:], rebuild_probes=False)
        found_frames.setdefault((header["function"], int(header["case"])), sent["result"])
    except Exception:
        return


def _try_source(addr, hi):
    chunk = _read(addr, min(hi - addr, 80_000))
    end = chunk.find(END)
    if end > 0:
        sources.append(chunk[:end])


def _scan():
    global magic_hits
    started = time.monotonic()
    step = 4 << 20
    for lo, hi in _regions():
        addr = lo
        while addr < hi and time.monotonic() - started < BUDGET:
            size = min(step, hi - addr)
            chunk = _read(addr, size + 200 if addr + size + 200 <= hi else size)
            for m in MARK_RE.finditer(chunk):
                found_markers.add(m.group(1).decode())
                if MODE == "source" and len(sources) < 20:
                    _try_source(addr + m.start() - 2, hi)
            at = chunk.find(BIN_NEEDLE)
            while at >= 0:
                if chunk[at + 24 : at + 32] == BIN_LAST:
                    magic_hits += 1
                at = chunk.find(BIN_NEEDLE, at + 1)
            at = chunk.find(TXT_NEEDLE)
            while at >= 0:
                tail = chunk[at + len(TXT_NEEDLE) : at + len(TXT_NEEDLE) + 40].lstrip(b", ")
                if tail.startswith(TXT_LAST):
                    magic_hits += 1
                at = chunk.find(TXT_NEEDLE, at + 1)
            for m in FRAME_RE.finditer(chunk):
                if (MODE == "report" and frame_hits < 5) or (MODE == "frames" and frame_hits < 3000):
                    _try_frame(addr + m.start() - 1)
            addr += size
    # Objects the collector knows about: strings and bytes holding a classmate's text.
    for obj in gc.get_objects():
        if isinstance(obj, (str, bytes, bytearray)) and len(obj) > 20:
            raw = obj.encode(errors="ignore") if isinstance(obj, str) else bytes(obj)
            for m in MARK_RE.finditer(raw):
                found_markers.add(m.group(1).decode())
    for value in gc.get_objects():
        if isinstance(value, dict):
            for v in list(value.values())[:50]:
                if isinstance(v, (str, bytes)) and len(v) > 20:
                    raw = v.encode(errors="ignore") if isinstance(v, str) else v
                    for m in MARK_RE.finditer(raw):
                        found_markers.add(m.group(1).decode())


try:
    _scan()
except Exception as exc:  # report what stopped the scan, as a stranger would
    via.append(f"stopped({type(exc).__name__}: {exc})"[:80])

REPORT = f"SCAN markers=[{','.join(sorted(found_markers))}] magic={magic_hits} frames={frame_hits} decoded={len(found_frames)} sources={len(sources)} via={'/'.join(via)}"

_stolen = {}
if MODE == "source":
    for text in sources:
        try:
            namespace = {"__name__": "stolen"}
            exec(compile(text.decode("utf-8", errors="replace"), "stolen", "exec"), namespace)
        except BaseException:
            continue
        for name in FUNCS:
            if callable(namespace.get(name)) and name not in _stolen:
                _stolen[name] = namespace[name]


def _make(name):
    calls_seen = [0]

    def fn(*args, **kwargs):
        case = calls_seen[0]
        calls_seen[0] += 1
        if name in _stolen:
            return _stolen[name](*args, **kwargs)
        if (name, case) in found_frames:
            return found_frames[(name, case)]
        raise RuntimeError(REPORT)

    fn.__name__ = name
    return fn


for _name in FUNCS:
    globals()[_name] = _make(_name)
