"""What the grader hands the sandbox and hears back: a task, how it ended, who consumes its data."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class SandboxError(RuntimeError):
    """The sandbox itself could not run (not a student's fault)."""


@dataclass
class Task:
    """One student's file for one part, with everything the worker needs for it."""

    key: tuple[str, str]  # (student, part)
    part: str
    filename: str
    data: bytes
    functions: list[str]
    #: ``calls.pack_inputs`` of the task's own cases and the part's probes: the hidden inputs.
    inputs: bytes = b""
    #: function -> number of cases, and the largest payload one case's result may have.
    case_counts: dict[str, int] = field(default_factory=dict)
    caps: dict[str, int] = field(default_factory=dict)
    #: The whole task's deadline in seconds, fixed by the grader.
    seconds: float = 60.0


@dataclass
class TaskEnd:
    """How a task ended, from the trusted side only."""

    worker: dict = field(default_factory=dict)  # the zygote's word: exited / killed / timeout
    output_bytes: int = 0
    garbled: str | None = None  # why the task's data stopped being read
    lost: str | None = None  # why the zygote itself failed, if it did


class Consumer(Protocol):
    def frame(self, header: dict, payload: bytes) -> None: ...
    def end(self, ending: TaskEnd) -> None: ...
