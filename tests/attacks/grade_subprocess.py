"""Grade a class in a fresh process and print one JSON line: per student its total and the
functions it did not pass, the grading process's own peak RSS (ru_maxrss, KB) and the time.

    python grade_subprocess.py ROOT CLASS_DIR [--jobs N] [--mode M] [--as-mb MB]

--as-mb caps the process's address space (and so its children's), so that a grader whose
memory runs away fails here instead of taking the machine with it.
"""
import argparse
import json
import resource
import sys
import time
import traceback
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("root")
parser.add_argument("class_dir")
parser.add_argument("--jobs", type=int, default=2)
parser.add_argument("--mode", default=None)
parser.add_argument("--as-mb", type=int, default=0)
args = parser.parse_args()
if args.as_mb:
    limit = args.as_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

from rnnkit.course import load_course  # noqa: E402
from rnnkit.grading import discover, grade_class  # noqa: E402

started = time.monotonic()
out = {}
try:
    course = load_course(Path(args.root))
    results = grade_class(discover(Path(args.class_dir), course), course, jobs=args.jobs, mode=args.mode)
    out["students"] = {r.student: {"total": r.total, "failed": [n for n, f in r.functions.items() if not f.passed]} for r in results}
except BaseException as exc:  # noqa: BLE001 - reported to the test
    out["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()[-1500:]
    out["traceback"] = traceback.format_exc()[-3000:]
out["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out["seconds"] = time.monotonic() - started
print(json.dumps(out))
sys.exit(1 if "error" in out else 0)
