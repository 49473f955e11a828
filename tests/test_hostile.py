"""Hostile and broken submissions: each gets a clear message and zero for what it affects,
everything else is still graded, and nothing escapes the sandbox.

All students below are graded together in one class (as a real class would be),
then each test looks at its own student.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from rnnkit.grading import discover, grade_class
from rnnkit.sandbox import uids
from rnnkit.sandbox.modes import best_mode

from .conftest import ROOT, make_class, reference_source

GOOD_SOFTMAX = """
import numpy as np

def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
"""


def notebook(*cells: str) -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c} for c in cells],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def rnn_forward_with(**functions: str) -> str:
    """A reference rnn_forward.py with some functions replaced by the given source."""
    source = GOOD_SOFTMAX + """
def rnn_step_forward(x_t, s_prev, U, W):
    return np.tanh(U @ x_t + W @ s_prev)

def rnn_forward(x, U, W, V, s0=None):
    s = np.zeros((x.shape[0], W.shape[0]))
    prev = np.zeros(W.shape[0]) if s0 is None else s0
    for t in range(x.shape[0]):
        prev = s[t] = rnn_step_forward(x[t], prev, U, W)
    return s, softmax(s @ V.T)

def cross_entropy_loss(o, y):
    return float(-np.sum(np.log(o[np.arange(len(y)), y])))
"""
    for name, body in functions.items():
        source += f"\n{body}\n"  # a later definition replaces the good one
    return source


MARKER = Path("/tmp/rnnkit-hostile-marker")

STUDENTS = {
    "syntax_error_cell": {
        "rnn_forward.ipynb": notebook(GOOD_SOFTMAX, "def rnn_step_forward(x_t, s_prev, U, W)\n    return x_t"),
    },
    "corrupt_notebook": {"rnn_forward.ipynb": '{"cells": [ {"cell_type": "code", "sou', "softmax_derivative.py": "SOURCE:softmax_derivative"},
    "not_a_notebook": {"rnn_forward.ipynb": '["just", "a", "list"]'},
    "not_utf8": {"rnn_forward.py": b"# caf\xe9\n" + GOOD_SOFTMAX.encode()},
    "missing_function": {"rnn_forward.py": GOOD_SOFTMAX},
    "nan_and_shapes": {
        "rnn_forward.py": rnn_forward_with(
            softmax="def softmax(z):\n    return np.full(z.shape, np.nan)",
            rnn_step_forward="def rnn_step_forward(x_t, s_prev, U, W):\n    return np.tanh(U @ x_t + W @ s_prev)[None, :]",
            rnn_forward="def rnn_forward(x, U, W, V, s0=None):\n    return 'a string'",
            cross_entropy_loss="def cross_entropy_loss(o, y):\n    return [1.0, 2.0]",
        )
    },
    "exits": {
        "rnn_forward.ipynb": notebook(
            GOOD_SOFTMAX,
            "import sys\nsys.exit('stop the notebook')",
            "def rnn_step_forward(x_t, s_prev, U, W):\n    import sys\n    sys.exit(3)",
            "def rnn_forward(x, U, W, V, s0=None):\n    import os\n    os._exit(0)",
            "def cross_entropy_loss(o, y):\n    return float(-np.sum(np.log(o[np.arange(len(y)), y])))",
        )
    },
    "exit_at_top_level": {"rnn_forward.py": GOOD_SOFTMAX + "\nimport os\nos._exit(1)\n", "softmax_derivative.py": "SOURCE:softmax_derivative"},
    "hang_at_top_level": {"rnn_forward.py": GOOD_SOFTMAX + "\nimport time\ntime.sleep(1000)\n"},
    "bombs": {
        "rnn_forward.py": rnn_forward_with(
            rnn_step_forward="def rnn_step_forward(x_t, s_prev, U, W):\n    import os\n    while True:\n        os.fork()",
            rnn_forward="def rnn_forward(x, U, W, V, s0=None):\n    hog = []\n    while True:\n        hog.append(np.ones(50_000_000))",
            cross_entropy_loss="def cross_entropy_loss(o, y):\n    while True:\n        print('flood' * 100_000)",
        ),
    },
    "hang_in_function": {
        "rnn_forward.py": rnn_forward_with(rnn_step_forward="def rnn_step_forward(x_t, s_prev, U, W):\n    while True:\n        pass"),
    },
    "escapee": {
        "rnn_forward.py": rnn_forward_with(
            rnn_step_forward=(
                "def rnn_step_forward(x_t, s_prev, U, W):\n"
                "    import os, time\n"
                "    if os.fork() == 0:\n"
                "        os.setsid()\n"
                "        if os.fork() == 0:\n"
                "            time.sleep(300)\n"
                "        os._exit(0)\n"
                "    return np.tanh(U @ x_t + W @ s_prev)"
            )
        ),
    },
    "ipython_tricks": {
        "rnn_forward.ipynb": notebook(
            "%matplotlib inline\n!echo hello\nimport numpy as np",
            "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\nget_ipython().run_line_magic('reset', '-f')",
            "%%time\nx = 1",
            "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None",
            GOOD_SOFTMAX,
            "def rnn_step_forward(x_t, s_prev, U, W):\n    return np.zeros(W.shape[0])",
        )
    },
    "ignored_files": {
        "rnn_forward.py": "SOURCE:rnn_forward",
        "numpy.py": "raise SystemExit('a student numpy.py must never be imported')",
        "sitecustomize.py": "import os\nos._exit(7)",
        "conftest.py": "raise SystemExit('never imported')",
        "notes.txt": "hello",
    },
    "unsendable": {
        "rnn_forward.py": rnn_forward_with(
            softmax=(
                "class Payload:\n"
                "    def __reduce__(self):\n"
                "        return (print, ('this must never run in the grader',))\n"
                "def softmax(z):\n    return Payload()"
            ),
            rnn_step_forward="def rnn_step_forward(x_t, s_prev, U, W):\n    return np.zeros(5_000_000)",
            cross_entropy_loss="def cross_entropy_loss(o, y):\n    return np.array(['a', 'b'])",
        ),
    },
    "channel_garbage": {
        "rnn_forward.py": rnn_forward_with(
            cross_entropy_loss=(
                "def cross_entropy_loss(o, y):\n"
                "    import os\n"
                "    for fd in range(3, 64):\n"
                "        try:\n"
                "            os.write(fd, b'\\xff' * 64 + b'garbage')\n"
                "        except OSError:\n"
                "            pass\n"
                "    return 0.0"
            )
        ),
        "softmax_derivative.py": "SOURCE:softmax_derivative",
    },
    "kit_intruder": {
        "rnn_forward.py": rnn_forward_with(
            softmax=(
                "def softmax(z):\n"
                "    import importlib.util, os\n"
                f"    for target in [{str(ROOT / 'solutions' / 'pwned.txt')!r}, {str(ROOT / 'autograder' / 'rnnkit' / 'pwned.txt')!r}, {str(MARKER)!r}]:\n"
                "        try:\n"
                "            open(target, 'w').write('pwned')\n"
                "        except OSError:\n"
                "            pass\n"
                f"    spec = importlib.util.spec_from_file_location('ref', {str(ROOT / 'solutions' / 'rnn_forward.py')!r})\n"
                "    module = importlib.util.module_from_spec(spec)\n"
                "    spec.loader.exec_module(module)\n"
                "    return module.softmax(z)"
            ),
        ),
    },
    "disk_filler": {
        "rnn_forward.py": rnn_forward_with(
            rnn_step_forward=(
                "def rnn_step_forward(x_t, s_prev, U, W):\n"
                "    import os\n"
                "    for i in range(24):\n"
                "        with open(f'junk{os.getpid()}-{i}', 'wb') as f:\n"
                "            f.write(b'x' * (15 << 20))\n"
                "    return np.tanh(U @ x_t + W @ s_prev)"
            )
        ),
    },
    "fallback_thief": {
        "rnn_forward.py": rnn_forward_with(
            softmax=(
                "def softmax(z):\n"
                "    # The capstone's stand-in implementations are working code: try to borrow them.\n"
                "    import glob, importlib.util, os\n"
                "    folder = os.path.dirname(importlib.util.find_spec('rnnkit').origin)\n"
                "    source = open(os.path.join(folder, 'demo.py')).read()\n"
                "    return z\n"
            ),
            rnn_step_forward=(
                "def rnn_step_forward(x_t, s_prev, U, W):\n"
                "    import glob, importlib.util, marshal, os\n"
                "    folder = os.path.dirname(importlib.util.find_spec('rnnkit').origin)\n"
                "    cached = glob.glob(os.path.join(folder, '__pycache__', 'demo*.pyc'))\n"
                "    assert cached, 'no cached demo module'\n"
                "    return np.tanh(U @ x_t + W @ s_prev)\n"
            ),
        ),
    },
    "memory_scanner": {
        "softmax_derivative.py": (
            "import gc\nimport numpy as np\n\n"
            "def softmax_jacobian(y):\n"
            "    # Look for the answer anywhere in this process's memory: a (K, K) array that is not ours.\n"
            "    for obj in gc.get_objects():\n"
            "        if isinstance(obj, dict):\n"
            "            for v in obj.values():\n"
            "                if isinstance(v, np.ndarray) and v.shape == (len(y), len(y)) and np.allclose(v.sum(axis=1), 0):\n"
            "                    return v\n"
            "    return np.zeros((len(y), len(y)))\n\n"
            "def softmax_cross_entropy_grad(o, y):\n"
            "    return np.zeros_like(o)\n"
        ),
    },
    "network": {
        "rnn_forward.py": rnn_forward_with(
            softmax=(
                "def softmax(z):\n"
                "    import socket\n"
                "    socket.create_connection(('127.0.0.1', PORT), timeout=2).sendall(b'leak')\n"
                "    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
                "    return e / e.sum(axis=-1, keepdims=True)"
            )
        ),
    },
}


@pytest.fixture(scope="module")
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    yield server
    server.close()


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory, listener):
    folder = tmp_path_factory.mktemp("hostile-class")
    students = {}
    for student, files in STUDENTS.items():
        students[student] = {}
        for name, body in files.items():
            if isinstance(body, str) and body.startswith("SOURCE:"):
                body = reference_source(course, body.removeprefix("SOURCE:"))
            if isinstance(body, str):
                body = body.replace("PORT", str(listener.getsockname()[1]))
            students[student][name] = body
    make_class(folder, students)
    (folder / "symlinker").mkdir()
    (folder / "symlinker" / "rnn_forward.py").symlink_to(ROOT / "solutions" / "rnn_forward.py")
    MARKER.unlink(missing_ok=True)
    started = time.monotonic()
    results = {r.student: r for r in grade_class(discover(folder, course), course, jobs=2)}
    results["__seconds__"] = time.monotonic() - started
    return results


def problems(result, *names):
    return [result.functions[n].problem for n in names]


def messages(result, name):
    return " ".join(c.message for c in result.functions[name].cases)


def test_a_syntax_error_costs_only_its_cell(graded):
    r = graded["syntax_error_cell"]
    assert r.functions["softmax"].passed
    assert "no function `rnn_step_forward`" in r.functions["rnn_step_forward"].problem
    assert "SyntaxError" in r.parts["rnn_forward"].cell_errors[0]["summary"]


def test_a_corrupt_notebook_is_reported_and_other_parts_are_graded(graded):
    r = graded["corrupt_notebook"]
    for problem in problems(r, "softmax", "rnn_forward"):
        assert "is not a valid notebook" in problem and "line 1" in problem
    assert r.functions["softmax_jacobian"].passed and r.functions["softmax_cross_entropy_grad"].passed
    assert "JSON but not a notebook" in graded["not_a_notebook"].functions["softmax"].problem


def test_a_file_that_is_not_utf8_is_reported(graded):
    assert "is not UTF-8 text" in graded["not_utf8"].functions["softmax"].problem


def test_a_missing_function_is_named(graded):
    r = graded["missing_function"]
    assert r.functions["softmax"].passed
    assert "There is no function `rnn_forward`" in r.functions["rnn_forward"].problem


def test_nan_wrong_shape_and_wrong_type_are_explained(graded):
    r = graded["nan_and_shapes"]
    assert "non-finite values (nan)" in messages(r, "softmax")
    assert "expected shape" in messages(r, "rnn_step_forward") and "found shape (1," in messages(r, "rnn_step_forward")
    assert "expected a tuple of 2 items, but the function returned a value of type str" in messages(r, "rnn_forward")
    assert "expected a single number; found a list of 2 items" in messages(r, "cross_entropy_loss")
    assert all(r.functions[n].score == 0 for n in ("softmax", "rnn_step_forward", "rnn_forward", "cross_entropy_loss"))


def test_exits_cost_only_what_they_affect(graded):
    r = graded["exits"]
    assert r.functions["softmax"].passed and r.functions["cross_entropy_loss"].passed
    assert "SystemExit: stop the notebook" in r.parts["rnn_forward"].cell_errors[0]["summary"]
    assert "SystemExit: 3" in messages(r, "rnn_step_forward")
    assert "ended the Python process" in messages(r, "rnn_forward")


def test_an_exit_at_top_level_zeroes_that_part_only(graded):
    r = graded["exit_at_top_level"]
    assert "ended the Python process" in r.functions["softmax"].problem
    assert r.functions["softmax_jacobian"].passed


def test_a_hang_at_top_level_is_stopped(graded, course):
    assert f"took longer than {course.limits.load_seconds:g} s" in graded["hang_at_top_level"].functions["softmax"].problem


def test_bombs_and_floods_cost_only_their_function(graded):
    r = graded["bombs"]
    assert r.functions["softmax"].passed
    assert "BlockingIOError" in messages(r, "rnn_step_forward") or "killed" in messages(r, "rnn_step_forward")
    assert any(w in messages(r, "rnn_forward") for w in ("memory", "did not finish"))
    assert any(w in messages(r, "cross_entropy_loss") for w in ("printed or wrote more than", "did not finish"))
    assert all(r.functions[n].score == 0 for n in ("rnn_step_forward", "rnn_forward", "cross_entropy_loss"))


def test_a_hang_in_a_function_costs_seconds(graded, course):
    r = graded["hang_in_function"]
    assert "did not finish within" in messages(r, "rnn_step_forward")
    assert r.functions["softmax"].passed and r.functions["cross_entropy_loss"].passed
    # rnn_forward uses the hanging step, so it times out too; the rest of the class was still graded.
    assert graded["__seconds__"] < 120


def test_no_student_process_survives_grading(graded):
    assert graded["escapee"].functions["rnn_step_forward"].passed
    worker_uids = range(uids.BASE, uids.BASE + uids.SLOTS)
    survivors = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                owner = os.stat(f"/proc/{entry}").st_uid
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            # A process forked from one of our zygotes carries its command line.
            if b"rnnkit.worker.zygote" in command and (owner in worker_uids or os.geteuid() != 0):
                survivors.append(entry)
    assert not survivors


def test_ipython_syntax_is_harmless_and_cannot_switch_off_grading(graded):
    r = graded["ipython_tricks"]
    assert not any("SyntaxError" in e["summary"] for e in r.parts["rnn_forward"].cell_errors)
    assert r.functions["softmax"].passed  # the cell after the input transformer still ran
    assert r.functions["rnn_step_forward"].score == 0  # and a patched np.allclose changes nothing


def test_files_other_than_part_files_are_ignored(graded):
    r = graded["ignored_files"]
    assert {"numpy.py", "sitecustomize.py", "conftest.py", "notes.txt"} <= set(r.ignored_files)
    assert all(r.functions[f].passed for f in ("softmax", "rnn_step_forward", "rnn_forward", "cross_entropy_loss"))


def test_results_are_never_unpickled_and_huge_or_odd_results_are_refused(graded, capsys):
    r = graded["unsendable"]
    assert "returned a value of type Payload" in messages(r, "softmax")
    assert "more than" in messages(r, "rnn_step_forward")
    assert "dtype <U1" in messages(r, "cross_entropy_loss")
    assert "this must never run in the grader" not in capsys.readouterr().out


def test_garbage_on_the_result_channel_stops_only_that_part(graded):
    r = graded["channel_garbage"]
    assert r.functions["softmax"].passed
    assert r.functions["cross_entropy_loss"].score == 0
    assert r.functions["softmax_jacobian"].passed


def test_a_symlink_to_the_reference_is_refused(graded):
    r = graded["symlinker"]
    assert all(r.functions[f].score == 0 for f in ("softmax", "rnn_forward"))
    assert "could not be read" in r.functions["softmax"].problem or "not a regular file" in r.functions["softmax"].problem


def test_the_reference_answers_are_not_in_the_workers_memory(graded):
    assert graded["memory_scanner"].functions["softmax_jacobian"].score == 0


@pytest.mark.skipif(best_mode() != "bwrap", reason="needs bubblewrap (the kit's full sandbox)")
def test_the_sandbox_hides_the_kit_and_cannot_write_to_it(graded):
    r = graded["kit_intruder"]
    assert r.functions["softmax"].score == 0
    assert "No such file or directory" in messages(r, "softmax") or "FileNotFoundError" in messages(r, "softmax")
    assert not (ROOT / "solutions" / "pwned.txt").exists()
    assert not (ROOT / "autograder" / "rnnkit" / "pwned.txt").exists()
    assert not MARKER.exists()


@pytest.mark.skipif(best_mode() != "bwrap", reason="needs bubblewrap (the kit's full sandbox)")
def test_the_capstones_working_stand_ins_are_hidden_from_student_code(graded):
    import rnnkit.demo  # noqa: F401 - makes sure a cached demo*.pyc exists on the host

    r = graded["fallback_thief"]
    assert "FileNotFoundError" in messages(r, "softmax")
    assert "no cached demo module" in messages(r, "rnn_step_forward")


@pytest.mark.skipif(best_mode() != "bwrap", reason="needs bubblewrap (the kit's full sandbox)")
def test_the_sandbox_has_no_network(graded, listener):
    r = graded["network"]
    assert r.functions["softmax"].score == 0
    with pytest.raises(OSError):
        listener.accept()


def test_the_uid_sandbox_also_contains_a_hang_and_a_fork_bomb(course, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the uid sandbox needs root")
    folder = make_class(tmp_path / "class", {"s": {"rnn_forward.py": STUDENTS["bombs"]["rnn_forward.py"]}})
    (result,) = grade_class(discover(folder, course), course, jobs=1, mode="uid")
    assert result.functions["softmax"].passed
    assert result.functions["rnn_step_forward"].score == 0


def test_filling_the_disk_costs_only_that_function(graded):
    r = graded["disk_filler"]
    assert r.functions["softmax"].passed and r.functions["cross_entropy_loss"].passed
    if best_mode() == "bwrap":  # the sandbox's /tmp is capped; elsewhere the files are only swept afterwards
        assert r.functions["rnn_step_forward"].score == 0
        assert "No space left on device" in messages(r, "rnn_step_forward")


def test_a_flood_of_output_is_noted(graded):
    notes = graded["bombs"].parts["rnn_forward"].messages
    assert any("printed more than" in m for m in notes)


def test_a_function_that_raises_not_implemented_for_some_cases_gets_partial_credit(grade, course):
    partial = (
        "import numpy as np\n\n"
        "def softmax(z):\n"
        "    if z.ndim == 2:\n"
        "        raise NotImplementedError('2-D input is not done yet')\n"
        "    e = np.exp(z - z.max())\n"
        "    return e / e.sum()\n"
    )
    result = grade({"s": {"rnn_forward.py": partial}})["s"].functions["softmax"]
    assert not result.not_implemented and not result.problem
    assert 0 < result.score < result.function.points


def test_an_unreadable_student_folder_does_not_stop_the_class(course, tmp_path, monkeypatch):
    folder = make_class(tmp_path / "class", {"ok": {"rnn_forward.py": GOOD_SOFTMAX}, "locked": {"rnn_forward.py": GOOD_SOFTMAX}})
    real_iterdir = Path.iterdir

    def iterdir(self):  # as an unreadable folder behaves for a grader that is not root
        if self.name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    results = {r.student: r for r in grade_class(discover(folder, course), course, jobs=1)}
    assert results["ok"].functions["softmax"].passed
    assert "could not be read (Permission denied)" in results["locked"].parts["rnn_forward"].messages[0]
    assert results["locked"].total == 0
