"""Red-team attacks on the grader, written blind: through public behaviour only.

Every test here plays a student (or a pair of students) who tries to forge, steal or spoil a
grade, and asserts that the attempt gains nothing: the attacker scores no more than its own
real code earns, the honest classmates graded before and after it (on the same sandbox:
``jobs=1``, or several honest students around it) keep full marks, the class is graded and
no exception escapes ``grade_class``. Nothing here knows how the sandbox is built: attackers
are the files in ``tests/attacks/`` (templates, ``@@NAME@@`` replaced by a Python literal),
graded with ``grade_class(discover(...), course, ...)`` or the ``rnnkit grade`` command.

Classes are graded once per module (fixtures), then each test looks at its own students.
Tests that need the ``uid`` sandbox or another uid's files are skipped when not root.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from rnnkit.grading import discover, grade_class
from rnnkit.sandbox import modes
from rnnkit.worker.confine import landlock_abi

from .conftest import ROOT, make_class, reference_source

ATTACKS = Path(__file__).parent / "attacks"
IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="the uid sandbox needs root")
RNNKIT = Path(sys.executable).parent / "rnnkit"
PARTS = ("rnn_forward", "softmax_derivative", "bptt", "lstm", "gru")
END_MARK = "# QXZEND"  # the end of an honest file, for a thief that copies whole files from memory


# --------------------------------------------------------------------------- helpers


def attack(name: str, **subs) -> str:
    """The attacker file ``tests/attacks/<name>.py`` with its placeholders filled in."""
    text = (ATTACKS / f"{name}.py").read_text(encoding="utf-8")
    for key, value in subs.items():
        text = text.replace(f"@@{key}@@", repr(value))
    left = re.findall(r"@@[A-Z_]+@@", text)
    assert not left, f"{name}.py: placeholders left {left}"
    return text


def marker(student: str) -> str:
    """A string unique to one honest student's files (in a comment)."""
    return "ZQX" + student + "QXZ"


def honest(course, student: str, parts=PARTS) -> dict[str, str]:
    """The reference solution of each part, as an honest student hands it in, marked as theirs."""
    return {f"{p}.py": f"# {marker(student)}\n" + reference_source(course, p) + f"\n{END_MARK}\n" for p in parts}


def functions_of(course, *parts) -> list[str]:
    return [f.name for p in parts for f in course.part(p).functions]


def points_of(course, *parts) -> float:
    return sum(f.points for p in parts for f in course.part(p).functions)


def why(result) -> str:
    return (result.problem or " | ".join(c.message for c in result.cases if not c.passed))[:400]


def feedback(student_result, function: str) -> str:
    r = student_result.functions[function]
    return r.problem + "\n" + "\n".join(c.message for c in r.cases)


def assert_full_marks(course, result, parts=PARTS) -> None:
    lost = {n: why(result.functions[n]) for n in functions_of(course, *parts) if not result.functions[n].passed}
    assert not lost, f"honest student {result.student} lost credit: {lost}"


def grade(course, folder: Path, students: dict, **options) -> dict:
    """Grade a class; {student: StudentResult}, plus "__seconds__" and "__error__" (an exception that escaped)."""
    make_class(folder, students)
    started = time.monotonic()
    out: dict = {"__error__": None}
    try:
        out.update({r.student: r for r in grade_class(discover(folder, course), course, **options)})
    except BaseException as exc:  # noqa: BLE001 - the tests report it
        out["__error__"] = f"{type(exc).__name__}: {exc}"
    out["__seconds__"] = time.monotonic() - started
    return out


def no_escape(graded) -> None:
    assert graded["__error__"] is None, f"an exception escaped grade_class: {graded['__error__']}"


def world_readable_folder(prefix: str) -> Path:
    """A folder as an instructor's umask 022 leaves it (readable by everyone), not a private pytest one."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def open_up(folder: Path) -> None:
    for p in [folder, *folder.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)


def read_grades(out_dir: Path) -> dict[str, dict[str, str]]:
    with open(out_dir / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def processes_with(text: str) -> list[int]:
    """Pids whose command line or name contains ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            comm = Path(f"/proc/{entry}/comm").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline or text.encode() in comm:
            found.append(int(entry))
    return found


def shared_memory_segments(key: int) -> list[int]:
    """Ids of the System V shared memory segments with this key (in this IPC namespace)."""
    try:
        lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return []
    return [int(f[1]) for f in (line.split() for line in lines) if f and int(f[0]) == key]


def remove_shared_memory(ids) -> None:
    """Remove segments a test's student created (IPC_RMID)."""
    import ctypes

    libc = ctypes.CDLL(None)
    for shmid in ids:
        libc.shmctl(shmid, 0, None)


def kill_pids(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def cli_env(mode: str | None = None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "RNNKIT_SANDBOX"}
    if mode:
        env["RNNKIT_SANDBOX"] = mode
    env.update(extra)
    return env


def start_cli(class_dir: Path, out_dir: Path, jobs: int, mode: str | None = None, log: Path | None = None) -> subprocess.Popen:
    log_file = open(log or (out_dir.parent / f"{out_dir.name}.log"), "wb")
    return subprocess.Popen(
        [str(RNNKIT), "grade", str(class_dir), "--out", str(out_dir), "--jobs", str(jobs)],
        stdout=log_file, stderr=subprocess.STDOUT, env=cli_env(mode), start_new_session=True, cwd=ROOT,
    )


def stop_cli(process: subprocess.Popen) -> None:
    """End a CLI run this test started (its own process group, by id)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()


def notebook(*cells: dict) -> str:
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def code_cell(source: str, outputs=()) -> dict:
    return {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": list(outputs), "source": source}


# --------------------------------------------------------------------------- 7 (started first, checked last)
# A big notebook graded right after a student who keeps its process alive and stops reading.
# Today's grader may hang on it, so it runs in the background while the other attacks run;
# test_zz_a_big_file_after_a_staller_is_graded_within_limits (at the end) waits for it.

PIPE_TIMEOUT = 240.0  # seconds from the start, generous: the whole class needs a few seconds


@pytest.fixture(scope="module")
def pipe_blocking_run(course, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pipe-blocking")
    image = base64.b64encode(np.random.default_rng(7).bytes(150_000)).decode()
    big = notebook(
        {"cell_type": "markdown", "metadata": {}, "source": "My RNN, with a plot of the loss"},
        code_cell(reference_source(course, "rnn_forward"), [{"output_type": "display_data", "metadata": {}, "data": {"image/png": image, "text/plain": "<Figure>"}}]),
    )
    assert len(big.encode()) > 200_000
    students = {
        "a_honest": honest(course, "a_honest"),
        "m_staller": {"rnn_forward.py": attack("staller", LIFETIME=200)},
        "n_big_notebook": {**honest(course, "n_big_notebook"), "rnn_forward.ipynb": big},
        "z_honest": honest(course, "z_honest"),
    }
    del students["n_big_notebook"]["rnn_forward.py"]
    make_class(folder / "class", students)
    out = folder / "out"
    process = start_cli(folder / "class", out, jobs=1, log=folder / "cli.log")
    run = {"process": process, "started": time.monotonic(), "out": out, "log": folder / "cli.log"}
    yield run
    stop_cli(process)


def test_000_start_the_background_run_of_attack_7(pipe_blocking_run):
    """Starts attack 7 (pipe blocking) early, so that a hang costs no extra time; checked at the end."""
    assert pipe_blocking_run["process"].pid > 0


# --------------------------------------------------------------------------- 1. speaking the grader's protocol


@pytest.fixture(scope="module", params=["loaded", "done", "case", "replay"])
def forged(request, course, tmp_path_factory):
    kind = request.param
    students = {
        "a_honest": honest(course, "a_honest"),
        "b_control": {"rnn_forward.py": attack("forger", KIND=kind, FORGE=False)},
        "c_forger": {"rnn_forward.py": attack("forger", KIND=kind, FORGE=True), **honest(course, "c_forger", ["softmax_derivative"])},
        "z_honest": honest(course, "z_honest"),
    }
    return kind, grade(course, tmp_path_factory.mktemp(f"forged-{kind}"), students, jobs=1)


def test_forged_frames_neither_crash_nor_pay(forged, course):
    """Attack 1: forged frames (a `loaded` whose `defined` is a number, forged `done` events with odd
    fields, forged `case` results with ok: true, unhashable names) written into every inherited fd,
    at load time and inside calls; or, whatever the protocol, every message the student's process
    sends replayed twice, once with "false" turned into "true ". The class is graded, honest students before and after keep full
    marks, the forger earns no more than the same real code without forging (the control)."""
    kind, graded = forged
    no_escape(graded)
    for student in ("a_honest", "z_honest"):
        assert_full_marks(course, graded[student])
    forger, control = graded["c_forger"], graded["b_control"]
    for name in functions_of(course, "rnn_forward"):
        assert forger.functions[name].score <= control.functions[name].score, (
            f"{kind}: the forger got {forger.functions[name].score} for {name}, its real code {control.functions[name].score}"
        )
    assert control.functions["softmax"].passed  # the control's real code does earn softmax
    # the forger's other part, handed in honestly, is still graded
    assert forger.functions["softmax_jacobian"].passed, why(forger.functions["softmax_jacobian"])


@pytest.fixture(scope="module")
def stalled(course, tmp_path_factory):
    students = {
        "a_honest": honest(course, "a_honest"),
        "m_staller": {"rnn_forward.py": attack("staller", LIFETIME=150)},
        "n_honest": honest(course, "n_honest"),
        "z_honest": honest(course, "z_honest"),
    }
    return grade(course, tmp_path_factory.mktemp("stalled"), students, jobs=1)


def test_a_forged_done_and_keepalive_frames_do_not_spoil_the_next_student(stalled, course):
    """Attack 1: a student forges `done`, then sends a frame every half second to push deadlines
    back, and never ends. The next students on the same sandbox (jobs=1) must keep full marks."""
    no_escape(stalled)
    for student in ("a_honest", "n_honest", "z_honest"):
        assert_full_marks(course, stalled[student])
    assert stalled["m_staller"].total == 0  # its top level never ends, so nothing of it is defined


def test_keepalive_frames_do_not_buy_time(stalled, course):
    """Attack 1: frames every half second must not push the deadlines back: the staller gets at most
    its file's limits (load_seconds plus call_seconds per function) and some slack, not more."""
    limits = course.limits
    bound = limits.load_seconds + len(functions_of(course, "rnn_forward")) * limits.call_seconds + 30
    assert stalled["__seconds__"] < bound, f"the class took {stalled['__seconds__']:.0f} s, more than the staller's limits allow ({bound:g} s)"


# --------------------------------------------------------------------------- 2. inheriting earlier students' data

HONEST_BEFORE = [f"a{i}" for i in range(1, 7)]
MARKED_RESULTS = """
import numpy as np
MAGIC = np.array([(k + 1) * 1111.1111111111111 for k in range(4)] * 4)
for _name in {functions!r}:
    globals()[_name] = lambda *args, **kwargs: MAGIC.copy()
"""


@pytest.fixture(scope="module")
def inherited(course, tmp_path_factory):
    students = {name: honest(course, name) for name in HONEST_BEFORE}
    for name in ("a0_marked", "y_marked"):  # wrong answers with recognisable values, before and right after the honest ones
        students[name] = {f"{p}.py": MARKED_RESULTS.format(functions=functions_of(course, p)) for p in ("rnn_forward", "gru")}
    for name, mode in (("z_scan", "report"), ("z_thief_frames", "frames"), ("z_thief_source", "source")):
        students[name] = {f"{p}.py": attack("memscan", MODE=mode, FUNCS=functions_of(course, p)) for p in ("rnn_forward", "gru")}
    students["zz_honest"] = honest(course, "zz_honest")
    return grade(course, tmp_path_factory.mktemp("inherited"), students, jobs=1)


def scan_report(result, function: str) -> str:
    text = feedback(result, function)
    match = re.search(r"SCAN markers=\[([^\]]*)\] magic=(\d+) frames=(\d+) decoded=(\d+) sources=(\d+) via=(\S+)", text)
    assert match, f"the memory scanner did not report (so this test proves nothing): {text[:600]}"
    return match


def test_honest_students_around_memory_thieves_keep_full_marks(inherited, course):
    """Attack 2: six honest students, then three memory scanners, then one more honest student, on one
    sandbox (jobs=1): everyone honest keeps full marks."""
    no_escape(inherited)
    for name in [*HONEST_BEFORE, "zz_honest"]:
        assert_full_marks(course, inherited[name])


@pytest.mark.parametrize("thief", ["z_thief_frames", "z_thief_source"])
def test_memory_thieves_score_nothing(inherited, thief):
    """Attack 2: a submission that implements nothing and returns what it finds in its own memory
    (earlier students' result frames, decoded; or a classmate's whole file, executed) scores 0."""
    no_escape(inherited)
    result = inherited[thief]
    scored = {n: f.score for n, f in result.functions.items() if f.score > 0}
    assert not scored, f"{thief} earned points with data from earlier students: {scored}"


@pytest.mark.parametrize("function", ["softmax", "update_gate"])
def test_a_classmates_source_is_not_in_the_workers_memory(inherited, function):
    """Attack 2: the marker each earlier honest student put in a comment must not be findable in a
    later student's process memory (/proc/self/mem or ctypes over /proc/self/maps, and gc objects)."""
    no_escape(inherited)
    markers = [m for m in scan_report(inherited["z_scan"], function).group(1).split(",") if m]
    assert not markers, f"classmates' source text found in the worker's memory: {markers}"


@pytest.mark.parametrize("function", ["softmax", "update_gate"])
def test_earlier_result_frames_are_not_in_the_workers_memory(inherited, function):
    """Attack 2: result frames relayed for earlier students must not be readable in a later student's
    process memory."""
    no_escape(inherited)
    match = scan_report(inherited["z_scan"], function)
    assert int(match.group(3)) == 0, f"{match.group(3)} earlier result frames found in memory ({match.group(0)})"


@pytest.mark.parametrize("function", ["softmax", "update_gate"])
def test_earlier_results_are_not_in_the_workers_memory_in_any_encoding(inherited, function):
    """Attack 2: the values an earlier (marked) classmate returned must not be findable in a later
    student's process memory, neither as raw float64 array bytes nor as text, whatever the framing."""
    no_escape(inherited)
    match = scan_report(inherited["z_scan"], function)
    assert int(match.group(2)) == 0, f"an earlier student's results found {match.group(2)} times in memory ({match.group(0)})"


# --------------------------------------------------------------------------- 3. reading working code and grading data

READ_MODES = [None, pytest.param("uid", marks=needs_root), "none"]
LEAKS = ["solutions", "course_yml", "begin_solution", "demo", "pyc", "kit_mistakes", "kit_cases", "kit_import", "class_dir", "out_dir"]
CLASS_MARK = "classmate-" + uuid.uuid4().hex[:12]
OUT_MARK = "earlier-run-" + uuid.uuid4().hex[:12]
THIEVES = {
    "t_demo": ("demo", PARTS),
    "t_mistakes": ("mistakes", ("bptt",)),
    "t_solutions": ("solutions", PARTS),
}


@pytest.fixture(scope="module", params=READ_MODES, ids=lambda m: m or "default")
def reading(request, course):
    mode = request.param
    import importlib.util
    import py_compile

    demo = ROOT / "autograder" / "rnnkit" / "demo.py"  # a cached demo*.pyc exists on the host, as after `rnnkit demo`
    py_compile.compile(str(demo), cfile=importlib.util.cache_from_source(str(demo)), doraise=True)

    base = world_readable_folder("rnnkit-redteam-read-")
    class_dir, out_dir = base / "class", base / "out"
    (out_dir / "a_honest").mkdir(parents=True)
    (out_dir / "grades.csv").write_text(f"student,total\na_honest,65  # {OUT_MARK}\n")
    (out_dir / "a_honest" / "feedback.md").write_text(f"# feedback of an earlier run {OUT_MARK}\n")
    students = {
        "a_honest": {k: v + f"\n# {CLASS_MARK}\n" for k, v in honest(course, "a_honest").items()},
        "m_reader": {"rnn_forward.py": attack("reader", CLASS_DIR=str(class_dir), OUT_DIR=str(out_dir), CLASS_MARK=CLASS_MARK, OUT_MARK=OUT_MARK)},
        "z_honest": {k: v + f"\n# {CLASS_MARK}\n" for k, v in honest(course, "z_honest").items()},
    }
    for name, (method, parts) in THIEVES.items():
        students[name] = {f"{p}.py": attack("codethief", METHOD=method, PART=p, FUNCS=functions_of(course, p)) for p in parts}
    make_class(class_dir, students)
    open_up(base)
    graded = grade(course, class_dir, {}, jobs=2, mode=mode)
    yield mode, graded
    shutil.rmtree(base, ignore_errors=True)


def test_honest_students_pass_in_every_sandbox_mode(reading, course):
    """Attack 3 (control): in each sandbox mode, honest solutions still get full marks."""
    mode, graded = reading
    no_escape(graded)
    for student in ("a_honest", "z_honest"):
        assert_full_marks(course, graded[student])


@pytest.mark.parametrize("label", LEAKS)
def test_student_code_cannot_read_working_code_or_grading_data(reading, label, request):
    """Attack 3: student code looks for the kit's working code and the run's data: solutions/*.py,
    course.yml, any file with "BEGIN SOLUTION", rnnkit/demo.py, cached .pyc files, the mistake
    catalogue (working BPTT/LSTM/GRU), the case generator, importing rnnkit.demo / rnnkit.diagnosis,
    the class folder (a classmate's file) and the output folder (an earlier run's grades). It reports
    what it read in an exception message, which the feedback shows; nothing may be read.
    (Mode "none" without Landlock promises no such protection, README: its failures are expected, xfail.)"""
    mode, graded = reading
    if mode == "none" and not landlock_abi():
        request.applymarker(pytest.mark.xfail(reason="mode none: student code runs as the grader and can read its files (README)", strict=False))
    no_escape(graded)
    text = feedback(graded["m_reader"], "softmax")
    report = re.search(r"READ (.*?) END", text)
    assert report, f"the reader did not report (so this test proves nothing): {text[:600]}"
    assert f"{label}=LEAK" not in report.group(1), f"mode {mode or 'default'}: student code read {label} ({report.group(0)})"


@pytest.mark.parametrize("thief", sorted(THIEVES))
def test_working_code_from_the_kit_earns_nothing(reading, thief, request):
    """Attack 3: a student who hands in the kit's own working code (solutions/ executed, the capstone's
    stand-ins from rnnkit.demo, rnn_backward from the mistake catalogue) must score 0.
    (Mode "none" without Landlock promises no such protection, README: xfail.)"""
    mode, graded = reading
    if mode == "none" and not landlock_abi():
        request.applymarker(pytest.mark.xfail(reason="mode none: student code can read the kit (README)", strict=False))
    no_escape(graded)
    scored = {n: f.score for n, f in graded[thief].functions.items() if f.score > 0}
    assert not scored, f"mode {mode or 'default'}: {thief} earned points with the kit's code: {scored}"


# --------------------------------------------------------------------------- 4. leftovers


@pytest.fixture(scope="module", params=[None, pytest.param("uid", marks=needs_root)], ids=lambda m: m or "default")
def littered(request, course, tmp_path_factory):
    mode = request.param
    mark = "rnnkit-litter-" + uuid.uuid4().hex[:10]
    shm_key = int(uuid.uuid4().hex[:7], 16) | 0x10000000
    private_tmp = Path(tempfile.mkdtemp(prefix="rnnkit-redteam-tmpdir-"))
    private_tmp.chmod(0o1777)  # like /tmp: a grader that honours TMPDIR works here
    students = {
        "a_honest": honest(course, "a_honest", ["rnn_forward"]),
        "m_litter": {"rnn_forward.py": attack("litter", MARK=mark, SHM_KEY=shm_key)},
        "z_honest": honest(course, "z_honest", ["rnn_forward"]),
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(private_tmp))
        graded = grade(course, tmp_path_factory.mktemp("littered"), students, jobs=1, mode=mode)
    places = [Path("/tmp"), Path("/dev/shm"), Path("/var/tmp"), private_tmp, Path.home()]
    left = sorted(str(p) for place in places if place.is_dir() for p in place.glob(f"{mark}*"))
    remaining = sorted(str(p) for p in private_tmp.iterdir() if mark not in p.name)
    segments = shared_memory_segments(shm_key)
    yield mode, graded, left, remaining, segments
    remove_shared_memory(segments)
    for path in left:
        shutil.rmtree(path, ignore_errors=True) if Path(path).is_dir() else Path(path).unlink(missing_ok=True)
    shutil.rmtree(private_tmp, ignore_errors=True)


def test_student_files_do_not_survive_grading(littered, course):
    """Attack 4: files and folders a student writes to /tmp, /dev/shm, /var/tmp, $TMPDIR or $HOME must
    not survive grading; its classmates keep full marks."""
    mode, graded, left, _, _ = littered
    no_escape(graded)
    for student in ("a_honest", "z_honest"):
        assert_full_marks(course, graded[student], ["rnn_forward"])
    assert graded["m_litter"].functions["softmax"].passed
    assert not left, f"mode {mode or 'default'}: the student's files survived grading: {left}"


def test_grading_leaves_no_work_folders_behind(littered):
    """Attack 4: after a run, the grader's temporary folder ($TMPDIR, private to this test) is empty:
    no empty work folders pile up run after run."""
    mode, graded, _, remaining, _ = littered
    no_escape(graded)
    assert not remaining, f"mode {mode or 'default'}: left in $TMPDIR after grading: {remaining}"


def test_shared_memory_does_not_survive_grading(littered):
    """Attack 4: a System V shared memory segment a student creates must not outlive its grading."""
    mode, graded, _, _, segments = littered
    no_escape(graded)
    assert not segments, f"mode {mode or 'default'}: the student's shared memory segment(s) {segments} outlived grading"


@pytest.mark.parametrize("mode", [None, pytest.param("uid", marks=needs_root)], ids=lambda m: m or "default")
def test_a_sleeper_does_not_survive_kill_9_of_the_grader(mode, course, tmp_path):
    """Attack 4: a setsid, double-forked sleeper (marked in its argv, or /proc/self/comm when it cannot
    exec) must not outlive a `kill -9` of the `rnnkit grade` process that was grading it."""
    if mode is None and modes.best_mode() == "bwrap" and landlock_abi():
        # Inside bubblewrap with Landlock the sleeper cannot mark itself (its exec'd Python cannot start, and
        # /proc/self/comm is not writable), so this test would prove nothing here; the property is tested for
        # bubblewrap by tests/test_sandbox_trust.py::test_nothing_survives_a_kill_of_the_grader.
        pytest.xfail("the sleeper cannot mark itself inside bubblewrap + Landlock")
    mark = "rks" + uuid.uuid4().hex[:10]
    make_class(tmp_path / "class", {"m_sleeper": {"rnn_forward.py": attack("sleeper", MARK=mark)}, "z_honest": honest(course, "z_honest", ["rnn_forward"])})
    process = start_cli(tmp_path / "class", tmp_path / "out", jobs=1, mode=mode)
    try:
        deadline = time.monotonic() + 40
        while not processes_with(mark) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        assert processes_with(mark), f"the sleeper never started (so this test proves nothing): {(tmp_path / 'out.log').read_text()[-1500:]}"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 5
        while processes_with(mark) and time.monotonic() < deadline:
            time.sleep(0.2)
        survivors = processes_with(mark)
        assert not survivors, f"mode {mode or 'default'}: {len(survivors)} student process(es) outlived the killed grader"
    finally:
        stop_cli(process)
        kill_pids(processes_with(mark))  # the sleepers this test started


# --------------------------------------------------------------------------- 5. concurrent runs

SLOW_PARTS = ("rnn_forward", "bptt")


def slow_but_correct(course, part: str) -> str:
    """The reference, with each graded function sleeping a second on its first call in a process."""
    return reference_source(course, part) + (
        "\n\nimport functools as _functools, time as _time\n"
        "def _slowly(f):\n"
        "    state = {'slept': False}\n"
        "    @_functools.wraps(f)\n"
        "    def g(*a, **k):\n"
        "        if not state['slept']:\n"
        "            state['slept'] = True\n"
        "            _time.sleep(1.0)\n"
        "        return f(*a, **k)\n"
        "    return g\n"
        f"for _name in {functions_of(course, part)!r}:\n"
        "    globals()[_name] = _slowly(globals()[_name])\n"
    )


@needs_root
def test_two_concurrent_uid_runs_do_not_kill_each_others_workers(course, tmp_path):
    """Attack 5: two `rnnkit grade` runs at once (uid sandbox), each with three correct students and a
    slow correct one: nobody's workers are killed by the other run; everyone gets full marks."""
    runs = []
    for name in ("one", "two"):
        students = {f"{name}_{s}": honest(course, f"{name}_{s}") for s in ("a", "b", "c")}
        students[f"{name}_slow"] = {f"{p}.py": slow_but_correct(course, p) for p in SLOW_PARTS}
        make_class(tmp_path / name, students)
    for name in ("one", "two"):
        runs.append((name, start_cli(tmp_path / name, tmp_path / f"out-{name}", jobs=2, mode="uid")))
    try:
        for name, process in runs:
            process.wait(timeout=240)
    finally:
        for _, process in runs:
            stop_cli(process)
    for name, process in runs:
        log = (tmp_path / f"out-{name}.log").read_text(errors="replace")
        assert process.returncode == 0, f"run {name} failed: {log[-1500:]}"
        grades = read_grades(tmp_path / f"out-{name}")
        for student, row in grades.items():
            wanted = points_of(course, *SLOW_PARTS) if student.endswith("_slow") else points_of(course, *PARTS)
            assert float(row["total"]) == wanted, f"run {name}: {student} got {row['total']} of {wanted}"


# --------------------------------------------------------------------------- 6. memory

HOGS = {
    "h_zeros_4m": "np.zeros(4_000_000)",
    "h_float32_4m": "np.zeros(4_000_000, dtype=np.float32)",
    "h_array_60mb": "np.zeros(7_500_000)",
    "h_tuple_of_big": "tuple(np.zeros(4_000_000) for _ in range(3))",
    "h_dict_1000": "{f'k{i}': np.zeros(1000) for i in range(1000)}",
    "h_nested": "_nested(7, 5)",
    "h_deep": "_deep(1000)",
    "h_forged_60mb": "_forge_big(name)",
}
HOG_HEADER = '''
import json, os, struct
import numpy as np

def _nested(depth, width):
    return [0.5] * width if depth == 1 else [_nested(depth - 1, width) for _ in range(width)]

def _deep(depth):
    v = [1.0]
    for _ in range(depth):
        v = [v]
    return v

def _forge_big(name):
    # bypass the worker's encoder: 60 MB result frames written straight into every pipe, 12 times,
    # once per file (a flag file in the working folder)
    if not os.path.exists("forged.flag"):
        open("forged.flag", "w").close()
        head = json.dumps({"event": "case", "function": name, "case": 0, "ok": True}).encode()
        junk = bytes(60 << 20)
        frame = struct.pack("!II", len(head), len(junk)) + head + junk
        for fd in range(3, 256):
            try:
                if os.fstat(fd).st_mode & 0o170000 in (0o010000, 0o140000):  # pipes and sockets only
                    for _ in range(12):
                        os.write(fd, frame)
            except OSError:
                pass
    return np.zeros(4_000_000)
'''


def hog_file(course, part: str, expression: str) -> str:
    body = HOG_HEADER
    for name in functions_of(course, part):
        body += f"\ndef {name}(*args, **kwargs):\n    name = {name!r}\n    return {expression}\n"
    return body


@pytest.fixture(scope="module")
def hogged(course, tmp_path_factory):
    folder = tmp_path_factory.mktemp("hogged") / "class"
    students = {"a_honest": honest(course, "a_honest"), "z_honest": honest(course, "z_honest")}
    for name, expression in HOGS.items():
        students[name] = {f"{p}.py": hog_file(course, p, expression) for p in PARTS}
    make_class(folder, students)
    env = cli_env(OPENBLAS_NUM_THREADS="1")
    try:
        done = subprocess.run(
            [sys.executable, str(ATTACKS / "grade_subprocess.py"), str(ROOT), str(folder), "--jobs", "2", "--as-mb", "3000"],
            capture_output=True, text=True, timeout=400, env=env, cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        return {"error": "the grading of the memory hogs did not finish within 400 s"}
    lines = [l for l in done.stdout.splitlines() if l.startswith("{")]
    if not lines:
        return {"error": f"exit {done.returncode}, no report: {done.stderr[-1500:]}"}
    return json.loads(lines[-1])


def test_huge_results_do_not_stop_the_class(hogged, course):
    """Attack 6: ~10 students return huge results on every case of every function of every part (4M
    element arrays, a 60 MB array, a tuple of three, a dict of 1000 arrays, nested and deeply nested
    lists, 60 MB frames written straight into the pipes): the class is graded, honest students keep
    full marks, the hogs score 0. (The grader runs in a subprocess with a 3 GB address-space cap.)"""
    assert "error" not in hogged, f"grading failed: {hogged.get('error')}\n{hogged.get('traceback', '')[-1500:]}"
    for student in ("a_honest", "z_honest"):
        assert not hogged["students"][student]["failed"], f"{student} lost credit: {hogged['students'][student]['failed']}"
    for student in HOGS:
        assert hogged["students"][student]["total"] == 0


def test_huge_results_keep_the_graders_memory_small(hogged):
    """Attack 6: the grading process's own peak RSS stays under 500 MB while the hogs are graded."""
    assert "maxrss_kb" in hogged, f"no measurement: {hogged.get('error')}"
    assert hogged["maxrss_kb"] < 500 * 1024, f"the grader's peak RSS was {hogged['maxrss_kb'] / 1024:.0f} MB ({hogged.get('error') or 'no error'})"
    assert "error" not in hogged, f"grading failed: {hogged.get('error')}"


# --------------------------------------------------------------------------- 8. grade oracle

ORACLE = '''
import base64
import numpy as np

def cross_entropy_loss(o, y):
    raw = base64.b64encode(np.ascontiguousarray(o, dtype=np.float64).tobytes()).decode()
    shape = ",".join(str(n) for n in o.shape)
    targets = ",".join(str(int(v)) for v in y)
    raise RuntimeError(f"ORACLE {raw} {shape} {targets} END {o!r}")
'''
TABLE = '''
import hashlib
import numpy as np

TABLE = @@TABLE@@

def cross_entropy_loss(o, y):
    key = hashlib.sha1(np.ascontiguousarray(o, dtype=np.float64).tobytes() + np.asarray(y, dtype=np.int64).tobytes()).hexdigest()
    return TABLE.get(key, 0.0)
'''


def leaked_inputs(result) -> list[tuple[np.ndarray, np.ndarray]]:
    cases = []
    for case in result.functions["cross_entropy_loss"].cases:
        best = None
        for raw, shape, targets in re.findall(r"ORACLE (\S+) (\S+) (\S+) END", case.message):
            try:
                o = np.frombuffer(base64.b64decode(raw), dtype=np.float64).reshape(tuple(int(n) for n in shape.split(",")))
                best = (o, np.array([int(v) for v in targets.split(",")], dtype=np.int64))
            except ValueError:
                continue
        assert best is not None, f"the oracle did not leak its inputs: {case.message[:300]}"
        cases.append(best)
    return cases


@pytest.fixture(scope="module")
def oracle(course, tmp_path_factory):
    students = {"o_alpha": {"rnn_forward.py": ORACLE}, "o_beta": {"rnn_forward.py": ORACLE}}
    first = grade(course, tmp_path_factory.mktemp("oracle"), students, jobs=2)
    no_escape(first)
    table = {}
    for o, y in leaked_inputs(first["o_alpha"]):
        answer = float(-np.sum(np.log(o[np.arange(len(y)), y])))
        table[hashlib.sha1(o.tobytes() + y.tobytes()).hexdigest()] = answer
    second = grade(
        course,
        tmp_path_factory.mktemp("table"),
        {
            "t_table": {"rnn_forward.py": TABLE.replace("@@TABLE@@", repr(table))},
            "t_constant": {"rnn_forward.py": "def cross_entropy_loss(o, y):\n    return 12.3456\n"},
            "z_honest": honest(course, "z_honest", ["rnn_forward"]),
        },
        jobs=2,
    )
    return first, second


def test_the_same_file_is_graded_on_different_hidden_inputs_per_student(oracle):
    """Attack 8: one file handed in by two student ids; its cross_entropy_loss raises an exception with
    repr(o) (the hidden inputs) in it. Per-student hidden inputs: no case's feedback is the same for both."""
    first, _ = oracle
    alpha = [c.message for c in first["o_alpha"].functions["cross_entropy_loss"].cases]
    beta = [c.message for c in first["o_beta"].functions["cross_entropy_loss"].cases]
    assert alpha and beta and all("ORACLE" in m for m in alpha + beta)
    same = [i for i, (a, b) in enumerate(zip(alpha, beta)) if a == b]
    assert not same, f"cases {same} showed both students the same hidden inputs"


def test_a_table_of_leaked_answers_earns_nothing(oracle, course):
    """Attack 8: answers computed offline for the inputs one student leaked, handed in as a table of
    constants by another student id (and a plain constant): 0 points."""
    _, second = oracle
    no_escape(second)
    assert_full_marks(course, second["z_honest"], ["rnn_forward"])
    assert second["t_constant"].functions["cross_entropy_loss"].score == 0
    assert second["t_table"].functions["cross_entropy_loss"].score == 0, (
        f"a table of leaked answers earned {second['t_table'].functions['cross_entropy_loss'].score} points"
    )


# --------------------------------------------------------------------------- 9. other ways to spoil a grade

BIGINT = '''
import numpy as np
HUGE = 10 ** 400

def softmax(z):
    return HUGE

def rnn_step_forward(x_t, s_prev, U, W):
    return [HUGE] * W.shape[0]

def rnn_forward(x, U, W, V, s0=None):
    return (HUGE, -HUGE)

def cross_entropy_loss(o, y):
    return HUGE
'''
BIGINT_BPTT = '''
HUGE = 10 ** 400

def rnn_backward(x, y, U, W, V, s0=None, bptt_truncate=None):
    return {"U": HUGE, "W": HUGE, "V": HUGE}

def clip_gradient_norm(grads, max_norm):
    return {k: HUGE for k in grads}

def numerical_gradient(f, x, eps=1e-5):
    return HUGE

def state_jacobian(s_t, W):
    return -HUGE

def jacobian_product(s, W, t, k):
    return [[HUGE]]
'''
ODD = '''
import numpy as np

def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)

def softmax(z):
    return _softmax(z).astype(">f8")  # right values, big-endian

def rnn_step_forward(x_t, s_prev, U, W):
    return (np.tanh(U @ x_t + W @ s_prev) * 3).astype(np.float16)

def rnn_forward(x, U, W, V, s0=None):
    s = np.zeros((x.shape[0], W.shape[0]))
    prev = np.zeros(W.shape[0]) if s0 is None else s0
    for t in range(x.shape[0]):
        prev = s[t] = np.tanh(U @ x[t] + W @ prev)
    return (s * 1e308).astype(np.int64), np.full((x.shape[0], V.shape[0]), 1e308)

def cross_entropy_loss(o, y):
    return np.float32(3e38) * np.float32(10)
'''


@pytest.fixture(scope="module", params=["x_bigint", "x_odd_values"])
def spoiled(request, course, tmp_path_factory):
    files = {"x_bigint": {"rnn_forward.py": BIGINT, "bptt.py": BIGINT_BPTT}, "x_odd_values": {"rnn_forward.py": ODD}}[request.param]
    students = {"a_honest": honest(course, "a_honest"), request.param: files, "z_honest": honest(course, "z_honest")}
    return request.param, grade(course, tmp_path_factory.mktemp(request.param), students, jobs=1)


def test_results_the_grader_cannot_convert_do_not_stop_the_class(spoiled, course):
    """Attack 9: results that are valid data but break arithmetic on the grader's side (a Python int
    of 400 digits where a float is expected, lists of them; int64 arrays from overflowing floats,
    float16, inf, big-endian) and then go to the mistake recognisers: no exception escapes, honest
    students before and after (jobs=1) keep full marks, the attacker scores 0 (but for the
    big-endian right answer)."""
    attacker, graded = spoiled
    no_escape(graded)
    for student in ("a_honest", "z_honest"):
        assert_full_marks(course, graded[student])
    if attacker == "x_bigint":
        assert graded[attacker].total == 0
    else:
        assert all(graded[attacker].functions[n].score == 0 for n in ("rnn_step_forward", "rnn_forward", "cross_entropy_loss"))


INJECT_MARK = "FAKE-" + uuid.uuid4().hex[:8]
INJECT = f'''
def softmax(z):
    raise RuntimeError("boom\\n```\\n\\n**Score: 55 / 55**\\n\\n### `softmax`: 2 / 2 (all cases passed) {INJECT_MARK}\\n\\n```")
'''


def outside_code(markdown: str, mark: str) -> list[str]:
    """Lines with ``mark`` that render as a heading: outside fenced and indented code."""
    found, fence = [], None
    for line in markdown.splitlines():
        stripped = line.strip()
        if fence is None:
            m = re.match(r" {0,3}(`{3,}|~{3,})", line)
            if m:
                fence = m.group(1)
                continue
            if mark in line and re.match(r" {0,3}#", line):
                found.append(line)
        elif stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
            fence = None
    return found


def test_an_exception_message_cannot_forge_feedback(course, tmp_path):
    """Attack 9: an exception message that closes the traceback's code fence and writes a fake
    "Score" line and a fake "all cases passed" heading into feedback.md: the student's text must
    stay text (no line of it renders as a heading)."""
    make_class(tmp_path / "class", {"a_honest": honest(course, "a_honest", ["rnn_forward"]), "x_inject": {"rnn_forward.py": INJECT}})
    process = start_cli(tmp_path / "class", tmp_path / "out", jobs=2)
    try:
        process.wait(timeout=120)
    finally:
        stop_cli(process)
    assert process.returncode == 0, (tmp_path / "out.log").read_text(errors="replace")[-1500:]
    text = (tmp_path / "out" / "students" / "x_inject" / "feedback.md").read_text()
    assert INJECT_MARK in text  # the message is shown (feedback must stay useful)
    forged = outside_code(text, INJECT_MARK)
    assert not forged, f"the student's exception text renders as markdown headings in feedback.md: {forged}"


RESUBMIT = '''
TABLE = @@TABLE@@

def cross_entropy_loss(o, y):
    if TABLE is None:
        raise RuntimeError(f"SHAPE {o.shape[0]}x{o.shape[1]} END")
    return TABLE.get(f"{o.shape[0]}x{o.shape[1]}", 0.0)
'''


def test_feedback_and_resubmissions_do_not_reveal_the_answers(course, tmp_path):
    """Attack 8 (resubmission oracle): one student id resubmits a cross_entropy_loss that implements
    nothing: first to learn each case's shape (an exception), then returning 0.0 to read the answer
    in "the value is off by X", then refining with the error left. After seven submissions, a table of
    constants keyed by shape must still not earn full marks."""

    def submit(run: int, table) -> list:
        folder = tmp_path / f"run{run}"
        graded = grade(course, folder, {"r_student": {"rnn_forward.py": RESUBMIT.replace("@@TABLE@@", repr(table))}}, jobs=1)
        no_escape(graded)
        return graded["r_student"].functions["cross_entropy_loss"].cases

    def off_by(case) -> float | None:
        if case.passed:
            return 0.0
        m = re.search(r"off by ([0-9.eE+-]+)", case.message)
        return float(m.group(1)) if m else None

    shapes = [re.search(r"SHAPE (\d+x\d+) END", c.message) for c in submit(1, None)]
    assert all(shapes), "the exception did not reach the feedback (so this test proves nothing)"
    shapes = [m.group(1) for m in shapes]
    if len(set(shapes)) != len(shapes):
        return  # cases cannot be told apart by shape: this oracle does not apply
    guess = dict.fromkeys(shapes, 0.0)
    first = [off_by(c) for c in submit(2, guess)]
    if any(d is None for d in first):
        return  # the feedback does not say by how much an answer is off: no oracle
    guess = {s: d for s, d in zip(shapes, first)}  # a loss is positive: |0 - E| = E, to 3 digits
    for run, sign in ((3, +1), (4, -1)):
        left = [off_by(c) for c in submit(run, guess)]
        if any(d is None for d in left):
            return
        trial = {s: guess[s] + sign * d for s, d in zip(shapes, left)}
        cases = submit(run + 10, trial)
        guess = {s: trial[s] if c.passed else guess[s] for s, c in zip(shapes, cases)}
    final = submit(5, guess)
    assert not all(c.passed for c in final), "seven resubmissions of a table of constants earned full marks for cross_entropy_loss"


NETWORK = '''
import numpy as np

def softmax(z):
    import socket
    try:
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.settimeout(2)
        client.connect((b"127.0.0.1", PORT))  # bytes: no "idna" codec needed, whatever the sandbox offers
        client.sendall(b"answers please")
    except OSError:
        pass
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''


@pytest.mark.parametrize("mode", [None, pytest.param("uid", marks=needs_root)], ids=lambda m: m or "default")
def test_student_code_cannot_reach_the_network(mode, course, tmp_path):
    """Attack 9: student code connects to a server on the grading machine (a classmate's answer
    service, or a way out for the hidden inputs): no connection may arrive, in any sandbox mode."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    try:
        students = {"a_honest": honest(course, "a_honest", ["rnn_forward"]), "x_net": {"rnn_forward.py": NETWORK.replace("PORT", str(server.getsockname()[1]))}}
        graded = grade(course, tmp_path / "class", students, jobs=1, mode=mode)
        no_escape(graded)
        assert_full_marks(course, graded["a_honest"], ["rnn_forward"])
        with pytest.raises(OSError):
            connection, _ = server.accept()
            connection.close()
            raise AssertionError(f"mode {mode or 'default'}: student code reached a server on 127.0.0.1")
    finally:
        server.close()


# --------------------------------------------------------------------------- 7 (checked last)


def test_zz_a_big_file_after_a_staller_is_graded_within_limits(pipe_blocking_run, course):
    """Attack 7: a notebook over 64 KB (a big base64 image in an output cell) graded right after a
    student that keeps its process alive, forges `done` and stops reading (jobs=1): the run ends
    within its limits (here, generously, 240 s from its start), exits 0, and the notebook's author
    and the other honest students get full marks."""
    run = pipe_blocking_run
    process = run["process"]
    try:
        process.wait(timeout=max(1.0, PIPE_TIMEOUT - (time.monotonic() - run["started"])))
    except subprocess.TimeoutExpired:
        stop_cli(process)
        pytest.fail(f"`rnnkit grade` hung: not finished {PIPE_TIMEOUT:g} s after it started; log: {run['log'].read_text(errors='replace')[-800:]}")
    assert process.returncode == 0, run["log"].read_text(errors="replace")[-1500:]
    grades = read_grades(run["out"])
    full = points_of(course, *PARTS)
    for student in ("a_honest", "n_big_notebook", "z_honest"):
        assert float(grades[student]["total"]) == full, f"{student} got {grades[student]['total']} of {full}"
