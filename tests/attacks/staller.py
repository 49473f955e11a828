# A student who keeps its process alive and stops reading: it tells the grader it is done
# (a forged "done" frame on every inherited descriptor), then keeps the grader's side busy
# with a frame every half second that pushes the deadlines back ("function_start", "cell",
# "function_end"), for up to LIFETIME seconds. Its real code: a correct softmax (never reached).
import json
import os
import struct
import time

import numpy as np

LIFETIME = @@LIFETIME@@


def _frame(header, payload=b""):
    head = json.dumps(header).encode()
    return struct.pack("!II", len(head), len(payload)) + head + payload


def _fds():
    found = []
    for fd in range(0, 1024):
        try:
            os.fstat(fd)
            found.append(fd)
        except OSError:
            pass
    return found


def _write_all(data):
    for fd in _fds():
        try:
            os.set_blocking(fd, False)
            os.write(fd, data)
        except OSError:
            pass


_write_all(_frame({"event": "loaded", "defined": ["softmax"], "errors": []}) + _frame({"event": "done", "worker": {"status": "exited", "code": 0}, "output_bytes": 0}))
_end = time.monotonic() + LIFETIME
_n = 0
while time.monotonic() < _end:
    _n += 1
    _write_all(
        _frame({"event": "function_start", "function": "softmax"})
        + _frame({"event": "cell", "cell": _n})
        + _frame({"event": "function_end", "function": "softmax", "status": "exited", "code": 0})
        + _frame({"event": "function_start", "function": "rnn_forward"})
    )
    time.sleep(0.5)


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
