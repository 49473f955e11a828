"""Frames between processes: ``!II`` header and payload lengths, a JSON header, a payload.

Readers are bounded (frame size and deadline) and treat anything malformed as
the end of the conversation: the other side may be student code.
"""
from __future__ import annotations

import json
import os
import select
import struct
import time

_PREFIX = struct.Struct("!II")
MAX_HEADER = 1 << 20
MAX_PAYLOAD = 256 << 20


class ProtocolError(RuntimeError):
    pass


class Timeout(ProtocolError):
    pass


class Closed(ProtocolError):
    pass


def encode_frame(header: dict, payload: bytes = b"") -> bytes:
    head = json.dumps(header).encode()
    return _PREFIX.pack(len(head), len(payload)) + head + payload


def send(fd: int, header: dict, payload: bytes = b"") -> None:
    view = memoryview(encode_frame(header, payload))
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Reader:
    """Reads frames from a file descriptor, with a deadline for each frame."""

    def __init__(self, fd: int, max_payload: int = MAX_PAYLOAD):
        self.fd = fd
        self.max_payload = max_payload
        self.buffer = bytearray()

    def _fill(self, deadline: float | None) -> None:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            raise Timeout("no answer before the deadline")
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            raise Closed("the other side closed the channel")
        self.buffer += chunk

    def frame_ready(self) -> bool:
        """Whether a whole frame is already buffered."""
        if len(self.buffer) < _PREFIX.size:
            return False
        head_len, payload_len = _PREFIX.unpack_from(self.buffer)
        return len(self.buffer) >= _PREFIX.size + head_len + payload_len

    def read(self, deadline: float | None = None) -> tuple[dict, bytes]:
        while len(self.buffer) < _PREFIX.size:
            self._fill(deadline)
        head_len, payload_len = _PREFIX.unpack_from(self.buffer)
        if head_len > MAX_HEADER or payload_len > self.max_payload:
            raise ProtocolError("a frame larger than allowed")
        total = _PREFIX.size + head_len + payload_len
        while len(self.buffer) < total:
            self._fill(deadline)
        try:
            header = json.loads(bytes(self.buffer[_PREFIX.size : _PREFIX.size + head_len]))
        except ValueError:
            raise ProtocolError("a frame whose header is not JSON") from None
        if not isinstance(header, dict):
            raise ProtocolError("a frame whose header is not an object")
        payload = bytes(self.buffer[_PREFIX.size + head_len : total])
        del self.buffer[:total]
        return header, payload

    def drain(self) -> list[tuple[dict, bytes]]:
        """Every whole frame readable right now, without waiting."""
        frames = []
        while True:
            try:
                while not self.frame_ready():
                    ready, _, _ = select.select([self.fd], [], [], 0)
                    if not ready:
                        return frames
                    chunk = os.read(self.fd, 1 << 20)
                    if not chunk:
                        return frames
                    self.buffer += chunk
                frames.append(self.read(time.monotonic()))
            except ProtocolError:
                return frames
