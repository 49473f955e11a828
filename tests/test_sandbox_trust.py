"""The sandbox's trust boundaries: what student code can forge, steal or spoil (nothing), tested by attacking.

Each attack runs in a class with honest neighbours graded before and after the
attacker on the same zygote (``jobs=1``), whose full marks are checked too.
"""
from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rnnkit.grading import discover, grade_class
from rnnkit.sandbox import modes
from rnnkit.worker import frames

from .conftest import ROOT, make_class, reference_source

RNN_FUNCTIONS = ("softmax", "rnn_step_forward", "rnn_forward", "cross_entropy_loss")


def honest(course, marker: str = "") -> dict[str, str]:
    return {"rnn_forward.py": reference_source(course, "rnn_forward") + (f"\n# {marker}\n" if marker else "")}


def full_marks(result, functions=RNN_FUNCTIONS) -> bool:
    return all(result.functions[f].passed for f in functions)


def attacker(course, body: str) -> dict[str, str]:
    """The reference rnn_forward, with ``body`` run at the top level first (the attack)."""
    return {"rnn_forward.py": body + "\n" + reference_source(course, "rnn_forward")}


def forge(*frames_: tuple[dict, bytes]) -> str:
    """Student code that writes the given frames into every descriptor it has."""
    blob = b"".join(frames.encode_frame(h, p) for h, p in frames_)
    return (
        "import os\n"
        f"_blob = {blob!r}\n"
        "for _fd in range(0, 256):\n"
        "    try:\n"
        "        os.write(_fd, _blob)\n"
        "    except OSError:\n"
        "        pass\n"
    )


# --------------------------------------------------------------------------- the boundary in the tree


WORKER_DIR = ROOT / "autograder" / "rnnkit" / "worker"
ALLOWED_TOP = set(sys.stdlib_module_names) | {"numpy", "IPython", "landlock", "pyseccomp", "__future__"}


@pytest.mark.parametrize("path", sorted(WORKER_DIR.glob("*.py")), ids=lambda p: p.name)
def test_worker_modules_import_nothing_else_of_the_kit(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: must stay inside the worker package
                assert node.level == 1, f"{path.name} imports from outside rnnkit.worker"
                continue
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top in ALLOWED_TOP or name.startswith("rnnkit.worker"), f"{path.name} imports {name}"


def test_the_bwrap_sandbox_shows_only_the_worker_modules():
    shown = {p.relative_to(modes.package_dir()).as_posix() for p in modes.worker_files(modes.package_dir())}
    assert "__init__.py" in shown and "worker/zygote.py" in shown
    assert not {n for n in shown if not (n == "__init__.py" or n.startswith("worker/"))}


# --------------------------------------------------------------------------- one class of attackers, graded once


def _students(course) -> dict:
    students = {"a_honest_before": honest(course, "MARKER-honest-before")}
    students["b_malformed_loaded"] = attacker(course, forge(({"event": "loaded", "errors": [], "defined": 5}, b"")))
    students["c_forged_results"] = attacker(
        course,
        forge(
            ({"event": "done", "task": "x", "worker": {"status": "exited", "code": 0}, "output_bytes": 0}, b""),
            ({"event": "case", "function": "softmax", "case": 0, "ok": True}, b"\x00" * 64),
        ),
    )
    students["d_deadline_pusher"] = attacker(
        course,
        "import os, time\n"
        "def _push():\n"
        + "".join(f"    {line}\n" for line in forge(({"event": "function_start", "function": "softmax"}, b"")).splitlines())
        + "for _ in range(30):\n    _push()\n    time.sleep(1)\n",
    )
    students["e_honest_after"] = honest(course)
    big = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": 1, "source": reference_source(course, "rnn_forward"),
                      "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBOR" + "A" * 300_000}}]}],
           "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    students["f_big_notebook_after"] = {"rnn_forward.ipynb": json.dumps(big)}
    students["g_honest_last"] = honest(course)
    return students


@pytest.fixture(scope="module")
def attacked(course, tmp_path_factory):
    folder = make_class(tmp_path_factory.mktemp("attacked"), _students(course))
    results = {}

    def run():
        results.update({r.student: r for r in grade_class(discover(folder, course), course, jobs=1, seed=5)})

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(300)
    assert not thread.is_alive(), "grading did not finish: something blocked"
    return results


def test_honest_students_around_attackers_keep_full_marks(attacked):
    for name in ("a_honest_before", "e_honest_after", "f_big_notebook_after", "g_honest_last"):
        assert full_marks(attacked[name]), name


def test_a_malformed_frame_costs_only_the_attackers_part(attacked):
    r = attacked["b_malformed_loaded"]
    assert any("result channel" in m for m in r.parts["rnn_forward"].messages)
    assert r.total <= 10


def test_forged_results_and_end_frames_earn_nothing(attacked):
    r = attacked["c_forged_results"]
    assert not r.functions["softmax"].passed


def test_frames_cannot_extend_a_deadline(attacked, course):
    r = attacked["d_deadline_pusher"]
    assert r.total == 0
    assert any(word in r.functions["softmax"].problem for word in ("result channel", "took longer", "could not be run"))


# --------------------------------------------------------------------------- memory the workers are forked from


def _zygote_pids(pool) -> list[int]:
    """The zygote processes of ``pool``: its handles' processes, or (in bubblewrap) their descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [h.process.pid for h in pool.handles]
    while todo:
        pid = todo.pop()
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if command.startswith(sys.executable.encode()) and b"rnnkit.worker.zygote" in command:
            found.append(pid)
        else:
            todo += children.get(pid, [])
    return found


def _memory_holds(pid: int, needles: list[bytes]) -> list[bytes]:
    hits = set()
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            if "r" not in fields[1] or (len(fields) > 5 and fields[5].startswith("[v")):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            hits |= {n for n in needles if n in chunk}
    return sorted(hits)


@pytest.mark.skipif(os.geteuid() != 0, reason="reading another process's memory needs root here")
def test_the_zygote_never_holds_a_students_file_or_result(course, tmp_path):
    from rnnkit.grading import Task
    from rnnkit.hidden_tests import CaseSet, References
    from rnnkit.sandbox.pool import Pool
    from rnnkit.sandbox.tasks import TaskEnd

    part = course.part("rnn_forward")
    value = 12345.678901234
    source = reference_source(course, "rnn_forward") + (
        "\n# MARKER-source-7f3a9c\n"
        f"def softmax(z):\n    return np.full(z.shape, {value!r})\n"
    )
    caseset = CaseSet.draw(part, 3, References(course))
    received = []

    class Keep:
        def frame(self, header, payload):
            received.append(payload)

        def end(self, ending: TaskEnd):
            pass

    with Pool(1, course.limits) as pool:
        for _ in range(3):
            task = Task(("s", part.name), part.name, "rnn_forward.py", source.encode(), [f.name for f in part.functions],
                        inputs=caseset.inputs, case_counts=caseset.case_counts, caps=caseset.caps, seconds=60)
            pool.handles[0].run(task, Keep())
        assert any(np.float64(value).tobytes() in p for p in received), "the test's result bytes never came back"
        pids = _zygote_pids(pool)
        assert pids
        needles = [b"MARKER-source-7f3a9c", np.float64(value).tobytes()]
        for pid in pids:
            assert _memory_holds(pid, needles) == []


# --------------------------------------------------------------------------- what students can read


def test_student_code_cannot_read_the_kit_the_solutions_or_the_secret(grade, course):
    """Nor the tables of generated models kept beside the secret."""
    paths = [ROOT / "solutions" / "rnn_forward.py", ROOT / "course.yml", modes.package_dir() / "grading.py",
             modes.package_dir() / "diagnosis" / "parts" / "bptt.py", modes.package_dir() / "demo.py", ROOT / ".rnnkit" / "secret"]
    paths += sorted((ROOT / ".rnnkit" / "cache").rglob("*.npz"))[:1]  # the generated models' tables, when kept
    probe = (
        "import os\n"
        "def softmax(z):\n"
        f"    found = []\n    for p in {[str(p) for p in paths]!r}:\n"
        "        try:\n            open(p, 'rb').read(10)\n            found.append(p)\n"
        "        except OSError:\n            pass\n"
        "    import rnnkit\n"
        "    try:\n"
        "        found += [n for n in os.listdir(os.path.dirname(rnnkit.__file__)) if n not in ('__init__.py', 'worker', '__pycache__')]\n"
        "    except OSError:\n"
        "        pass\n"
        "    raise ValueError('READ ' + repr(found))\n"
    )
    for mode in dict.fromkeys([modes.best_mode(), *(["uid"] if os.geteuid() == 0 else [])]):
        result = grade({"s": {"rnn_forward.py": probe}}, mode=mode, seed=1)["s"]
        message = " ".join(c.message for c in result.functions["softmax"].cases)
        assert "READ []" in message, f"{mode}: {message[:300]}"


# --------------------------------------------------------------------------- per-student hidden inputs


def test_hidden_inputs_differ_per_student_and_file_but_not_per_run(grade, course, tmp_path):
    leak = "import hashlib\ndef softmax(z):\n    raise ValueError('INPUT ' + hashlib.sha256(z.tobytes()).hexdigest()[:12])\n"
    changed = leak + "\n# a comment changes the file\n"

    def inputs(students, **options):
        results = grade(students, **options)
        return {s: results[s].functions["softmax"].cases[0].message for s in students}

    first = inputs({"ann": {"rnn_forward.py": leak}, "ben": {"rnn_forward.py": leak}, "cat": {"rnn_forward.py": changed}})
    assert len(set(first.values())) == 3
    assert inputs({"ann": {"rnn_forward.py": leak}})["ann"] == first["ann"]
    pinned = inputs({"ann": {"rnn_forward.py": leak}, "ben": {"rnn_forward.py": leak}}, seed=11)
    assert pinned["ann"] == pinned["ben"] != first["ann"]
    # The same bytes under another accepted name get other inputs: the file can read its own name, so answers
    # computed for inputs it has seen cannot be brought back keyed by a name chosen afterwards.
    (tmp_path / "class" / "ann" / "rnn_forward.py").unlink()  # the grade fixture's class folder, from the runs above
    renamed = inputs({"ann": {"rnn_forward (2).py": leak}})
    assert renamed["ann"] != first["ann"]


# --------------------------------------------------------------------------- the grader's own failures


def test_an_exception_while_scoring_costs_that_task_only(grade, course, monkeypatch):
    from rnnkit import scoring

    original = scoring.TaskScorer.end

    def end(self, ending):
        if self.task.key[0] == "unlucky":
            raise RuntimeError("a bug in the grader")
        return original(self, ending)

    monkeypatch.setattr(scoring.TaskScorer, "end", end)
    results = grade({"lucky": honest(course), "unlucky": honest(course), "later": honest(course)}, seed=2)
    assert full_marks(results["lucky"]) and full_marks(results["later"])
    assert "internal error" in results["unlucky"].functions["softmax"].problem


# --------------------------------------------------------------------------- processes and files left behind


SLEEPER = (
    "import os, sys\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        os.execv('/bin/bash', ['bash', '-c', 'exec -a MARKER sleep 600'])\n"
    "    os._exit(0)\n"
    "import time\n"
    "time.sleep(30)\n"
)


def _processes_with(marker: bytes) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                pass
    return found


@pytest.mark.parametrize("mode", [m for m in ("bwrap", "uid", "none") if (m != "bwrap" or modes.bwrap_works()) and (m != "uid" or os.geteuid() == 0)])
def test_nothing_survives_a_kill_of_the_grader(course, tmp_path, mode):
    marker = f"sleeper-{mode}-{os.getpid()}".encode()
    body = SLEEPER.replace("MARKER", marker.decode())
    folder = make_class(tmp_path / "class", {"s": {"rnn_forward.py": body}})
    env = {**os.environ, "RNNKIT_SANDBOX": mode}
    log = tmp_path / "grader.log"
    with log.open("wb") as sink:
        grader = subprocess.Popen([sys.executable, "-m", "rnnkit.cli", "grade", str(folder), "--out", str(tmp_path / "out"), "--jobs", "1", "--seed", "1"],
                                  env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not _processes_with(marker) and grader.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _processes_with(marker):
            feedback = "\n".join(p.read_text(errors="replace")[:2000] for p in (tmp_path / "out").rglob("*.md"))
            pytest.fail(f"the sleeper never started (exit {grader.poll()}):\n{log.read_text(errors='replace')[-600:]}\n{feedback}")
        grader.send_signal(signal.SIGKILL)
        grader.wait()
        for _ in range(100):
            if not _processes_with(marker):
                break
            time.sleep(0.1)
        assert _processes_with(marker) == []
    finally:
        for pid in _processes_with(marker):
            os.kill(pid, signal.SIGKILL)
        if grader.poll() is None:
            grader.kill()


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid sandbox needs root")
def test_the_uid_sandbox_leaves_no_files_behind(grade, course):
    tag = f"rnnkit-leftover-{os.getpid()}"
    writer = (
        "import os\n"
        f"for place in ('/tmp', '/var/tmp', '/dev/shm'):\n"
        "    try:\n"
        f"        open(os.path.join(place, '{tag}'), 'w').write('x')\n"
        "    except OSError:\n"
        "        pass\n"
    )
    before = {p for p in os.listdir("/tmp") if p.startswith("rnnkit-work-")}
    results = grade({"writer": attacker(course, writer), "other": honest(course)}, mode="uid", seed=3)
    assert full_marks(results["other"]) and full_marks(results["writer"])
    for place in ("/tmp", "/var/tmp", "/dev/shm"):
        assert not os.path.exists(os.path.join(place, tag)), place
    assert {p for p in os.listdir("/tmp") if p.startswith("rnnkit-work-")} <= before


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid sandbox needs root")
@pytest.mark.parametrize("landlock", [True, False], ids=["landlock", "no-landlock"])
def test_stopping_or_killing_the_sweeper_costs_nobody_else(grade, course, monkeypatch, landlock):
    """Workers share their uid with the zygote's sweeper: without Landlock's signal scope they can
    stop or kill it. The zygote then sweeps with a fresh process, and later students lose nothing."""
    from rnnkit.sandbox.zygotes import ZygoteHandle

    if not landlock:
        monkeypatch.setattr(ZygoteHandle, "disabled_layers", ("landlock",))
    tag = f"rnnkit-sweeper-{os.getpid()}-{landlock}"
    stopper = "import os, signal\ntry:\n    os.kill(-1, signal.SIGSTOP)\nexcept OSError:\n    pass\n"
    killer = "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"
    leaver = f"open('/tmp/{tag}', 'w').write('x')\n"
    students = {"a_stopper": attacker(course, stopper), "b_leaver": attacker(course, f"try:\n    {leaver}except OSError:\n    pass\n")}
    students.update({"c_killer": attacker(course, killer), "d_honest": honest(course), "e_honest": honest(course)})
    results = grade(students, mode="uid", seed=5, jobs=1)
    assert full_marks(results["d_honest"]) and full_marks(results["e_honest"]) and full_marks(results["b_leaver"])
    assert not os.path.exists(f"/tmp/{tag}")


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid sandbox needs root")
def test_concurrent_runs_never_share_a_worker_uid(course, tmp_path):
    slow = "import time\ntime.sleep(2)\n"
    script = (
        "import sys, json\n"
        "from rnnkit.course import load_course\n"
        "from rnnkit.grading import discover, grade_class\n"
        "c = load_course(sys.argv[2])\n"
        "r = grade_class(discover(sys.argv[1], c), c, jobs=2, seed=4, mode='uid')\n"
        "print(json.dumps({s.student: s.total for s in r}))\n"
    )
    runs = []
    for n in range(2):
        students = {f"ok{i}": honest(course) for i in range(3)}
        students["slow"] = attacker(course, slow)
        folder = make_class(tmp_path / f"class{n}", students)
        runs.append(subprocess.Popen([sys.executable, "-c", script, str(folder), str(ROOT)], stdout=subprocess.PIPE, text=True))
    totals = [json.loads(run.communicate(timeout=300)[0]) for run in runs]
    for total in totals:
        assert all(total[f"ok{i}"] == 10 for i in range(3)), totals


# --------------------------------------------------------------------------- memory


def test_the_graders_memory_stays_bounded_whatever_students_return(course, tmp_path):
    huge = (
        "import numpy as np\n"
        + "".join(f"def {name}(*args, **kwargs):\n    return np.ones(3_000_000)\n" for name in RNN_FUNCTIONS)
    )
    students = {f"huge{i}": {"rnn_forward.py": huge} for i in range(6)}
    students["ok"] = honest(course)
    folder = make_class(tmp_path / "class", students)
    script = (
        "import sys, resource, json\n"
        "from rnnkit.course import load_course\n"
        "from rnnkit.grading import discover, grade_class\n"
        "c = load_course(sys.argv[2])\n"
        "r = grade_class(discover(sys.argv[1], c), c, jobs=2, seed=6)\n"
        "print(json.dumps({'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'ok': r[-1].total, 'student': r[-1].student,"
        " 'huge': max(s.total for s in r if s.student.startswith('huge')), 'message': r[0].functions['softmax'].cases[0].message}))\n"
    )
    out = json.loads(subprocess.run([sys.executable, "-c", script, str(folder), str(ROOT)], capture_output=True, text=True, timeout=300, check=True).stdout)
    assert out["student"] == "ok" and out["ok"] == 10 and out["huge"] == 0
    assert "shape (3000000,)" in out["message"]
    assert out["rss_mb"] < 500, out


# --------------------------------------------------------------------------- one fork per task, resumed after a crash


def test_a_crash_and_a_hang_in_one_part_cost_those_two_functions_only(grade, course):
    """The worker calls the functions itself; after the crash in the second one a resumed worker
    goes on, and the hang in the third costs the third only. Functions are replaced after the
    reference, so the good ones are the reference's own."""
    crash = "\ndef rnn_step_forward(x_t, s_prev, U, W):\n    import os, signal\n    os.kill(os.getpid(), signal.SIGSEGV)\n"
    hang = "\ndef rnn_forward(x, U, W, V, s0=None):\n    while True:\n        pass\n"
    source = reference_source(course, "rnn_forward") + crash + hang
    results = grade({"mixed": {"rnn_forward.py": source}, "after": honest(course)}, seed=6, jobs=1)
    mixed = results["mixed"].functions
    assert mixed["softmax"].passed and mixed["cross_entropy_loss"].passed
    step = " ".join(c.message for c in mixed["rnn_step_forward"].cases)
    forward = " ".join(c.message for c in mixed["rnn_forward"].cases)
    assert "SIGSEGV" in step and mixed["rnn_step_forward"].score == 0
    assert "did not finish within" in forward and mixed["rnn_forward"].score == 0
    assert full_marks(results["after"])
