"""Benchmark: one synthetic class graded by rnnkit, nbgrader and otter-grader, side by side.

    python bench/grading.py                     # the comparison, then where rnnkit's time goes (make bench)
    python bench/grading.py --scale 10,100,1000 # `rnnkit grade --jobs 2` at several class sizes (make bench-scale)

The class: ``--students`` students (default 100), each handing in all five part
notebooks, every one drawn from a realistic mix (:data:`MIX`): the reference
solution, a correct alternative from ``tests/corpus``, a wrong variant from
``tests/corpus`` (a whole module with one typical mistake), or the untouched
stub. The same choices fill the solution cells of each grader's own student
notebook: ``assignments/<part>.ipynb`` for rnnkit, nbgrader's generated
``release/`` notebooks for ``nbgrader autograde``, otter's ``student/``
notebooks for ``otter run``.

Each grader runs as a subprocess of this script. Wall time is measured around
the subprocess; memory is measured two ways: the process tree's total PSS and
RSS, sampled from /proc every :data:`SAMPLE_SECONDS` while it runs (PSS splits
shared pages between the processes sharing them, so forked workers are not
counted twice), and the largest single process, ``ru_maxrss`` from ``os.wait4``.

Results are printed and written to ``bench/results.md``: each run replaces the
sections it measured and keeps the others.
"""
from __future__ import annotations

import argparse
import ast
import copy
import cProfile
import csv
import io
import json
import os
import platform
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "autograder"))

from rnnkit import content  # noqa: E402
from rnnkit.cases import DEFAULT_SEED  # noqa: E402
from rnnkit.course import Course, load_course  # noqa: E402

BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results.md"
ASSIGNMENT = "rnn"
SAMPLE_SECONDS = 0.2
#: What a student hands in for one part, and how often.
MIX = (("reference", 0.45), ("correct variant", 0.10), ("wrong variant", 0.30), ("stub", 0.15))
#: Targets of issue 6 on a 2-core machine.
TARGET_RATIO = 20
TARGET_SECONDS_PER_STUDENT = 0.3


# --------------------------------------------------------------------------- the machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / (1 << 20)
    return float("nan")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def code_revision() -> str:
    """The kit's code being measured: the last commit that changed autograder/, and whether it has uncommitted changes."""
    try:
        commit = subprocess.run(["git", "log", "-1", "--format=%h", "--", "autograder"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--", "autograder"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "code: unknown"
    if not commit:
        return "code: not a git checkout"
    return f"grader code of commit {commit}" + (" + uncommitted changes" if changed else "")


def _same_revision(revision: str) -> str:
    """``revision``, flagged when the code changed while it was being measured."""
    now = code_revision()
    return revision if now == revision else f"{revision}, **then {now}: the code changed during the run, numbers mix both**"


def machine_lines() -> list[str]:
    from rnnkit.sandbox.pool import MODE_WORDS, best_mode

    try:
        bwrap = subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout.strip() or "not installed"
    except OSError:
        bwrap = "not installed"
    mode = best_mode()
    packages = ["numpy", "nbgrader", "otter-grader", "ipykernel", "jupyter_client", "nbclient", "nbconvert", "jsonschema"]
    return [
        f"- CPU: {_cpu_model()}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable by this process)",
        f"- memory: {_memory_gib():.1f} GiB; Linux {platform.release()}; running as {'root' if os.geteuid() == 0 else 'an unprivileged user'}",
        f"- Python {platform.python_version()} ({sys.executable})",
        "- packages: " + ", ".join(f"{p} {_version(p)}" for p in packages) + f"; {bwrap}",
        f"- rnnkit sandbox: `{mode}` ({MODE_WORDS[mode]})",
    ]


# --------------------------------------------------------------------------- measuring a process tree


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        kids[int(stat[stat.rfind(b")") + 2 :].split()[1])].append(int(entry.name))
    return kids


def process_tree(root: int) -> list[int]:
    kids = _children()
    tree = [root]
    for pid in tree:
        tree.extend(kids.get(pid, ()))
    return tree


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes; (0, 0) once it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            rss = int(f.read().split()[1]) * _PAGE
        pss = 0
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                    break
        return rss, pss
    except (OSError, ValueError, IndexError):
        return 0, 0


def _busy_jiffies() -> int:
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]  # everything but idle and iowait


@dataclass
class Measured:
    wall: float
    returncode: int
    peak_pss: int = 0  # bytes, the tree's total, sampled
    peak_rss: int = 0  # bytes, the tree's total, sampled
    max_rss: int = 0  # bytes, the largest process (wait4)
    processes: int = 0  # most processes seen at once in the tree
    cores_busy: float = 0.0  # machine-wide CPU use over the run, in cores
    log: str = ""
    background: float = 0.0  # cores busy with other work just before the run


def background_load(seconds: float = 1.0, patience: float = 60.0) -> float:
    """Cores busy right now with work that is not ours; waits up to ``patience`` s for the machine to calm down."""
    ticks = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + patience
    while True:
        busy0 = _busy_jiffies()
        time.sleep(seconds)
        busy = (_busy_jiffies() - busy0) / ticks / seconds
        if busy < 0.25 or time.monotonic() > deadline:
            return busy


def run_measured(command: list[str], cwd: Path, env: dict | None = None, log: Path | None = None) -> Measured:
    """Run ``command`` to the end, sampling its process tree's memory; raise if it fails."""
    log = log or Path(tempfile.mkstemp(prefix="bench-", suffix=".log")[1])
    peaks = {"pss": 0, "rss": 0, "processes": 0}
    stop = threading.Event()
    ticks = os.sysconf("SC_CLK_TCK")
    background = background_load()
    with open(log, "wb") as out:
        busy0 = _busy_jiffies()
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env or tool_env(), stdout=out, stderr=subprocess.STDOUT)

        def sample() -> None:
            while not stop.is_set():
                pids = process_tree(process.pid)
                sizes = [_memory(pid) for pid in pids]
                peaks["rss"] = max(peaks["rss"], sum(s[0] for s in sizes))
                peaks["pss"] = max(peaks["pss"], sum(s[1] for s in sizes))
                peaks["processes"] = max(peaks["processes"], sum(1 for s in sizes if s[0]))
                stop.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        busy = (_busy_jiffies() - busy0) / ticks
        stop.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} exited {process.returncode} (cwd {cwd}):\n{text[-4000:]}")
    return Measured(wall, process.returncode, peaks["pss"], peaks["rss"], usage.ru_maxrss * 1024, peaks["processes"], busy / wall, text, background)


def tool_env(**extra: str) -> dict[str, str]:
    """This venv's bin first on PATH (nbgrader runs alembic from PATH); no RNNKIT_ overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNNKIT_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def run(command: list[str], cwd: Path, **env: str) -> str:
    result = subprocess.run(command, cwd=cwd, env=tool_env(**env), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def mb(size: int) -> str:
    return f"{size / (1 << 20):.0f}"


# --------------------------------------------------------------------------- the class


@dataclass(frozen=True)
class Choice:
    kind: str  # one of MIX
    source: str  # "solutions/<part>.py", "tests/corpus/<part>/<file>.py" or "stub"


def plan_class(course: Course, students: int, seed: int) -> dict[str, dict[str, Choice]]:
    """Who hands in what, part by part. The first n students of a larger plan are the plan of n."""
    rng = random.Random(seed)
    corpus = {p.name: sorted((ROOT / "tests" / "corpus" / p.name).glob("*.py")) for p in course.parts}
    plan = {}
    for i in range(students):
        parts = {}
        for part in course.parts:
            roll, kind = rng.random(), MIX[-1][0]
            for name, share in MIX:
                if roll < share:
                    kind = name
                    break
                roll -= share
            pick = rng.random()  # drawn for every part, so the plan does not shift with the kinds
            if kind == "reference":
                parts[part.name] = Choice(kind, f"solutions/{part.name}.py")
            elif kind == "stub":
                parts[part.name] = Choice(kind, "stub")
            else:
                pool = [p for p in corpus[part.name] if p.name.startswith("correct_") == (kind == "correct variant")]
                parts[part.name] = Choice(kind, str(pool[int(pick * len(pool))].relative_to(ROOT)))
        plan[f"s{i:04d}"] = parts
    return plan


_DEF = re.compile(r"^def\s+(\w+)\s*\(", re.MULTILINE)
_MARKERS = (content.BEGIN, content.END)


def module_text(course: Course, choice: Choice, part: str) -> str:
    """The code a student wrote, as one module."""
    if choice.kind == "reference":
        code = content.reference_code(content.read_source(course.solutions_dir, part))
        return "".join(
            line for line in code.splitlines(keepends=True) if line.strip() not in _MARKERS and not line.strip().startswith("# HINT:")
        )
    return (ROOT / choice.source).read_text(encoding="utf-8")


def _pieces(text: str) -> list[tuple[str | None, str]]:
    """Top-level statements of a module: (function name or None, source), in order."""
    lines = text.splitlines(keepends=True)
    pieces = []
    for node in ast.parse(text).body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        name = node.name if isinstance(node, ast.FunctionDef) else None
        pieces.append((name, "".join(lines[first - 1 : node.end_lineno])))
    return pieces


def _cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def is_stub_cell(cell: dict) -> bool:
    """A cell the student fills: it defines functions whose bodies are stubs."""
    source = _cell_source(cell)
    return cell.get("cell_type") == "code" and "NotImplementedError" in source and bool(_DEF.search(source))


def fill(notebook: dict, module: str) -> dict:
    """``notebook`` with its stub cells replaced by ``module``'s functions of the same names.

    The module's other statements (imports, constants, helpers) open the first stub cell;
    a function the module does not define keeps its stub.
    """
    notebook = copy.deepcopy(notebook)
    cells = [c for c in notebook["cells"] if is_stub_cell(c)]
    names = [_DEF.findall(_cell_source(c)) for c in cells]
    in_cells = {n for group in names for n in group}
    pieces = _pieces(module)
    functions = {name: text for name, text in pieces if name}
    preamble = [text for name, text in pieces if name not in in_cells]
    for index, (cell, group) in enumerate(zip(cells, names)):
        own = {name: text for name, text in _pieces(_cell_source(cell)) if name}
        chunks = (preamble if index == 0 else []) + [functions.get(name, own.get(name, "")) for name in group]
        cell["source"] = "\n\n".join(chunk.rstrip("\n") for chunk in chunks if chunk) + "\n"
        cell["outputs"], cell["execution_count"] = [], None
    return notebook


class Notebooks:
    """Filled notebooks as text, per (layout, part, choice); each is made once and written many times."""

    def __init__(self, course: Course, blanks: dict[str, dict[str, Path]]):
        self.course = course
        self.blanks = {layout: {part: json.loads(path.read_text(encoding="utf-8")) for part, path in parts.items()} for layout, parts in blanks.items()}
        self.cache: dict[tuple[str, str, Choice], str] = {}
        for layout, parts in self.blanks.items():  # every layout must offer the same cells to fill
            for part, notebook in parts.items():
                mine = [_DEF.findall(_cell_source(c)) for c in notebook["cells"] if is_stub_cell(c)]
                kit = [_DEF.findall(_cell_source(c)) for c in self.blanks["rnnkit"][part]["cells"] if is_stub_cell(c)]
                if mine != kit:
                    raise RuntimeError(f"{layout}'s {part} notebook has other stub cells than the kit's: {mine} vs {kit}")

    def text(self, layout: str, part: str, choice: Choice) -> str:
        key = (layout, part, choice)
        if key not in self.cache:
            blank = self.blanks[layout][part]
            notebook = blank if choice.kind == "stub" else fill(blank, module_text(self.course, choice, part))
            self.cache[key] = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
        return self.cache[key]


def write_rnnkit_class(folder: Path, plan: dict, notebooks: Notebooks) -> Path:
    for student, parts in plan.items():
        (folder / student).mkdir(parents=True)
        for part, choice in parts.items():
            (folder / student / f"{part}.ipynb").write_text(notebooks.text("rnnkit", part, choice), encoding="utf-8")
    return folder


def write_nbgrader_submissions(course_dir: Path, plan: dict, notebooks: Notebooks) -> None:
    """``submitted/<student>/<assignment>/``: the released folder (support files too), notebooks filled."""
    release = course_dir / "release" / ASSIGNMENT
    for student, parts in plan.items():
        folder = course_dir / "submitted" / student / ASSIGNMENT
        shutil.copytree(release, folder, ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
        for part, choice in parts.items():
            (folder / f"{part}.ipynb").write_text(notebooks.text("nbgrader", part, choice), encoding="utf-8")


def write_otter_submissions(folder: Path, plan: dict, notebooks: Notebooks) -> None:
    """``<student>/<part>/<part>.ipynb``: one folder per notebook, where ``otter run`` writes results.json."""
    for student, parts in plan.items():
        for part, choice in parts.items():
            (folder / student / part).mkdir(parents=True)
            (folder / student / part / f"{part}.ipynb").write_text(notebooks.text("otter", part, choice), encoding="utf-8")


def kind_counts(plan: dict) -> Counter:
    return Counter(choice.kind for parts in plan.values() for choice in parts.values())


def describe_mix(plan: dict) -> str:
    counts = kind_counts(plan)
    total = sum(counts.values())
    return ", ".join(f"{counts[k]} {k}" for k, _ in MIX) + f" ({total} notebooks)"


# --------------------------------------------------------------------------- the exports


def prepare_exports(work: Path, course: Course) -> dict[str, Path]:
    """nbgrader's course with its generated release, otter's student notebooks and autograder zips."""
    started = time.perf_counter()
    nbgrader_dir = work / "nbgrader"
    run([str(BIN / "rnnkit"), "export", "nbgrader", "--out", str(nbgrader_dir), "--assignment", ASSIGNMENT], cwd=work)
    run([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT], cwd=nbgrader_dir)
    masters = work / "otter-masters"
    run([str(BIN / "rnnkit"), "export", "otter", "--out", str(masters)], cwd=work)
    processes = [
        subprocess.Popen(
            [str(BIN / "otter"), "assign", f"{p.name}.ipynb", str(work / "otter-dist" / p.name)],
            cwd=masters / p.name, env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for p in course.parts
    ]
    for process in processes:
        output, _ = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"otter assign failed:\n{output[-3000:]}")
    print(f"exports ready in {time.perf_counter() - started:.0f} s (nbgrader generate_assignment, otter assign)", flush=True)
    return {"nbgrader": nbgrader_dir, "otter": work / "otter-dist"}


def blank_notebooks(course: Course, exports: dict[str, Path] | None) -> dict[str, dict[str, Path]]:
    blanks = {"rnnkit": {p.name: course.assignments_dir / f"{p.name}.ipynb" for p in course.parts}}
    if exports:
        blanks["nbgrader"] = {p.name: exports["nbgrader"] / "release" / ASSIGNMENT / f"{p.name}.ipynb" for p in course.parts}
        blanks["otter"] = {p.name: exports["otter"] / p.name / "student" / f"{p.name}.ipynb" for p in course.parts}
    return blanks


# --------------------------------------------------------------------------- the graders


@dataclass
class GraderRun:
    label: str
    how: str
    students: int
    notebooks: int
    measured: Measured
    #: student -> function -> points
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    #: wall time for the whole class when only a sample was measured
    extrapolated_to: int | None = None

    @property
    def per_student(self) -> float:
        return self.measured.wall / self.students

    @property
    def class_wall(self) -> float:
        return self.per_student * (self.extrapolated_to or self.students)


def rnnkit_scores(out_dir: Path, course: Course) -> dict[str, dict[str, float]]:
    with open(out_dir / "grades.csv", newline="", encoding="utf-8") as f:
        return {row["student"]: {fn.name: float(row[fn.name]) for fn in course.functions} for row in csv.DictReader(f)}


def grade_rnnkit(work: Path, class_dir: Path, jobs: int, students: int, tag: str = "") -> GraderRun:
    out = work / f"rnnkit-grades-j{jobs}{tag}"
    command = [str(BIN / "rnnkit"), "grade", str(class_dir), "--out", str(out), "--jobs", str(jobs)]
    measured = run_measured(command, cwd=work, log=work / f"rnnkit-j{jobs}{tag}.log")
    course = load_course(ROOT)
    return GraderRun(f"`rnnkit grade --jobs {jobs}`", "sandboxed, one process tree", students, students * len(course.parts), measured, rnnkit_scores(out, course))


def nbgrader_scores(course_dir: Path, students: list[str]) -> dict[str, dict[str, float]]:
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}", "rnnkit") as gb:
        for student in students:
            submission = gb.find_submission(ASSIGNMENT, student)
            scores[student] = {g.name.removeprefix("test_"): float(g.score) for nb in submission.notebooks for g in nb.grades}
    return scores


def grade_nbgrader(work: Path, course_dir: Path, plan: dict, course: Course) -> GraderRun:
    measured = run_measured([str(BIN / "nbgrader"), "autograde", ASSIGNMENT], cwd=course_dir, log=work / "nbgrader-autograde.log")
    scores = nbgrader_scores(course_dir, list(plan))
    return GraderRun("`nbgrader autograde`", "in-kernel, one kernel per notebook, sequential", len(plan), len(plan) * len(course.parts), measured, scores)


def otter_scores(results: Path) -> dict[str, float]:
    data = json.loads(results.read_text(encoding="utf-8"))
    return {t["name"]: float(t.get("score") or 0) for t in data.get("tests", []) if t.get("name") != "Public Tests"}


def grade_otter(work: Path, folder: Path, dist: Path, sample: dict, total_students: int, course: Course) -> GraderRun:
    """``otter run`` once per notebook, one after another; the sums of the runs."""
    zips = {p.name: next((dist / p.name / "autograder").glob("*.zip")) for p in course.parts}
    total = Measured(0.0, 0)
    busy = 0.0
    scores: dict[str, dict[str, float]] = {}
    for number, (student, parts) in enumerate(sample.items(), start=1):
        scores[student] = {}
        for part in parts:
            here = folder / student / part
            m = run_measured([str(BIN / "otter"), "run", "-a", str(zips[part]), f"{part}.ipynb", "-o", str(here), "--no-logo"], cwd=here, log=here / "otter.log")
            total.wall += m.wall
            busy += m.cores_busy * m.wall
            total.peak_pss, total.peak_rss = max(total.peak_pss, m.peak_pss), max(total.peak_rss, m.peak_rss)
            total.max_rss, total.processes = max(total.max_rss, m.max_rss), max(total.processes, m.processes)
            total.background = max(total.background, m.background)
            scores[student].update(otter_scores(here / "results.json"))
        print(f"  otter run: {number}/{len(sample)} students, {total.wall:.0f} s so far", flush=True)
    total.cores_busy = busy / total.wall if total.wall else 0.0
    how = "in-kernel, `otter run` per notebook, sequential"
    run_ = GraderRun("`otter run`", how, len(sample), len(sample) * len(course.parts), total, scores)
    if len(sample) < total_students:
        run_.extrapolated_to = total_students
    return run_


# --------------------------------------------------------------------------- agreement


@dataclass
class Agreement:
    pair: str
    compared: int
    agreeing: int
    differences: list[tuple[str, str, float, float, str]]  # student, function, kit, other, what was handed in


def agreement(kit: GraderRun, other: GraderRun, plan: dict, course: Course) -> Agreement:
    part_of = {f.name: f.part for f in course.functions}
    students = [s for s in other.scores if s in kit.scores]
    agreeing, differences = 0, []
    for student in students:
        mine, theirs = kit.scores[student], other.scores[student]
        if abs(sum(mine.values()) - sum(theirs.get(f, 0.0) for f in mine)) <= 0.01 + 1e-9:
            agreeing += 1
        for function, score in mine.items():
            if abs(score - theirs.get(function, 0.0)) > 0.01 + 1e-9:
                choice = plan[student][part_of[function]]
                differences.append((student, function, score, theirs.get(function, 0.0), f"{choice.kind}: `{choice.source}`"))
    return Agreement(f"{kit.label} vs {other.label}", len(students), agreeing, differences)


# --------------------------------------------------------------------------- where rnnkit's time goes


def _median_seconds(command: list[str], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, env=tool_env(), cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _import_trace(command: list[str]) -> dict[str, float]:
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
    in_zygote = _import_trace([python, "-I", "-c", zygote]).get("jsonschema", 0.0)
    in_grader = _import_trace([python, "-c", cli_and_course]).get("jsonschema", 0.0)
    return Imports(seconds, in_zygote, in_grader)


@dataclass
class Profile:
    phases: dict[str, float]
    wall: float
    grader_cpu: float
    cores_busy: float
    task_seconds: dict[str, list[float]]
    hot: list[tuple[str, float, float]]  # function, own seconds, cumulative seconds
    jobs: int
    named: dict[str, float]  # cumulative seconds of the WATCHED functions
    scored_while_running: bool  # whether results were scored as files came back, during the sandbox phase


def profile_grade(class_dir: Path, out_dir: Path, plan: dict, jobs: int) -> Profile:
    """`rnnkit grade`'s own code, in this process, with timers around its phases and cProfile on the main thread."""
    from rich.console import Console

    import rnnkit.grading as grading
    from rnnkit.report import write_class
    from rnnkit.sandbox import pool as pool_module

    phases: dict[str, float] = defaultdict(float)
    task_seconds: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    running = threading.Event()  # set while the pool runs the tasks
    overlapped = []  # scoring calls made while the pool was running

    profiler = cProfile.Profile()

    def timed(name, fn):
        """``fn`` with its time added to ``phases[name]``, and profiled."""

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            profiler.enable()
            try:
                return fn(*args, **kwargs)
            finally:
                profiler.disable()
                phases[name] += time.perf_counter() - started

        return wrapper

    class TimedPool(pool_module.Pool):
        def __init__(self, *args, **kwargs):
            started = time.perf_counter()
            super().__init__(*args, **kwargs)
            phases["start the zygotes (bwrap, python, imports, warm-up)"] += time.perf_counter() - started

        def run(self, tasks, on_done=None):
            started = time.perf_counter()
            running.set()
            try:
                return super().run(tasks, on_done)
            finally:
                running.clear()
                phases["run the tasks in the sandbox (wall)"] += time.perf_counter() - started

    original_run = pool_module.ZygoteHandle.run

    def run_task(handle, task):
        started = time.perf_counter()
        try:
            return original_run(handle, task)
        finally:
            with lock:
                task_seconds[plan[task.key[0]][task.part].kind].append(time.perf_counter() - started)

    saved = {
        "Pool": grading.Pool,
        "score_task": grading.score_task,
        "diagnose_class": grading.diagnose_class,
        "compute_answers": grading.HiddenTests.compute_answers,
        "draw": grading.HiddenTests.__dict__["draw"],
    }
    grading.Pool = TimedPool
    timed_score = timed("score the results (decode, compare)", grading.score_task)

    def score_task(*args, **kwargs):
        if running.is_set():
            overlapped.append(1)
        return timed_score(*args, **kwargs)

    grading.score_task = score_task
    grading.diagnose_class = timed("name the mistakes (diagnose_class)", grading.diagnose_class)
    grading.HiddenTests.compute_answers = timed("compute the reference answers", grading.HiddenTests.compute_answers)
    grading.HiddenTests.draw = classmethod(timed("draw the hidden cases", saved["draw"].__func__))
    pool_module.ZygoteHandle.run = run_task
    cpu0, busy0 = time.process_time(), _busy_jiffies()
    started = time.perf_counter()
    try:
        course = timed("load course.yml", load_course)(ROOT)
        submissions = timed("find the submissions", grading.discover)(class_dir, course)
        students = grading.grade_class(submissions, course, jobs=jobs)
        timed("write outputs (feedback, results.json, CSVs, report.html)", write_class)(
            students, course, out_dir, "bench", Console(file=io.StringIO(), width=120)
        )
    finally:
        grading.Pool = saved["Pool"]
        grading.score_task = saved["score_task"]
        grading.diagnose_class = saved["diagnose_class"]
        grading.HiddenTests.compute_answers = saved["compute_answers"]
        grading.HiddenTests.draw = saved["draw"]
        pool_module.ZygoteHandle.run = original_run
    wall = time.perf_counter() - started
    busy = (_busy_jiffies() - busy0) / os.sysconf("SC_CLK_TCK")
    stats = pstats.Stats(profiler)
    hot, named = [], {}
    for (filename, line, name), (_, _, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{Path(filename).name}:{line}({name})" if line else name
        hot.append((where, own, cumulative))
        if f"{Path(filename).parent.name}/{Path(filename).name}" in WATCHED and name in WATCHED[f"{Path(filename).parent.name}/{Path(filename).name}"]:
            named[name] = max(named.get(name, 0.0), cumulative)
    hot.sort(key=lambda h: -h[1])
    return Profile(dict(phases), wall, time.process_time() - cpu0, busy / wall, dict(task_seconds), hot[:12], jobs, named, bool(overlapped))


#: Functions of the grader whose cumulative time the summary quotes: file -> names.
WATCHED = {"rnnkit/worker/calls.py": {"from_bytes"}, "rnnkit/compare.py": {"compare", "changed_arguments"}}


@dataclass
class Held:
    """The grader process's Python memory while it grades the class (tracemalloc, bytes)."""

    peak: int  # the most allocated at once during grade_class
    kept: int  # still allocated once grade_class has returned (its results)
    frames: int  # every file's frames (headers and payloads), summed: what keeping them all would cost
    decoded: int  # arrays of decoded outputs still held in the results (CaseOutcome.found and .args_after)
    students: int
    writing: int  # the most allocated at once while writing the outputs (results included)


def held_memory(class_dir: Path, course: Course) -> Held:
    """Grade the class again under tracemalloc: peak and kept memory, and the sizes of what could be kept."""
    import gc
    import tracemalloc

    import numpy as np

    import rnnkit.grading as grading

    frames_size = [0]
    original = grading.score_task

    def measure(task_frames, *args):
        frames_size[0] += sum(len(payload) + len(json.dumps(header)) for header, payload in task_frames.frames)
        return original(task_frames, *args)

    def size(value) -> int:
        if isinstance(value, np.ndarray):
            return value.nbytes
        if isinstance(value, dict):
            return sum(size(v) for v in value.values())
        if isinstance(value, (list, tuple)):
            return sum(size(v) for v in value)
        return 0

    submissions = grading.discover(class_dir, course)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    grading.score_task = measure
    try:
        students = grading.grade_class(submissions, course, jobs=2)
    finally:
        grading.score_task = original
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    with tempfile.TemporaryDirectory(prefix="rnnkit-bench-out-") as out:
        from rich.console import Console

        from rnnkit.report import write_class

        write_class(students, course, Path(out), "bench", Console(file=io.StringIO(), width=120))
        writing = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    decoded = sum(size(c.found) + size(c.args_after) for s in students for r in s.functions.values() for c in r.cases)
    return Held(peak - base, kept - base, frames_size[0], decoded, len(students), writing - base)


@dataclass
class Anatomy:
    """Seconds per student (five part files) for probe files graded in the sandbox, and the same work in-process."""

    sandbox: dict[str, float]
    in_process: dict[str, float]
    zygote_start: dict[str, float]
    reps: int


def _probe_files(course: Course) -> dict[str, dict[str, tuple[str, bytes]]]:
    """probe -> part -> (filename, bytes)."""
    probes: dict[str, dict[str, tuple[str, bytes]]] = defaultdict(dict)
    for part in course.parts:
        names = [f.name for f in part.functions]
        raising = "".join(f"def {n}(*args, **kwargs):\n    raise NotImplementedError\n\n\n" for n in names)
        reference = module_text(course, Choice("reference", ""), part.name)
        notebook = json.loads((course.assignments_dir / f"{part.name}.ipynb").read_text(encoding="utf-8"))
        probes["an empty .py file (nothing to call)"][part.name] = (f"{part.name}.py", b"# nothing here\n")
        probes["a .py file whose functions raise at once"][part.name] = (f"{part.name}.py", raising.encode())
        probes["the stub notebook (cells run, functions raise)"][part.name] = (f"{part.name}.ipynb", json.dumps(notebook).encode())
        probes["the reference as a .py file"][part.name] = (f"{part.name}.py", reference.encode())
        probes["the reference as a notebook"][part.name] = (f"{part.name}.ipynb", json.dumps(fill(notebook, reference)).encode())
    return probes


def sandbox_anatomy(course: Course, reps: int = 10) -> Anatomy:
    """Grade trivial and real files through one zygote (jobs 1), and time the same work in this process."""
    from rnnkit.worker import calls, cells as submission
    from rnnkit.grading import HiddenTests
    from rnnkit.sandbox.pool import Pool, Task, best_mode

    hidden = HiddenTests.draw(course, DEFAULT_SEED)
    starts: dict[str, float] = {}
    for mode in dict.fromkeys([best_mode(), "none"]):
        times = []
        for _ in range(3):
            started = time.perf_counter()
            with Pool(1, course.limits, hidden.inputs(), mode=mode):
                times.append(time.perf_counter() - started)
        starts[mode] = statistics.median(times)
    sandbox = {}
    probes = _probe_files(course)
    with Pool(1, course.limits, hidden.inputs()) as pool:
        for probe, files in probes.items():
            tasks = [
                Task((f"p{i}", part.name), part.name, files[part.name][0], files[part.name][1], [f.name for f in part.functions])
                for i in range(reps)
                for part in course.parts
            ]
            pool.run(tasks[: len(course.parts)])  # warm
            started = time.perf_counter()
            pool.run(tasks)
            sandbox[probe] = (time.perf_counter() - started) / reps

    # The same work without the sandbox: parse the notebook and run its cells, then the numerics.
    hidden.compute_answers(course)
    os.environ["RNNKIT_GRADING"] = "1"  # as in the zygote: plot cells do not draw
    in_process = {"parse the notebook and run its cells": 0.0, "call the functions on the hidden cases": 0.0, "encode the results (`calls.to_bytes`)": 0.0}
    try:
        for _ in range(reps):
            for part in course.parts:
                filename, data = probes["the reference as a notebook"][part.name]
                started = time.perf_counter()
                loaded = submission.run_cells(submission.read_cells(data, filename), "__main__")
                in_process["parse the notebook and run its cells"] += time.perf_counter() - started
                for function in part.functions:
                    fn = loaded.namespace[function.name]
                    for case in hidden.cases[function.name]:
                        args = calls.copy_value(case.args)
                        args = tuple(calls.Probe.build(a) if isinstance(a, calls.Probe) else a for a in args)
                        started = time.perf_counter()
                        result = fn(*args)
                        middle = time.perf_counter()
                        calls.to_bytes(*calls.encode({"result": result, "args_after": tuple(a for a in args if not callable(a))}))
                        in_process["call the functions on the hidden cases"] += middle - started
                        in_process["encode the results (`calls.to_bytes`)"] += time.perf_counter() - middle
    finally:
        os.environ.pop("RNNKIT_GRADING", None)
    return Anatomy(sandbox, {k: v / reps for k, v in in_process.items()}, starts, reps)


# --------------------------------------------------------------------------- report


def _interference(runs: list[tuple[str, Measured]]) -> list[str]:
    """A warning for each run that started while other work kept the machine busy (waited up to a minute for quiet)."""
    busy = [(label, m.background) for label, m in runs if m.background >= 0.25]
    if not busy:
        return ["Before each run the machine was quiet (less than 0.25 cores busy with other work).", ""]
    words = "; ".join(f"{label}: {load:.2f} cores" for label, load in busy)
    return [f"**Other work was running** when these runs started, so their times may be too high: {words}.", ""]


def _ratio(run_: GraderRun, base: GraderRun) -> str:
    return f"{run_.per_student / base.per_student:.1f}x"


def comparison_section(runs: list[GraderRun], agreements: list[Agreement], plan: dict, course: Course, setup_seconds: float, revision: str) -> str:
    base = next(r for r in runs if r.label == "`rnnkit grade --jobs 2`")
    students = len(plan)
    lines = [
        f"## The same class, four ways ({_now()}, {revision})",
        "",
        f"Class: {students} students x {len(course.parts)} parts, every notebook handed in: {describe_mix(plan)}. "
        "Reference: the reference solution; correct variant: a correct alternative from `tests/corpus`; wrong variant: a "
        "module from `tests/corpus` with one typical mistake; stub: the notebook as released. The same choice fills each "
        "grader's own student notebook.",
        "",
        "| grader | how student code runs | students graded | wall time (s) | s per student | time ÷ rnnkit `--jobs 2` | peak memory, tree PSS (MB) | tree RSS (MB) | largest process (MB) | CPU cores busy |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        m = r.measured
        wall = f"{m.wall:.1f}"
        graded = f"{r.students}"
        if r.extrapolated_to:
            graded = f"{r.students} (sample)"
        lines.append(
            f"| {r.label} | {r.how} | {graded} | {wall} | {r.per_student:.3f} | {_ratio(r, base)} | {mb(m.peak_pss)} | {mb(m.peak_rss)} | {mb(m.max_rss)} | {m.cores_busy:.2f} |"
        )
        if r.extrapolated_to:
            lines.append(
                f"| {r.label}, **extrapolated** | the sample's time per student x {r.extrapolated_to} | {r.extrapolated_to} (est.) | "
                f"**≈ {r.class_wall:.0f} (est.)** | {r.per_student:.3f} | {_ratio(r, base)} | {mb(m.peak_pss)} | {mb(m.peak_rss)} | {mb(m.max_rss)} | {m.cores_busy:.2f} |"
            )
    nb = next((r for r in runs if r.label == "`nbgrader autograde`"), None)
    lines += [
        "",
        "Wall time: from starting the command to its exit, outputs written (rnnkit: grades.csv, mistakes.csv, feedback, "
        "results.json, report.html; nbgrader: the gradebook and autograded notebooks; otter: results.json per notebook). "
        f"Memory: *tree PSS* and *tree RSS* are the largest sums over every process of the command's tree, sampled every "
        f"{SAMPLE_SECONDS:g} s from /proc (PSS shares a page between the processes that map it, so it is the tree's real "
        "footprint; RSS counts shared pages once per process); *largest process* is `ru_maxrss` from `os.wait4` (the "
        "largest single process the command and its reaped descendants had). For otter: per `otter run`, the largest of "
        "the runs. *CPU cores busy*: the machine's CPU time over the wall time (2.00 = both cores busy).",
        "",
    ]
    if any(r.extrapolated_to for r in runs):
        otter = next(r for r in runs if r.extrapolated_to)
        lines += [
            f"otter: `otter run` takes several seconds per notebook, so it ran on a fixed sample, the first {otter.students} "
            f"students ({otter.notebooks} notebooks, one process each, one after another, as otter users grade without Docker), "
            f"and its class time is extrapolated linearly: {otter.per_student:.2f} s per student x {otter.extrapolated_to}. "
            "Its score agreement is over the sample.",
            "",
        ]
    lines += _interference([(r.label, r.measured) for r in runs])
    lines += ["### Targets (issue 6)", ""]
    if nb is not None:
        ratio = nb.per_student / base.per_student
        lines.append(
            f"- throughput against `nbgrader autograde` on the same class: **{ratio:.1f}x** (target ≥ {TARGET_RATIO}x): "
            + ("**met**." if ratio >= TARGET_RATIO else "**not met**.")
        )
    lines.append(
        f"- wall time per student, all five parts, `--jobs 2`, sandbox on: **{base.per_student:.3f} s** "
        f"(target < {TARGET_SECONDS_PER_STUDENT} s): " + ("**met**." if base.per_student < TARGET_SECONDS_PER_STUDENT else "**not met**.")
    )
    j1 = next((r for r in runs if r.label == "`rnnkit grade --jobs 1`"), None)
    if j1 is not None:
        lines.append(f"- `--jobs 2` against `--jobs 1`: {j1.measured.wall / base.measured.wall:.2f}x faster on 2 cores.")
    totals = [sum(f.values()) for f in base.scores.values()]
    lines += [
        "",
        "### Do the graders agree?",
        "",
        f"rnnkit's totals for the class: mean {statistics.mean(totals):.1f} of {course.possible:g} (+{sum(f.points for f in course.functions if f.bonus):g} bonus), "
        f"from {min(totals):g} to {max(totals):g}, {len(set(totals))} different totals; "
        f"{sum(1 for t in totals if t >= course.possible)} students at or above {course.possible:g}.",
        "",
        "| graders | students compared | same total (±0.01 points) | share |",
        "|---|---|---|---|",
    ]
    for a in agreements:
        lines.append(f"| {a.pair} | {a.compared} | {a.agreeing} | {100 * a.agreeing / a.compared if a.compared else 0:.0f} % |")
    lines.append("")
    for a in agreements:
        if not a.differences:
            continue
        by_source = Counter((d[1], d[4]) for d in a.differences)
        lines.append(f"{a.pair}: {len(a.differences)} function scores differ by more than 0.01, from these submissions:")
        lines.append("")
        for (function, source), count in by_source.most_common(12):
            example = next(d for d in a.differences if (d[1], d[4]) == (function, source))
            lines.append(f"- `{function}`, {source}: {count}x (e.g. {example[0]}: rnnkit {example[2]:g}, other {example[3]:g})")
        lines.append("")
    if all(not a.differences for a in agreements):
        lines += ["Every function score agrees, student by student, within 0.01 points.", ""]
    lines.append(f"(Setting up, not timed: the exports, `nbgrader generate_assignment`, `otter assign` x 5 and the class in three layouts took {setup_seconds:.0f} s.)")
    return "\n".join(lines) + "\n"


def profile_section(profile: Profile, anatomy: Anatomy, held: Held, imports: Imports, students: int, course: Course, revision: str) -> str:
    parts = len(course.parts)
    ph = profile.phases
    zygotes = ph.get("start the zygotes (bwrap, python, imports, warm-up)", 0.0)
    sandbox = ph.get("run the tasks in the sandbox (wall)", 0.0)
    scoring = ph.get("score the results (decode, compare)", 0.0)
    diagnosis = ph.get("name the mistakes (diagnose_class)", 0.0)
    outputs = ph.get("write outputs (feedback, results.json, CSVs, report.html)", 0.0)
    overlapped = profile.scored_while_running
    rest = profile.wall - zygotes - sandbox - (0.0 if overlapped else scoring) - diagnosis - outputs
    decoding = profile.named.get("from_bytes", 0.0)
    comparing = profile.named.get("compare", 0.0) + profile.named.get("changed_arguments", 0.0)
    ref_nb = anatomy.sandbox["the reference as a notebook"]
    empty = anatomy.sandbox["an empty .py file (nothing to call)"]
    raising = anatomy.sandbox["a .py file whose functions raise at once"]
    one_zygote = anatomy.zygote_start.get("bwrap", anatomy.zygote_start.get("none", 0.0))
    serial = profile.jobs > 1 and zygotes > 0.75 * profile.jobs * one_zygote
    zygote_imports = imports.seconds["the zygote's imports (import rnnkit.worker.zygote)"]
    cli = imports.seconds["import rnnkit.cli, then load course.yml (what every grading run does first)"]

    def share(x: float) -> str:
        return f"{100 * x / profile.wall:.0f} %"

    if imports.jsonschema_in_zygote > 0.1:
        jsonschema_words = (
            f"`jsonschema` is {imports.jsonschema_in_zygote:.2f} s of them (reached through `rnnkit.checks` → `compare` → "
            "`course`; it imports `rfc3987_syntax`, which builds a parser at import, whenever that package is installed, as it "
            "is next to Jupyter, nbgrader or otter)"
        )
    else:
        jsonschema_words = "`jsonschema` is not among them"
    if overlapped:
        scoring_words = (
            f"- **scoring**: {scoring:.1f} s of the grader's time ({scoring / students:.3f} s per student), done as each file comes "
            "back, so it overlaps the sandbox phase above (and competes with it for the two cores). "
        )
    else:
        scoring_words = (
            f"- **scoring**: {scoring:.1f} s ({share(scoring)}, {scoring / students:.3f} s per student), in the grader's main thread "
            "once the sandbox is done, so one core idles meanwhile. "
        )
    scoring_words += (
        f"{decoding:.2f} s of it decodes the results (`calls.from_bytes`: every case's result and its arguments after the call), "
        f"{comparing:.2f} s compares them with the answers (`compare`, `changed_arguments`);"
    )
    lines = [
        f"## Where `rnnkit grade`'s time goes ({_now()}, {revision})",
        "",
        f"In short, for the {students}-student class at `--jobs {profile.jobs}` (grading in-process, {profile.wall:.1f} s; "
        f"the command adds its own start: Python, `import rnnkit.cli` and loading `course.yml`, {cli:.2f} s, "
        f"{imports.jsonschema_in_grader:.2f} s of it importing `jsonschema` to validate the course"
        + (
            "; slow because nbgrader's Jupyter dependencies (`jupyter-events`) install `rfc3987-syntax`, which `jsonschema` "
            "imports and which builds a parser at import"
            if imports.jsonschema_in_grader > 0.2
            else ""
        )
        + "):",
        "",
        f"- **starting the zygotes**: {zygotes:.1f} s ({share(zygotes)}), {profile.jobs} zygote{'s' if profile.jobs > 1 else ''}"
        + (" one after another" if serial else "")
        + f", {one_zygote:.2f} s each: bubblewrap {max(0.0, anatomy.zygote_start.get('bwrap', 0.0) - anatomy.zygote_start.get('none', 0.0)):.2f} s, "
        f"the rest a fresh Python, its imports ({zygote_imports:.2f} s; {jsonschema_words}) and a warm-up;",
        f"- **the sandbox**: {sandbox:.1f} s ({share(sandbox)}), {sandbox / students:.3f} s per student on {profile.jobs} zygotes. "
        f"Per student at `--jobs 1` a reference student takes {ref_nb:.3f} s, of which {empty:.3f} s is the fixed cost of five "
        f"files (fork, drop privileges, limits, sweep) and {raising - empty:.3f} s the forked call child of each of the "
        f"{len(course.functions)} functions; the notebook and the numerics themselves are the small rest (below);",
        scoring_words,
        f"- **naming mistakes** {diagnosis:.2f} s, **writing the outputs** {outputs:.2f} s, everything else "
        f"(course, hidden cases, reference answers) {rest:.2f} s.",
        "",
        "### Process start and imports (median of 5 runs)",
        "",
        "| what | s |",
        "|---|---|",
    ]
    lines += [f"| {name} | {seconds:.3f} |" for name, seconds in imports.seconds.items()]
    lines += [
        "",
        f"`jsonschema` within the zygote's imports: {imports.jsonschema_in_zygote:.3f} s; within the command's imports up to a loaded "
        f"course: {imports.jsonschema_in_grader:.3f} s (from `python -X importtime`).",
    ]
    lines += [
        "",
        "### Zygote start (median of 3)",
        "",
        "One zygote per job, started before grading: bubblewrap, a fresh Python, its imports and a warm-up run. "
        "`none` is the same zygote without bubblewrap, which isolates bubblewrap's own cost.",
        "",
        "| sandbox | s per zygote |",
        "|---|---|",
    ]
    lines += [f"| `{mode}` | {seconds:.3f} |" for mode, seconds in anatomy.zygote_start.items()]
    lines += [
        "",
        f"### The grader's phases: the {students}-student class, in-process, `--jobs {profile.jobs}`",
        "",
        f"`grade_class` and `write_class` called in this process with timers around each phase (wall {profile.wall:.1f} s; "
        f"the grader process itself used {profile.grader_cpu:.1f} s of CPU, the machine {profile.cores_busy:.2f} cores on average).",
        "",
        "| phase | s | s per student |",
        "|---|---|---|",
    ]
    for name, seconds in profile.phases.items():
        lines.append(f"| {name} | {seconds:.2f} | {seconds / students:.4f} |")
    if profile.scored_while_running:
        lines += ["", "Scoring ran as each file came back, inside the sandbox phase: those two rows overlap."]
    lines += ["", "Time of one file in the sandbox as the grader sees it (send, run, every frame back), by what was handed in:", ""]
    lines += ["| handed in | files | mean s per file | total s |", "|---|---|---|---|"]
    for kind, _ in MIX:
        times = profile.task_seconds.get(kind, [])
        if times:
            lines.append(f"| {kind} | {len(times)} | {statistics.mean(times):.3f} | {sum(times):.1f} |")
    lines += [
        "",
        "Where the grader's own work (the phases above but the zygotes and the sandbox) spends its time, by cProfile:",
        "",
        "| function | own s | cumulative s |",
        "|---|---|---|",
    ]
    lines += [f"| `{where}` | {own:.2f} | {cumulative:.2f} |" for where, own, cumulative in profile.hot[:10]]
    empty = anatomy.sandbox["an empty .py file (nothing to call)"]
    raising = anatomy.sandbox["a .py file whose functions raise at once"]
    stub = anatomy.sandbox["the stub notebook (cells run, functions raise)"]
    ref_py = anatomy.sandbox["the reference as a .py file"]
    ref_nb = anatomy.sandbox["the reference as a notebook"]
    functions = len(course.functions)
    work = sum(anatomy.in_process.values())
    lines += [
        "",
        f"### Inside the sandbox: trivial files against real ones (`--jobs 1`, one zygote, {anatomy.reps} students x {parts} parts each)",
        "",
        "| each student hands in | s per student (5 files) |",
        "|---|---|",
    ]
    lines += [f"| {probe} | {seconds:.3f} |" for probe, seconds in anatomy.sandbox.items()]
    lines += [
        "",
        "The same work as the reference notebook's, done in this process without any sandbox:",
        "",
        "| step | s per student |",
        "|---|---|",
    ]
    lines += [f"| {step} | {seconds:.4f} |" for step, seconds in anatomy.in_process.items()]
    lines += [
        "",
        "So, per student (five files, {functions} functions), in the sandbox at `--jobs 1`:".format(functions=functions),
        "",
        f"- **per file** (fork a worker, drop to its uid, set limits, relay, kill and sweep its processes, remove its files): "
        f"{empty:.3f} s per student, {1000 * empty / parts:.1f} ms per file;",
        f"- **per function** (a call child forked per function, limits, results back): {raising - empty:.3f} s per student, "
        f"{1000 * (raising - empty) / functions:.1f} ms per function;",
        f"- **notebook** (parse the JSON, IPython's transformer, run the theory cells): stub notebook vs raising module, {stub - raising:.3f} s; "
        f"reference notebook vs reference module, {ref_nb - ref_py:.3f} s;",
        f"- **the student's code and the numerics**, with encoding the results: {ref_py - raising:.3f} s in the sandbox "
        f"(the reference module vs the raising one); in-process the same calls and encoding take {work - anatomy.in_process['parse the notebook and run its cells']:.3f} s;",
        f"- a whole reference student: {ref_nb:.3f} s in the sandbox vs {work:.3f} s of the same work in-process.",
        "",
        f"### The grader process's memory ({held.students} students, tracemalloc: Python allocations only)",
        "",
        "| what | MB | MB per student |",
        "|---|---|---|",
        f"| the most allocated at once while grading | {held.peak / 2**20:.1f} | {held.peak / 2**20 / held.students:.3f} |",
        f"| still allocated when grading is done (the results) | {held.kept / 2**20:.1f} | {held.kept / 2**20 / held.students:.3f} |",
        f"| ... of which decoded outputs kept for naming mistakes (array data) | {held.decoded / 2**20:.1f} | {held.decoded / 2**20 / held.students:.3f} |",
        f"| the most allocated at once while writing the outputs (results included) | {held.writing / 2**20:.1f} | {held.writing / 2**20 / held.students:.3f} |",
        f"| every file's frames, summed (what keeping them all until the end would cost) | {held.frames / 2**20:.1f} | {held.frames / 2**20 / held.students:.3f} |",
    ]
    return "\n".join(lines) + "\n"


def scale_section(rows: list[tuple[int, Measured]], single: list[Measured], students_per_single: int, revision: str, slow_jsonschema: float = 0.0) -> str:
    """``slow_jsonschema``: seconds the grader spends importing jsonschema here because Jupyter's extras are installed (0: not)."""
    lines = [
        f"## Scale: `rnnkit grade --jobs 2` from {rows[0][0]} to {rows[-1][0]} students ({_now()}, {revision})",
        "",
        "Same mix as above; the first students of the larger classes are the smaller classes.",
        "",
        "| students | wall time (s) | s per student | peak memory, tree PSS (MB) | tree RSS (MB) | largest process (MB) | CPU cores busy |",
        "|---|---|---|---|---|---|---|",
    ]
    for students, m in rows:
        lines.append(f"| {students} | {m.wall:.1f} | {m.wall / students:.3f} | {mb(m.peak_pss)} | {mb(m.peak_rss)} | {mb(m.max_rss)} | {m.cores_busy:.2f} |")
    lines += [""] + _interference([(f"{n} students", m) for n, m in rows] + [("one Gradescope submission", m) for m in single])[:-1]
    xs, ys = [r[0] for r in rows], [r[1].wall for r in rows]
    if len(rows) >= 2:
        mean_x, mean_y = statistics.mean(xs), statistics.mean(ys)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)
        fixed = mean_y - slope * mean_x
        worst = max(abs(y - (fixed + slope * x)) / y for x, y in zip(xs, ys))
        lines += [
            "",
            f"A straight line fits: wall time ≈ {fixed:.1f} s + {slope:.3f} s x students (largest deviation {100 * worst:.0f} %). "
            f"The fixed part is the start: Python and imports, both zygotes, the reference answers. "
            f"Peak memory from {rows[0][0]} to {rows[-1][0]} students: tree PSS {mb(rows[0][1].peak_pss)} → {mb(rows[-1][1].peak_pss)} MB, "
            f"largest process {mb(rows[0][1].max_rss)} → {mb(rows[-1][1].max_rss)} MB.",
        ]
    (n0, m0), (n1, m1) = rows[0], rows[-1]
    growth = (m1.max_rss - m0.max_rss) / (n1 - n0) / 2**20 if n1 > n0 else 0.0
    flat = m1.max_rss < 1.25 * m0.max_rss
    if flat:
        lines += ["", "Memory is flat: the largest process barely grows with the class."]
    else:
        lines += [
            "",
            f"**Memory is not flat**: the largest process grows by about {growth:.2f} MB per student "
            f"({mb(m0.max_rss)} MB at {n0}, {mb(m1.max_rss)} MB at {n1}); *The grader process's memory* above shows what the "
            "grader holds.",
        ]
    if single:
        walls = sorted(m.wall for m in single)
        median = statistics.median(walls)
        pss = max(m.peak_pss for m in single)
        per_student = m1.wall / n1
        hourly = 3600 / per_student
        memory_words = (
            "memory stays flat, so a larger class on one machine only takes longer"
            if flat
            else f"memory grows by about {growth:.2f} MB per student (10,000 students: about {growth * 10000 / 1024:.1f} GB in the grader)"
        )
        lines += [
            "",
            "### A class too large for one machine",
            "",
            f"On this machine, `rnnkit grade --jobs 2` grades about {float(f'{hourly:.2g}'):,.0f} students an hour "
            f"({per_student:.3f} s each at {n1} students); {memory_words}. "
            "Past that, grade with the Gradescope export (`rnnkit export gradescope`): Gradescope runs the autograder "
            "once per submission, each in a container of its own on Gradescope's machines, so submissions are graded in "
            "parallel as they come in and no machine of yours holds the class. One submission there is one cold run of "
            "`python -m rnnkit.export.gradescope` (what `run_autograder` executes): Python and the kit's imports, the "
            "zygotes, the reference answers, five parts. Measured here for "
            f"{len(single)} submissions of the class ({students_per_single} notebooks each), one at a time: "
            f"median **{median:.2f} s** wall (from {walls[0]:.2f} to {walls[-1]:.2f} s), peak tree PSS {mb(pss)} MB; "
            "Gradescope's own container start and upload are not included"
            + (
                f". {slow_jsonschema:.2f} s of each run imports `jsonschema`, slow here because nbgrader's Jupyter dependencies "
                "(`jupyter-events`) install `rfc3987-syntax`, which `jsonschema` then imports; Gradescope's venv gets only the "
                "kit's requirements, without it"
                if slow_jsonschema > 0.2
                else ""
            )
            + ". Per submission the start-up dominates "
            f"(the straight line's fixed part above); in a batch the same student costs {per_student:.3f} s. So a class of "
            f"10,000 takes about {10000 * per_student / 3600:.1f} hours on one machine like this one at `--jobs 2`, while on "
            f"Gradescope each submission is graded about {median:.0f} s after it arrives, whatever the size of the class, "
            "with Gradescope's machines doing the work in parallel.",
        ]
    return "\n".join(lines) + "\n"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


SECTIONS = ("machine", "comparison", "profile", "scale")


def write_results(path: Path, sections: dict[str, str]) -> str:
    """Replace the given sections of ``path``, keep the others (a section is between its markers)."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    kept = {}
    for name in SECTIONS:
        match = re.search(rf"<!-- section: {name} -->\n(.*?)<!-- end: {name} -->\n", old, re.DOTALL)
        if match:
            kept[name] = match.group(1)
    kept.update(sections)
    text = [
        "# Grading throughput: rnnkit, nbgrader and otter-grader",
        "",
        "Written by `bench/grading.py` (`make bench`; the scale section by `make bench-scale`). Every number is measured on the "
        "machine below; each section says when.",
        "",
    ]
    for name in SECTIONS:
        if name in kept:
            text += [f"<!-- section: {name} -->", kept[name].rstrip("\n"), f"<!-- end: {name} -->", ""]
    path.write_text("\n".join(text), encoding="utf-8")
    return "\n".join(text)


# --------------------------------------------------------------------------- main


def comparison(args, work: Path, course: Course) -> tuple[dict[str, str], Path, dict]:
    """Grade one class with every grader; the comparison section, the rnnkit class folder and the plan."""
    revision = code_revision()
    setup_started = time.perf_counter()
    exports = prepare_exports(work, course) if not {"nbgrader", "otter"} <= args.skip else None
    plan = plan_class(course, args.students, args.seed)
    notebooks = Notebooks(course, blank_notebooks(course, exports))
    class_dir = write_rnnkit_class(work / "class", plan, notebooks)
    sample = dict(list(plan.items())[: args.otter_students or len(plan)])
    if exports:
        write_nbgrader_submissions(exports["nbgrader"], plan, notebooks)
        write_otter_submissions(work / "otter-submissions", sample, notebooks)
    setup_seconds = time.perf_counter() - setup_started
    print(f"class of {len(plan)} students: {describe_mix(plan)}", flush=True)

    runs = []
    for jobs in (2, 1):
        print(f"rnnkit grade --jobs {jobs} ...", flush=True)
        runs.append(grade_rnnkit(work, class_dir, jobs, len(plan)))
        print(f"  {runs[-1].measured.wall:.1f} s", flush=True)
    runs.reverse()
    if "nbgrader" not in args.skip:
        print(f"nbgrader autograde ({len(plan) * len(course.parts)} notebooks, one kernel each; about a second per notebook) ...", flush=True)
        runs.append(grade_nbgrader(work, exports["nbgrader"], plan, course))
        print(f"  {runs[-1].measured.wall:.1f} s", flush=True)
    if "otter" not in args.skip:
        print(f"otter run on {len(sample)} students ({len(sample) * len(course.parts)} notebooks, one after another) ...", flush=True)
        runs.append(grade_otter(work, work / "otter-submissions", exports["otter"], sample, len(plan), course))
    kit, kit1 = runs[1], runs[0]
    agreements = [agreement(kit, kit1, plan, course)] + [agreement(kit, r, plan, course) for r in runs[2:]]
    revision = _same_revision(revision)
    return {"comparison": comparison_section(runs, agreements, plan, course, setup_seconds, revision)}, class_dir, plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100, help="students in the compared class (default 100)")
    parser.add_argument("--otter-students", type=int, default=10, help="students graded by otter, the rest extrapolated (0: all)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the class's mix")
    parser.add_argument("--scale", default="", help="only the scale run: class sizes, e.g. 10,100,1000")
    parser.add_argument("--skip", default="", help="comma-separated: nbgrader, otter, profile")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    course = load_course(ROOT)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        work = args.keep.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="rnnkit-bench-"))
    sections = {"machine": "## Machine\n\n" + "\n".join(machine_lines()) + "\n"}
    try:
        if args.scale:
            sections.update(scale(args, work, course))
        else:
            found, class_dir, plan = comparison(args, work, course)
            sections.update(found)
            if "profile" not in args.skip:
                print("where rnnkit's time goes ...", flush=True)
                revision = code_revision()
                background = background_load()
                imports = import_costs()
                profile = profile_grade(class_dir, work / "profile-grades", plan, jobs=2)
                anatomy = sandbox_anatomy(course)
                held = held_memory(class_dir, course)
                sections["profile"] = profile_section(profile, anatomy, held, imports, len(plan), course, _same_revision(revision))
                sections["profile"] += "\n" + "\n".join(_interference([("the measurements of this section", Measured(0, 0, background=background))]))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = write_results(args.out, sections)
    print()
    print(text)
    print(f"Wrote {args.out}")


def scale(args, work: Path, course: Course) -> dict[str, str]:
    revision = code_revision()
    sizes = sorted(int(s) for s in args.scale.split(","))
    plan = plan_class(course, max(sizes), args.seed)
    notebooks = Notebooks(course, blank_notebooks(course, None))
    rows = []
    for size in sizes:
        class_dir = write_rnnkit_class(work / f"class-{size}", dict(list(plan.items())[:size]), notebooks)
        print(f"rnnkit grade --jobs 2 on {size} students ...", flush=True)
        measured = run_measured(
            [str(BIN / "rnnkit"), "grade", str(class_dir), "--out", str(work / f"grades-{size}"), "--jobs", "2"],
            cwd=work, log=work / f"grade-{size}.log",
        )
        print(f"  {measured.wall:.1f} s", flush=True)
        rows.append((size, measured))
        shutil.rmtree(class_dir)
    # One Gradescope submission: a cold `python -m rnnkit.export.gradescope` on one student's notebooks.
    single = []
    for student, parts in list(plan.items())[:5]:
        root = work / f"gradescope-{student}"
        (root / "submission").mkdir(parents=True)
        for part, choice in parts.items():
            (root / "submission" / f"{part}.ipynb").write_text(notebooks.text("rnnkit", part, choice), encoding="utf-8")
        single.append(
            run_measured(
                [str(BIN / "python"), "-m", "rnnkit.export.gradescope", "--root", str(root), "--seed", str(DEFAULT_SEED)],
                cwd=work, env=tool_env(RNNKIT_COURSE=str(ROOT)), log=root / "run.log",
            )
        )
    import importlib.util

    jsonschema = _import_trace([str(BIN / "python"), "-c", "from rnnkit.course import load_course; load_course()"]).get("jsonschema", 0.0)
    extras = importlib.util.find_spec("rfc3987_syntax") is not None
    return {"scale": scale_section(rows, single, len(course.parts), _same_revision(revision), jsonschema if extras else 0.0)}


if __name__ == "__main__":
    main()
