"""Frames between processes, on two kinds of channel.

**Data frames** go one way, from a worker (a process that runs student code)
to the grader, on a pipe of their own per task: ``!II`` header and payload
lengths, a JSON header, a payload. The grader's reader is bounded (frame size,
buffer size, a deadline it fixed itself) and treats anything malformed as the
end of that task's data: the writer may be student code.

**Control messages** travel between trusted processes only (the grader and a
zygote), on a ``SOCK_SEQPACKET`` socket: one JSON object per message, with the
file descriptors of the task attached (``SCM_RIGHTS``). A zygote never reads a
data frame, and student code never holds the control socket.
"""
from __future__ import annotations

import array
import json
import os
import select
import socket
import struct
import time
from typing import Iterator

_PREFIX = struct.Struct("!II")
MAX_HEADER = 64 << 10
MAX_CONTROL = 64 << 10
MAX_FDS = 8


class ProtocolError(RuntimeError):
    pass


class Timeout(ProtocolError):
    pass


class Closed(ProtocolError):
    pass


# --------------------------------------------------------------------------- data frames (worker -> grader)


def encode_frame(header: dict, payload: bytes = b"") -> bytes:
    head = json.dumps(header).encode()
    return _PREFIX.pack(len(head), len(payload)) + head + payload


def send(fd: int, header: dict, payload: bytes = b"") -> None:
    """Write one frame (blocking: only workers use this, and a stuck worker is killed at its deadline)."""
    view = memoryview(encode_frame(header, payload))
    while view:
        written = os.write(fd, view)
        view = view[written:]


class FrameParser:
    """Splits bytes into frames as they arrive; refuses any frame larger than allowed.

    ``max_payload(header)`` gives the largest payload accepted for a frame with that
    header (the grader derives it from the expected answer's size).
    """

    def __init__(self, max_payload=lambda header: 0):
        self.max_payload = max_payload
        self.buffer = bytearray()
        self._pending: tuple[dict, int] | None = None

    def feed(self, chunk: bytes) -> Iterator[tuple[dict, bytes]]:
        """Each whole frame the bytes so far complete, one at a time: every frame before a bad one is
        given out before :class:`ProtocolError` is raised for it (a chunk may hold many frames)."""
        self.buffer += chunk
        start = 0  # what is consumed is cut off once, at the end (not frame by frame: a chunk holds dozens)
        try:
            while True:
                if self._pending is None:
                    if len(self.buffer) - start < _PREFIX.size:
                        return
                    head_len, payload_len = _PREFIX.unpack_from(self.buffer, start)
                    if head_len > MAX_HEADER:
                        raise ProtocolError("a frame header larger than allowed")
                    if len(self.buffer) - start < _PREFIX.size + head_len:
                        return
                    try:
                        header = json.loads(bytes(self.buffer[start + _PREFIX.size : start + _PREFIX.size + head_len]))
                    except ValueError:
                        raise ProtocolError("a frame whose header is not JSON") from None
                    if not isinstance(header, dict):
                        raise ProtocolError("a frame whose header is not an object")
                    if payload_len > self.max_payload(header):
                        raise ProtocolError("a frame larger than allowed")
                    start += _PREFIX.size + head_len
                    self._pending = (header, payload_len)
                header, payload_len = self._pending
                if len(self.buffer) - start < payload_len:
                    return
                payload = bytes(self.buffer[start : start + payload_len])
                start += payload_len
                self._pending = None
                yield header, payload
        finally:
            del self.buffer[:start]


# --------------------------------------------------------------------------- control messages (grader <-> zygote)


def send_control(sock: socket.socket, message: dict, fds: list[int] = (), deadline: float | None = None) -> None:
    """Send one control message with ``fds`` attached; never blocks past ``deadline``."""
    data = json.dumps(message).encode()
    if len(data) > MAX_CONTROL:
        raise ProtocolError("a control message larger than allowed")
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    while True:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        _, writable, _ = select.select([], [sock], [], timeout)
        if not writable:
            raise Timeout("the other side does not read its control channel")
        try:
            sock.sendmsg([data], ancillary, socket.MSG_DONTWAIT)
            return
        except BlockingIOError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            raise Closed("the other side closed the control channel") from None


def recv_control(sock: socket.socket, deadline: float | None = None) -> tuple[dict, list[int]]:
    """Receive one control message and its file descriptors."""
    timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
    readable, _, _ = select.select([sock], [], [], timeout)
    if not readable:
        raise Timeout("no control message before the deadline")
    data, ancillary, flags, _ = sock.recvmsg(MAX_CONTROL, socket.CMSG_SPACE(MAX_FDS * 4))
    fds = array.array("i")
    for level, kind, body in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(body[: len(body) - len(body) % fds.itemsize])
    if not data:
        for fd in fds:
            os.close(fd)
        raise Closed("the other side closed the control channel")
    if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
        for fd in fds:
            os.close(fd)
        raise ProtocolError("a truncated control message")
    try:
        message = json.loads(data)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        for fd in fds:
            os.close(fd)
        raise ProtocolError("a control message that is not a JSON object")
    return message, list(fds)
