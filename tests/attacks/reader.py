# A student who looks for working code and grading data on disk, as a stranger who knows the
# kit's public layout would: the installed package (importlib.util.find_spec('rnnkit'), then
# its folder, its __pycache__, the capstone's demo.py), the repository around it (solutions/,
# course.yml), site-packages, /tmp, the home and working folders, any file that contains
# "BEGIN SOLUTION", and the class and output folders of this grading run (their paths were
# handed to it). Every function raises an exception whose message lists what could be read:
# "READ <label>=LEAK ... END".
import importlib.util
import os
import sys
import time

CLASS_DIR = @@CLASS_DIR@@
OUT_DIR = @@OUT_DIR@@
CLASS_MARK = @@CLASS_MARK@@  # a string in every honest classmate's file
OUT_MARK = @@OUT_MARK@@  # a string in the output folder's files from an earlier run
BEGIN = "BEGIN " + "SOLUTION"
import re as _re

SOLUTION_RE = _re.compile(rb"### BEGIN " + rb"SOLUTION[^\n]*\n(.*?)### END " + rb"SOLUTION", _re.S)


def has_solution(text):
    """Solution code between nbgrader's markers (not just the marker words, as in a parser)."""
    return any(b"return" in m.group(1) for m in SOLUTION_RE.finditer(text))
leaks = {}
notes = []


def leak(label, evidence):
    leaks.setdefault(label, str(evidence)[:60])


def listing(folder, ends=""):
    """Paths in folder whose names end with ends (not the glob module: a sandbox may not offer every module)."""
    try:
        return [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(ends)]
    except OSError:
        return []


def walk_files(folder, depth=6):
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        if dirpath.count(os.sep) - folder.count(os.sep) >= depth:
            dirnames[:] = []
        out += [os.path.join(dirpath, n) for n in filenames]
    return out


def read(path, limit=4 << 20):
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except OSError:
        return None


# ---- where the kit lives
packages = set()
try:
    spec = importlib.util.find_spec("rnnkit")
    if spec is not None:
        for location in list(spec.submodule_search_locations or []) + ([os.path.dirname(spec.origin)] if spec.origin else []):
            packages.add(os.path.realpath(location))
except Exception as exc:
    notes.append(type(exc).__name__)
site_dirs = [p for p in sys.path if p and os.path.isdir(p)]
for entry in site_dirs:
    if os.path.isdir(os.path.join(entry, "rnnkit")):
        packages.add(os.path.realpath(os.path.join(entry, "rnnkit")))
    # an editable install names the source folder in a .pth file or a finder module
    for name in [p for p in listing(entry) if "rnnkit" in os.path.basename(p) or os.path.basename(p).startswith("__editable__")]:
        if not os.path.isfile(name):
            continue
        text = read(name, 1 << 16) or b""
        for token in text.replace(b"'", b'"').split(b'"'):
            token = token.strip()
            if token.startswith(b"/") and os.path.isdir(token):
                path = os.path.realpath(token.decode(errors="ignore"))
                packages.add(path if path.endswith("rnnkit") else os.path.join(path, "rnnkit"))
roots = set()
for package in packages:
    roots.add(os.path.dirname(package))
    roots.add(os.path.dirname(os.path.dirname(package)))

# ---- the kit's own files
WORKER_OK = ("__init__.py", "worker")
for package in packages:
    text = read(os.path.join(package, "demo.py"))
    if text and b"def " in text:
        leak("demo", "demo.py")
    for pyc in [p for p in walk_files(package) if p.endswith(".pyc")]:
        # a cached module whose source is hidden (or the capstone's stand-ins) is the same code
        source = os.path.join(os.path.dirname(os.path.dirname(pyc)), os.path.basename(pyc).split(".")[0] + ".py")
        if (os.path.basename(pyc).startswith("demo") or read(source, 1) is None) and read(pyc, 64):
            leak("pyc", os.path.basename(pyc))
    text = read(os.path.join(package, "diagnosis", "parts", "bptt.py"))
    if text and b"def _bptt" in text:
        leak("kit_mistakes", "diagnosis/parts/bptt.py")  # working BPTT code behind the mistake catalogue (LSTM and GRU beside it)
    text = read(os.path.join(package, "cases.py"))
    if text and b"def " in text:
        leak("kit_cases", "cases.py")  # how the hidden cases are drawn, and the default seed
for name, wanted in (("rnnkit.demo", "_standin_rnn_backward"), ("rnnkit.diagnosis.parts.bptt", "_bptt")):
    try:
        module = __import__(name, fromlist=["_"])
        if callable(getattr(module, wanted, None)):
            leak("kit_import", name)
    except BaseException:
        pass
for root in roots:
    for path in listing(os.path.join(root, "solutions"), ".py") + listing(os.path.join(root, "solutions"), ".ipynb"):
        text = read(path)
        if text:
            leak("solutions", os.path.basename(path))
            if has_solution(text):
                leak("begin_solution", path)
    text = read(os.path.join(root, "course.yml"))
    if text and b"parts" in text:
        leak("course_yml", "course.yml")

# ---- any file with "BEGIN SOLUTION" in the places a stranger would look
started = time.monotonic()
seen = 0
places = sorted(roots | packages) + [os.getcwd(), os.path.expanduser("~"), "/tmp", "/var/tmp", "/dev/shm", "/srv", "/opt", "/home"]
for place in places:
    for dirpath, dirnames, filenames in os.walk(place):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".venv", "node_modules", "site-packages", "proc")]
        if dirpath.count(os.sep) - place.count(os.sep) > 4 or time.monotonic() - started > 3.0:
            dirnames[:] = []
            continue
        for name in filenames:
            if name.endswith((".py", ".ipynb", ".txt", ".md", ".json", ".yml", ".csv")):
                seen += 1
                text = read(os.path.join(dirpath, name), 1 << 20)
                if text and BEGIN.encode() in text and has_solution(text):
                    leak("begin_solution", os.path.join(dirpath, name))

# ---- this run's class and output folders
if CLASS_DIR:
    for path in walk_files(CLASS_DIR, 2):
        text = read(path) if os.path.isfile(path) else None
        if text and CLASS_MARK.encode() in text and b"OUT_MARK = " not in text:  # not this very file
            leak("class_dir", os.path.relpath(path, CLASS_DIR))
if OUT_DIR:
    for path in walk_files(OUT_DIR):
        text = read(path) if os.path.isfile(path) else None
        if text and OUT_MARK.encode() in text:
            leak("out_dir", os.path.relpath(path, OUT_DIR))

REPORT = "READ " + " ".join(f"{k}=LEAK({v})" for k, v in sorted(leaks.items())) + f" END (packages={len(packages)} files={seen})"


def softmax(z):
    raise RuntimeError(REPORT)


def rnn_step_forward(x_t, s_prev, U, W):
    raise RuntimeError(REPORT)


def rnn_forward(x, U, W, V, s0=None):
    raise RuntimeError(REPORT)


def cross_entropy_loss(o, y):
    raise RuntimeError(REPORT)
