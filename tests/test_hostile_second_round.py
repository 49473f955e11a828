"""Attacks from a second, blind red-team pass (against the redesigned sandbox), each with its honest neighbours.

- text a student controls that is not valid UTF-8 (a lone surrogate in an exception, in a function's
  name, in a file name of the student's folder) once stopped the whole class's files from being written;
- a result that is a Python integer too large for a float raised inside the grader;
- the grader's environment reached student code in the uid and none modes;
- a work folder 1000 folders deep defeated the clean-up (a recursive remove), leaving files on the host;
- the summary line said "not root" for the none mode run as root.
"""
from __future__ import annotations

import csv
import glob
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from rnnkit.sandbox import modes

from .conftest import ROOT, make_class, reference_source

RNNKIT = [sys.executable, "-m", "rnnkit.cli"]
IS_ROOT = os.geteuid() == 0
OUTSIDE_MODES = [pytest.param("uid", marks=pytest.mark.skipif(not IS_ROOT, reason="the uid sandbox needs root")), "none"]


def _in_mode(mode: str, monkeypatch) -> str:
    if mode == "bwrap" and not modes.bwrap_works():
        pytest.skip("bubblewrap cannot run here")
    monkeypatch.setenv("RNNKIT_SANDBOX", mode)
    return mode


@pytest.fixture(params=["bwrap", *OUTSIDE_MODES])
def any_mode(request, monkeypatch) -> str:
    """Each sandbox mode in turn (RNNKIT_SANDBOX set for the test); bubblewrap skipped where it cannot run."""
    return _in_mode(request.param, monkeypatch)


@pytest.fixture(params=OUTSIDE_MODES)
def outside_mode(request, monkeypatch) -> str:
    """The modes without bubblewrap, where the work folder is on the host's /tmp."""
    return _in_mode(request.param, monkeypatch)

SURROGATE_IN_ERROR = 'def softmax(z):\n    raise ValueError("\\ud800 broken")\n'
SURROGATE_AT_LOAD = 'raise ValueError("\\udcff at load")\n'
SURROGATE_IN_NAME = (
    'def _f(z):\n    raise ValueError("x")\n'
    '_f.__code__ = _f.__code__.replace(co_name="g\\ud800", co_qualname="g\\ud800")\n'
    'def softmax(z):\n    return _f(z)\n'
)


def _grade_cli(class_dir: Path, out: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*RNNKIT, "grade", str(class_dir), "--out", str(out), "--seed", "7", "--jobs", "2"],
                          cwd=ROOT, capture_output=True, text=True, errors="replace", env=env, timeout=600)


def test_text_that_is_not_utf8_costs_only_its_author(course, tmp_path):
    good = reference_source(course, "rnn_forward")
    class_dir = make_class(tmp_path / "class", {
        "aa_honest": {"rnn_forward.py": good},
        "error": {"rnn_forward.py": SURROGATE_IN_ERROR},
        "load": {"rnn_forward.py": SURROGATE_AT_LOAD},
        "name": {"rnn_forward.py": SURROGATE_IN_NAME},
        "files": {"rnn_forward.py": good},
        "zz_honest": {"rnn_forward.py": good},
    })
    (class_dir / "files" / os.fsdecode(b"notes\xff\xfe.txt")).write_bytes(b"hello")
    out = tmp_path / "out"
    run = _grade_cli(class_dir, out)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        totals = {row["student"]: float(row["total"]) for row in csv.DictReader(f)}
    full = totals["aa_honest"]
    assert full > 0 and totals["zz_honest"] == totals["files"] == full
    assert totals["error"] < full and totals["load"] == 0 and totals["name"] < full
    assert "\\ud800 broken" in (out / "students" / "error" / "feedback.md").read_text(encoding="utf-8")
    assert "\\udcff at load" in (out / "students" / "load" / "feedback.md").read_text(encoding="utf-8")
    for name in ("report.html", "mistakes.csv", "manifest.json"):
        assert (out / name).is_file()


def test_an_integer_too_large_for_a_float_is_a_wrong_answer_not_an_internal_error(grade, course):
    good = reference_source(course, "rnn_forward")
    huge = good + "\n\ndef cross_entropy_loss(o, y):\n    return 10 ** 4000\n"
    int64 = good + "\n\ndef cross_entropy_loss(o, y):\n    return 2 ** 70\n"
    results = grade({"huge": {"rnn_forward.py": huge}, "int64": {"rnn_forward.py": int64}, "honest": {"rnn_forward.py": good}})
    for student in ("huge", "int64"):
        loss = results[student].functions["cross_entropy_loss"]
        assert loss.score == 0 and not loss.problem, loss.problem
        messages = " ".join(c.message for c in loss.cases)
        assert "internal error" not in messages and "could not be read" in messages, messages
        assert results[student].functions["rnn_forward"].score == results["honest"].functions["rnn_forward"].score
    assert results["honest"].functions["cross_entropy_loss"].score == results["honest"].functions["cross_entropy_loss"].function.points


def test_the_graders_environment_never_reaches_student_code(grade, course, monkeypatch, any_mode):
    monkeypatch.setenv("MY_API_TOKEN", "hunter2-token")
    spy = "import os\ndef softmax(z):\n    raise ValueError(repr(sorted(os.environ.items())))\n"
    result = grade({"spy": {"rnn_forward.py": spy}})["spy"]
    shown = " ".join(c.message for c in result.functions["softmax"].cases)
    assert "'PATH'" in shown  # the exception did reach the feedback
    assert "hunter2-token" not in shown and "MY_API_TOKEN" not in shown and "RNNKIT_" not in shown.replace("RNNKIT_GRADING", "")


DEEP_TREE = '''import os
start = os.getcwd()
for _ in range(1100):
    os.mkdir("d"); os.chdir("d")
with open("payload", "wb") as f:
    f.write(b"x" * (1 << 20))
os.chdir(start)
def softmax(z):
    raise RuntimeError("left a deep tree behind")
'''


def test_a_work_folder_1100_folders_deep_is_removed(grade, course, outside_mode):
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "rnnkit-work-*")))
    good = reference_source(course, "rnn_forward")
    results = grade({"aa_honest": {"rnn_forward.py": good}, "deep": {"rnn_forward.py": DEEP_TREE}, "zz_honest": {"rnn_forward.py": good}}, jobs=1)
    assert results["aa_honest"].total == results["zz_honest"].total > 0
    assert "left a deep tree behind" in results["deep"].functions["softmax"].cases[0].message
    left = set(glob.glob(os.path.join(tempfile.gettempdir(), "rnnkit-work-*"))) - before
    assert not left, f"work folders left behind: {sorted(left)}"


@pytest.mark.skipif(not IS_ROOT, reason="about the none mode run as root")
def test_the_summary_line_says_when_the_none_mode_runs_as_root():
    words = modes.describe("none", ["landlock (ABI 7)", "seccomp"])
    assert "not root" not in words and "runs as root" in words and "no process limit" in words


# --------------------------------------------------------------------------- third pass: honest code that imports


LIBRARIES = '''import glob
import numpy as np
rng = np.random.default_rng(0)     # numpy loads np.random on first use, from the course's own .venv
spectrum = np.fft.rfft(np.ones(4))
@@MORE@@
def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''


def test_honest_code_may_import_numpy_submodules_and_matplotlib_whatever_the_mode(grade, course, any_mode):
    """The kit's .venv lives in the course folder, which workers may not read; the Python installation in it may be."""
    # A uid of its own reads only what other users may read: matplotlib's own imports need the standard library
    # from disk, which a Python installed under /root (pyenv) does not allow; the README says so.
    more = "" if any_mode == "uid" else "import matplotlib\nimport matplotlib.pyplot as plt\n"
    result = grade({"amy": {"rnn_forward.py": LIBRARIES.replace("@@MORE@@", more)}})["amy"]
    softmax = result.functions["softmax"]
    assert softmax.passed, (softmax.problem, [c.message for c in softmax.cases][:1], result.parts["rnn_forward"].cell_errors)


BAD_RESULTS = {
    "digits": "def cross_entropy_loss(o, y):\n    return 10 ** 5000\n",
    "raising_object": (
        "import numpy as np\nclass Evil(np.ndarray):\n    def __reduce__(self):\n        raise KeyboardInterrupt\n"
        "    def __array_finalize__(self, obj):\n        if obj is not None and getattr(obj, 'ndim', 0) == 0:\n            raise SystemExit\n"
        "    def tolist(self):\n        raise MemoryError\n"
        "def cross_entropy_loss(o, y):\n    return np.zeros(3).view(Evil)\n"
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_RESULTS))
def test_a_result_that_cannot_be_sent_costs_that_function_only(name, grade, course):
    good = reference_source(course, "rnn_forward")
    results = grade({"aa": {"rnn_forward.py": good}, "bad": {"rnn_forward.py": good + "\n\n" + BAD_RESULTS[name]}, "zz": {"rnn_forward.py": good}})
    assert results["aa"].total == results["zz"].total > 0
    bad = results["bad"].functions
    assert bad["cross_entropy_loss"].score == 0 and not bad["cross_entropy_loss"].problem
    assert all(bad[f].passed for f in ("softmax", "rnn_step_forward", "rnn_forward")), {f: bad[f].problem for f in bad}


PLANT = "open('../planted.txt', 'w').write('from the first student')\ndef softmax(z):\n    raise ValueError('planted')\n"
READ = ("def softmax(z):\n    try:\n        found = open('../planted.txt').read()\n    except OSError as exc:\n"
        "        found = 'nothing: ' + type(exc).__name__\n    raise ValueError('FOUND ' + found)\n")


def test_a_file_left_beside_the_work_folder_never_reaches_the_next_task(grade, any_mode):
    results = grade({"a_plants": {"rnn_forward.py": PLANT}, "b_reads": {"rnn_forward.py": READ}}, jobs=1)
    message = results["b_reads"].functions["softmax"].cases[0].message
    assert "FOUND nothing" in message, message


PRIVILEGED = '''import os, stat
def _try(f):
    try:
        f()
        return "done"
    except OSError as exc:
        return type(exc).__name__
def softmax(z):
    said = [
        _try(lambda: os.mknod("kmsg", stat.S_IFCHR | 0o600, os.makedev(1, 11))),
        _try(lambda: os.setpriority(os.PRIO_PROCESS, 1, 5)),
        _try(lambda: os.setresuid(12345, 12345, 12345)),
    ]
    raise ValueError("PRIVILEGED " + " ".join(said))
'''


def test_no_device_node_other_uid_or_other_process_priority_in_any_mode(grade, any_mode):
    message = grade({"root": {"rnn_forward.py": PRIVILEGED}})["root"].functions["softmax"].cases[0].message
    assert "PRIVILEGED" in message and "done" not in message.split("PRIVILEGED", 1)[1].split("\n")[0], message


MEMORY_IN_CHILDREN = '''import os, time
import numpy as np
def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
def rnn_step_forward(x_t, s_prev, U, W):
    for _ in range(4):  # four processes of 700 MB each: every one under the limit, together far over it
        if os.fork() == 0:
            block = np.ones(700 << 17)  # 700 MB of float64, touched
            time.sleep(30)
            os._exit(0)
    time.sleep(30)
'''


def test_the_memory_limit_holds_for_all_of_a_tasks_processes_together(grade, course, any_mode):
    good = reference_source(course, "rnn_forward")
    results = grade({"hog": {"rnn_forward.py": MEMORY_IN_CHILDREN}, "zz": {"rnn_forward.py": good}}, jobs=1)
    hog = results["hog"].functions
    assert hog["softmax"].passed, "the function before keeps its credit"
    messages = " ".join(c.message for c in hog["rnn_step_forward"].cases)
    assert hog["rnn_step_forward"].score == 0 and f"more than {course.limits.memory_mb} MB of memory, all its processes" in messages, messages
    assert results["zz"].total > 0 and all(f.passed for f in results["zz"].functions.values() if f.function.part == "rnn_forward")
