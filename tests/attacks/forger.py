# A student who speaks the grader's protocol: it writes forged frames (8-byte "!II" header and
# payload lengths, a JSON header, a payload) into every file descriptor it inherited, at load
# time and inside its function calls; or (KIND "replay") sends every message of its own process
# three times, once with "false" turned into "true ". Its real code: a correct softmax, nothing else.
import json
import os
import struct

import numpy as np

KIND = @@KIND@@
FORGE = @@FORGE@@  # False: the control student, same real code and no forging
FUNCS = ["softmax", "rnn_step_forward", "rnn_forward", "cross_entropy_loss"]


def _frame(header, payload=b""):
    head = json.dumps(header).encode()
    return struct.pack("!II", len(head), len(payload)) + head + payload


def _payload(value):
    try:
        from rnnkit.worker import calls

        return calls.to_bytes(*calls.encode({"result": value, "args_after": ()}))
    except Exception:
        return b"\x00\x00\x00\x02{}"


def _frames():
    if KIND == "loaded":
        return [
            _frame({"event": "loaded", "defined": 5, "errors": []}),
            _frame({"event": "loaded", "defined": None, "errors": 5}),
            _frame({"event": "loaded", "defined": [[1], {"a": 1}], "errors": [1, "x", None]}),
        ]
    if KIND == "done":
        return [
            _frame({"event": "done", "worker": "exited", "output_bytes": "lots"}),
            _frame({"event": "done", "worker": {"status": "timeout"}, "output_bytes": [1, 2]}),
            _frame({"event": "done", "worker": 7, "output_bytes": 10**30}),
        ]
    if KIND == "case":
        frames = []
        for function in FUNCS:
            for case in range(8):
                frames.append(_frame({"event": "case", "function": function, "case": case, "ok": True}, _payload(np.zeros(3))))
                frames.append(_frame({"event": "case", "function": function, "case": case, "ok": True}, _payload(0.0)))
        frames += [
            _frame({"event": "case", "function": ["softmax"], "case": 0, "ok": True}),
            _frame({"event": "case", "function": "softmax", "case": True, "ok": "yes"}, b"garbage"),
            _frame({"event": "case", "function": "softmax", "case": 10**30, "ok": True}),
            _frame({"event": "case", "function": "softmax", "case": 0, "ok": False, "kind": ["x"], "error": {"a": 1}, "traceback": 5}),
            _frame({"event": "function_end", "function": {"a": 1}, "status": ["x"]}),
            _frame({"event": "function_start", "function": [1, 2]}),
            _frame({"event": "cell", "cell": {"x": 1}}),
            _frame({"event": "load_failed", "message": {"x": 1}}),
            _frame({"event": "worker_error", "detail": 5}),
        ]
        return frames
    raise ValueError(KIND)


def _replay():
    """Protocol-agnostic: every message this process sends (os.write to a descriptor past 2, and
    socket send/sendall) is sent three times: as is, again, and with "false" turned into "true "."""
    real_write = os.write

    def write_all(fd, data):
        view = memoryview(data)
        while view:
            view = view[real_write(fd, view):]

    def write(fd, data):
        data = bytes(data)
        write_all(fd, data)
        if fd > 2:
            for copy in (data, data.replace(b"false", b"true ")):
                try:
                    write_all(fd, copy)
                except OSError:
                    pass
        return len(data)

    os.write = write
    try:
        import socket

        real_sendall = socket.socket.sendall

        def sendall(self, data, *args):
            data = bytes(data)
            real_sendall(self, data, *args)
            for copy in (data, data.replace(b"false", b"true ")):
                try:
                    real_sendall(self, copy, *args)
                except OSError:
                    pass

        socket.socket.sendall = sendall
        socket.socket.send = lambda self, data, *args: (sendall(self, data, *args), len(data))[1]
    except Exception:
        pass


if FORGE and KIND == "replay":
    _replay()


def _forge():
    if not FORGE or KIND == "replay":
        return
    data = b"".join(_frames())
    for fd in range(0, 1024):
        try:
            os.fstat(fd)
        except OSError:
            continue
        try:
            os.set_blocking(fd, False)
            os.write(fd, data)
        except OSError:
            pass


_forge()


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def rnn_step_forward(x_t, s_prev, U, W):
    _forge()
    raise NotImplementedError


def rnn_forward(x, U, W, V, s0=None):
    _forge()
    raise NotImplementedError


def cross_entropy_loss(o, y):
    _forge()
    raise NotImplementedError
