"""What starting the grader and its zygotes costs: interpreter start and imports, each in a fresh process."""
from __future__ import annotations

import re
import statistics
import subprocess
import time
from dataclasses import dataclass

from .machine import BIN, ROOT, tool_env


def _median_seconds(command: list[str], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, env=tool_env(), cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def import_trace(command: list[str]) -> dict[str, float]:
    """Seconds per module, cumulative, from ``python -X importtime``."""
    trace = subprocess.run([command[0], "-X", "importtime", *command[1:]], env=tool_env(), cwd=ROOT, capture_output=True, text=True).stderr
    cumulative: dict[str, float] = {}
    for line in trace.splitlines():
        match = re.match(r"import time:\s+\d+\s+\|\s+(\d+)\s+\|\s+(.*)$", line)
        if match:
            name = match.group(2).strip()
            cumulative[name] = max(cumulative.get(name, 0.0), int(match.group(1)) / 1e6)
    return cumulative


@dataclass
class Imports:
    seconds: dict[str, float]  # what -> median seconds
    jsonschema_in_zygote: float  # seconds of jsonschema among the zygote's imports (0: not imported)
    jsonschema_in_grader: float  # ... among the grader's imports up to a loaded course


def import_costs() -> Imports:
    """Interpreter start and imports, each a fresh process (median of 5), and where jsonschema comes in."""
    python = str(BIN / "python")
    cli_and_course = "import rnnkit.cli; from rnnkit.course import load_course; load_course()"
    zygote = "import rnnkit.worker.zygote"
    seconds = {
        "python start": _median_seconds([python, "-c", "pass"]),
        "import numpy": _median_seconds([python, "-c", "import numpy"]),
        "import rnnkit.cli (the command)": _median_seconds([python, "-c", "import rnnkit.cli"]),
        "import rnnkit.cli, then load course.yml (what every grading run does first)": _median_seconds([python, "-c", cli_and_course]),
        "the zygote's imports (import rnnkit.worker.zygote)": _median_seconds([python, "-I", "-c", zygote]),
        "import jsonschema alone": _median_seconds([python, "-c", "import jsonschema"]),
    }
    in_zygote = import_trace([python, "-I", "-c", zygote]).get("jsonschema", 0.0)
    in_grader = import_trace([python, "-c", cli_and_course]).get("jsonschema", 0.0)
    return Imports(seconds, in_zygote, in_grader)
