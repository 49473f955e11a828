"""`rnnkit export gradescope`: the zip installs with its own setup.sh and grades in the sandbox.

The test unpacks the zip into a temporary root laid out like Gradescope's
(``source/``, ``submission/``, ``results/``), runs ``setup.sh`` for real (its
venv, its pip installs of the requirements and of the kit, its chmod), with two
shortcuts that keep the test fast and offline: apt is skipped (bubblewrap is
already here, or the test runs in the weaker sandbox), and the venv is created
beforehand with this venv's site-packages on its path, so the requirements are
already satisfied (the kit itself is still built and installed from the zip).
Then ``run_autograder`` grades a correct and a wrong submission.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from rnnkit.cli import main

from .conftest import reference_source
from .ecosystem_helpers import kit_scores, run, wrong_source
from .gradescope_format import check_results_format

PROBE = '''

def softmax(z):
    """The reference's softmax, unless the reference solutions can be read (os only: the worker imports nothing new)."""
    import os
    paths = [{reference!r}] + [os.path.join(d, f) for d, _, fs in os.walk({root!r} + "/source") for f in fs]
    for path in paths:
        try:
            open(path).read()
        except OSError:
            continue
        raise RuntimeError("read " + path)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''


@pytest.fixture(scope="module")
def autograder(request, course):
    """The root, after unpacking the zip and running setup.sh."""
    # Not under pytest's own folder, which others cannot enter: the reference must be
    # unreadable because setup.sh made it so, not because of where the test put it.
    work = Path(tempfile.mkdtemp(prefix="rnnkit-gradescope-"))
    os.chmod(work, 0o755)
    request.addfinalizer(lambda: shutil.rmtree(work, ignore_errors=True))
    archive = work / "autograder.zip"
    result = CliRunner().invoke(main, ["export", "gradescope", "--out", str(archive)])
    assert result.exit_code == 0, result.output
    root = work / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        for info in z.infolist():
            z.extract(info, root / "source")
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(root / "source" / info.filename, mode)
    requirements = (root / "source" / "requirements.txt").read_text()
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
    site = next((root / "venv" / "lib").glob("python*/site-packages"))
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    setup = run(["bash", "setup.sh"], cwd=root / "source", AUTOGRADER_ROOT=str(root), RNNKIT_SKIP_APT="1", RNNKIT_PYTHON=sys.executable)
    return {"root": root, "names": names, "requirements": requirements, "setup_output": setup.stdout + setup.stderr}


def _grade(root: Path, files: dict[str, str], **env: str) -> dict:
    submission = root / "submission"
    if submission.exists():
        for path in sorted(submission.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    for name, text in files.items():
        (submission / name).parent.mkdir(parents=True, exist_ok=True)
        (submission / name).write_text(text, encoding="utf-8")
    run(["bash", str(root / "source" / "run_autograder")], cwd=root, AUTOGRADER_ROOT=str(root), **env)
    return json.loads((root / "results" / "results.json").read_text())


def test_the_zip_has_gradescope_layout_and_the_kit(autograder):
    names = set(autograder["names"])
    assert {"setup.sh", "run_autograder", "requirements.txt", "kit/pyproject.toml", "kit/course.yml"} <= names
    assert "kit/src/rnnkit/worker/zygote.py" in names and "kit/solutions/rnn_forward.py" in names
    assert not any("__pycache__" in n or n.startswith("tests/") for n in names)
    assert "numpy" in autograder["requirements"]
    assert not any("example_class" in n for n in names), "the example class's hostile files are not shipped"


def test_requirements_are_pinned_to_the_tested_versions(autograder):
    from importlib.metadata import version

    lines = [line for line in autograder["requirements"].splitlines() if line.strip()]
    assert lines
    for line in lines:
        name, _, pinned = line.partition("==")
        assert pinned, f"{line!r} is not pinned"
        assert pinned == version(name), line


def test_setup_installs_the_kit_into_its_venv_and_locks_the_reference_away(autograder):
    root = autograder["root"]
    where = run([str(root / "venv" / "bin" / "python"), "-c", "import rnnkit; print(rnnkit.__file__)"], cwd=root).stdout.strip()
    assert where.startswith(str(root / "venv")), f"the autograder's rnnkit is not the one it installed: {where}"
    assert "rnnkit sandbox:" in autograder["setup_output"]
    assert "could read world-readable files such as solutions/" not in autograder["setup_output"]
    if os.geteuid() == 0:
        assert "readable by root only" in autograder["setup_output"], autograder["setup_output"][-1000:]
    for path in [root / "source", *(root / "source").rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path} is readable by others"


def test_a_correct_submission_gets_full_marks_and_cannot_read_the_reference(autograder, course):
    root = autograder["root"]
    files = {f"{p.name}.py": reference_source(course, p.name) for p in course.parts}
    reference = str(root / "source" / "kit" / "solutions" / "rnn_forward.py")
    files["rnn_forward.py"] += PROBE.format(root=str(root), reference=reference)
    # As root, force the uid sandbox: its only protection of the reference is setup.sh's chmod.
    env = {"RNNKIT_SANDBOX": "uid"} if os.geteuid() == 0 else {}
    results = _grade(root, files, **env)
    total = sum(f.points for f in course.functions)
    assert results["score"] == pytest.approx(total)
    assert all(t["status"] == "passed" for t in results["tests"]), [t["name"] for t in results["tests"] if t["status"] != "passed"]
    assert results["stdout_visibility"] == "hidden"
    assert [t["name"].split(" ")[0] for t in results["tests"]] == [f.name for f in course.functions]
    check_results_format(results)
    bonus = [t for t in results["tests"] if "bonus" in t["name"]]
    assert len(bonus) == 2 and all(t["max_score"] == 0 and t["score"] > 0 for t in bonus), "bonus as extra credit"
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(course.possible)
    assert results["output"].startswith(f"{total:g} / {course.possible:g} points")


def test_a_wrong_submission_gets_the_same_scores_as_rnnkit_grade(autograder, course, tmp_path):
    root = autograder["root"]
    parts = ["rnn_forward", "bptt"]
    files = {f"my-work/{p}.py": wrong_source(course, p) for p in parts}  # Gradescope keeps uploaded folders
    files["my-work/notes.txt"] = "not graded"
    results = _grade(root, files)
    for p in parts:
        (tmp_path / f"{p}.py").write_text(files[f"my-work/{p}.py"], encoding="utf-8")
    expected = kit_scores(course, {"w": {p: tmp_path / f"{p}.py" for p in parts}})["w"]
    found = {t["name"].split(" ")[0]: t["score"] for t in results["tests"]}
    assert found == expected
    assert 0 < results["score"] < sum(f.points for f in course.functions if f.part in parts)
    assert any(0 < t["score"] < t["max_score"] for t in results["tests"]), "a partial score by case"
    for test in results["tests"]:
        assert test["visibility"] == "visible" and test["output_format"] == "md"
    failed = next(t for t in results["tests"] if t["name"].startswith("rnn_step_forward"))
    assert "Hint" in failed["output"] and not re.search(r"\d\.\d{6,}", failed["output"]), "feedback shows no hidden values"
    not_handed_in = next(t for t in results["tests"] if t["name"].startswith("lstm_forward"))
    assert not_handed_in["score"] == 0 and "handed in" in not_handed_in["output"]
    check_results_format(results)
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(course.possible), "the maxima add up to the total"
    assert sum(t["score"] for t in results["tests"]) == pytest.approx(results["score"])
    assert results["output"].startswith(f"{results['score']:g} / {course.possible:g} points")
    skipped = next(t for t in results["tests"] if t["name"].startswith("lstm_backward"))
    assert skipped["status"] == "passed" and skipped["max_score"] == 0 and "Not attempted" in skipped["output"]


def test_setup_builds_the_diagnosis_tables_and_a_submission_only_reads_them(autograder, course):
    cache = autograder["root"] / "source" / "kit" / ".rnnkit" / "cache"
    tables = {path: path.stat().st_mtime_ns for path in cache.rglob("*.npz")}
    built = {kind: {path.name.split(".")[-3] for path in tables if path.parent.name == kind} for kind in ("generated", "catalogue")}
    assert built["generated"] == {f.name for f in course.functions}, "one generated models' table per function"
    assert built["catalogue"] and built["catalogue"] <= {f.name for f in course.functions}
    assert f"tables built for {len(course.functions)} functions" in autograder["setup_output"]
    files = {f"{p}.py": wrong_source(course, p) for p in ("rnn_forward", "lstm", "gru")}
    results = _grade(autograder["root"], files)
    assert any(t["score"] < t["max_score"] for t in results["tests"]), "some function failed, so the diagnosis ran"
    assert {path: path.stat().st_mtime_ns for path in cache.rglob("*.npz")} == tables, "the submission built no table"


def test_the_grading_entry_point_grades_with_the_course_it_is_given(course, tmp_path, monkeypatch):
    """`python -m rnnkit.export.gradescope --root R` with RNNKIT_COURSE elsewhere (no R/source/kit): it grades all the same."""
    from rnnkit.export import gradescope

    monkeypatch.setenv("RNNKIT_COURSE", str(course.root))
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "rnn_forward.py").write_text((course.solutions_dir / "rnn_forward.py").read_text(encoding="utf-8"), encoding="utf-8")
    assert gradescope.run(tmp_path, seed=3) == 0
    data = json.loads((tmp_path / "results" / "results.json").read_text(encoding="utf-8"))
    assert data["score"] == 10
