"""The Gradescope export in a clean Debian root file system, as Gradescope runs it (opt-in).

``scripts/gradescope-clean-root.sh`` debootstraps a minimal Debian, unpacks the zip
into ``/autograder/source``, runs ``setup.sh`` as root (apt, the venv, the pinned
requirements from the package index) and ``run_autograder`` on the reference
solutions handed in as a student's files. It needs root, the Debian package
registry and several minutes, so it runs only with ``RNNKIT_CLEAN_ROOT=1``;
tests/test_gradescope.py runs the same two scripts in a temporary root every time.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from .conftest import ROOT
from .gradescope_format import check_results_format

SCRIPT = ROOT / "scripts" / "gradescope-clean-root.sh"

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("RNNKIT_CLEAN_ROOT") != "1",
        reason="the clean-root Gradescope run takes minutes and the Debian package registry: set RNNKIT_CLEAN_ROOT=1 (as root) to run it",
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="the clean-root Gradescope run needs root (debootstrap and chroot)"),
]


def _mounts_under(folder: Path) -> list[str]:
    with open("/proc/mounts") as mounts:
        return [line.split()[1] for line in mounts if line.split()[1].startswith(str(folder))]


@pytest.fixture
def work():
    """A scratch folder for the root file system, removed afterwards unless something is still mounted in it."""
    folder = Path(tempfile.mkdtemp(prefix="rnnkit-clean-root-"))
    yield folder
    left = _mounts_under(folder)
    assert not left, f"still mounted, so {folder} is kept: {left}"
    shutil.rmtree(folder, ignore_errors=True)


def test_the_export_grades_in_a_clean_debian_root(work, course):
    result = subprocess.run(["bash", str(SCRIPT), str(work)], cwd=ROOT, capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, f"{SCRIPT.name} exited {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    results = json.loads((work / "root" / "autograder" / "results" / "results.json").read_text(encoding="utf-8"))
    check_results_format(results)
    assert [t["name"].split(" ")[0] for t in results["tests"]] == [f.name for f in course.functions]
    assert all(t["status"] == "passed" for t in results["tests"]), [t["name"] for t in results["tests"] if t["status"] != "passed"]
    assert results["score"] == pytest.approx(sum(f.points for f in course.functions)), "the reference: every point, bonus too"
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(course.possible), "bonus functions are extra credit"
    setup_log = (work / "setup.log").read_text(encoding="utf-8")
    assert "rnnkit sandbox:" in setup_log and "readable by root only" in setup_log, setup_log[-2000:]
