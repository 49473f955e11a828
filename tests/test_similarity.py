"""Issue 14: the similarity report (rnnkit.similarity).

Classes are built from the corpus (:mod:`tests.similarity_corpus`): independent
students draw every function from the corpus's implementations, with habits of
their own; planted copies take a student's files and rename every local name,
reorder the functions, replace the comments, reformat, and swap one function.
"""
from __future__ import annotations

import ast
import base64
import codecs
import csv
import json
import marshal
import random
import shutil
import zlib

import pytest

from rnnkit.discovery import Submission
from rnnkit.similarity import DEFAULTS, resolve_settings, write_similarity
from rnnkit.similarity.extract import boilerplate_lines, extract
from rnnkit.similarity.hidden import LABEL, hidden_reasons
from rnnkit.similarity.output import COLUMNS

from .similarity_corpus import Student, build_class, independent, planted_copy, pools, results_of, write_class


@pytest.fixture(scope="module")
def pool(course):
    return pools(course)


def _pairs(report):
    return {(p.a, p.b): p for p in report.pairs}


def test_planted_copies_are_flagged_and_independent_students_are_not(course, tmp_path):
    subs, results, planted = build_class(course, tmp_path / "class", 40, 4, seed=11)
    report = write_similarity(tmp_path / "out", subs, results, course)
    flagged = {(p.a, p.b) for p in report.flagged}
    planted_pairs = {tuple(sorted(p)) for p in planted}
    assert flagged == planted_pairs, report.pairs[:10]
    assert report.hidden == []  # ordinary notebooks: no source hidden
    # every planted pair ranks above every other pair
    ranks = [i for i, p in enumerate(report.pairs) if (p.a, p.b) in planted_pairs]
    assert ranks == list(range(len(planted_pairs)))
    rows = list(csv.DictReader(open(tmp_path / "out" / "similarity.csv", encoding="utf-8")))
    assert rows and list(rows[0]) == COLUMNS
    assert {(r["student_a"], r["student_b"]) for r in rows if r["flagged"] == "yes"} == planted_pairs
    # Names of students and their code: readable by the instructor only, as grades.csv is.
    for written in [tmp_path / "out" / "similarity.csv", *(tmp_path / "out" / "similarity").glob("*.html")]:
        assert written.stat().st_mode & 0o077 == 0, written
    for pair in report.flagged:
        page = tmp_path / "out" / pair.page
        assert page.is_file() and "<mark>" in page.read_text(encoding="utf-8")
        assert f'href="{pair.page}"' in report.html_section()


def test_a_disguised_copy_still_matches_its_original(course, pool, tmp_path):
    rng = random.Random(3)
    a = independent(course, pool, "ann", rng)
    b, _ = planted_copy(course, pool, a, "ben", rng)
    others = [independent(course, pool, f"x{i}", rng) for i in range(12)]
    subs = write_class(tmp_path / "c", [a, b, *others])
    report = write_similarity(tmp_path / "o", subs, [results_of(course, s) for s in [a, b, *others]], course)
    assert report.pairs[0].a == "ann" and report.pairs[0].b == "ben" and report.pairs[0].flagged
    # the copy renamed every local name: the raw texts share almost no lines
    own_a = extract(subs[0].files["bptt"], course, "bptt").splitlines()
    own_b = set(extract(subs[1].files["bptt"], course, "bptt").splitlines())
    assert sum(line in own_b for line in own_a) <= len(own_a) // 3


def test_independent_correct_solutions_are_never_flagged(course, tmp_path):
    subs, results, _ = build_class(course, tmp_path / "class", 50, 0, seed=21, p_wrong=0.0)
    report = write_similarity(tmp_path / "out", subs, results, course)
    assert report.flagged == []
    assert "No pair is flagged" in report.html_section()


def test_boilerplate_only_notebooks_are_never_flagged(course, tmp_path):
    students = []
    for name in ("carol", "dave", "erin", "frank"):
        folder = tmp_path / "class" / name
        folder.mkdir(parents=True)
        files = {}
        for part in course.parts:
            shutil.copy(course.assignments_dir / f"{part.name}.ipynb", folder / f"{part.name}.ipynb")
            files[part.name] = folder / f"{part.name}.ipynb"
        students.append(Submission(name, folder, files, [], {}))
    for part in course.parts:
        assert extract(students[0].files[part.name], course, part.name) == ""
    report = write_similarity(tmp_path / "out", students, [], course)
    assert report.pairs == [] and report.flagged == []
    assert (tmp_path / "out" / "similarity.csv").read_text(encoding="utf-8").strip() == ",".join(COLUMNS)


def test_the_evidence_page_escapes_hostile_student_text(course, pool, tmp_path):
    rng = random.Random(5)
    a = independent(course, pool, "x<b>a", rng)
    hostile = '    note = "</pre><script>alert(1)</script>"  # </td></table><script>\n'
    nb = json.loads(a.files["bptt.ipynb"])
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if src.startswith("def rnn_backward") and "raise NotImplementedError" not in src:
            lines = src.splitlines(keepends=True)
            cell["source"] = lines[0] + hostile + "".join(lines[1:])
    a.files["bptt.ipynb"] = json.dumps(nb)
    b, _ = planted_copy(course, pool, a, "<script>b", rng)
    b.files["bptt.ipynb"] = a.files["bptt.ipynb"]
    others = [independent(course, pool, f"x{i}", rng) for i in range(8)]
    subs = write_class(tmp_path / "c", [a, b, *others])
    report = write_similarity(tmp_path / "o", subs, [results_of(course, s) for s in [a, b, *others]], course)
    pair = report.pairs[0]
    assert {pair.a, pair.b} == {"x<b>a", "<script>b"} and pair.flagged
    page = (tmp_path / "o" / pair.page).read_text(encoding="utf-8")
    assert "<script" not in page and "</pre><script>" not in page
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in report.html_section() and "x&lt;b&gt;a" in report.html_section()
    assert (tmp_path / "o" / pair.page).parent == tmp_path / "o" / "similarity"


def test_settings_are_checked_and_can_turn_the_report_off(course, tmp_path):
    with pytest.raises(ValueError, match="unknown setting"):
        resolve_settings({"treshold": 0.5})
    assert resolve_settings({"threshold": 0.7})["threshold"] == 0.7 and DEFAULTS["threshold"] == 0.85
    report = write_similarity(tmp_path, [], [], course, {"enabled": False})
    assert report.pairs == [] and not (tmp_path / "similarity.csv").exists()


def test_the_token_text_is_copydetects_and_maps_back_to_the_code():
    from pathlib import Path

    from copydetect.utils import filter_code

    from rnnkit.similarity.tokens import token_text

    corpus = sorted((Path(__file__).parent / "corpus").glob("*/*.py"))
    for path in corpus:
        code = path.read_text(encoding="utf-8")
        assert token_text(code)[0] == filter_code(code, "x.py", "python")[0], path
    code = "    total = np.sum(values)  # comment\n    return total / len(values)\n"
    text, starts, ends = token_text(code)
    assert text == "V=V.V(V)returnV/len(V)"
    assert code[starts[0] : ends[0]] == "total" and code[starts[2] : ends[2]] == "np"
    broken = "    x = (1,\n  y = 2\n"  # brackets the boilerplate removal left open: pygments takes over
    assert token_text(broken)[0].startswith("V=(1,")


def test_mistakes_read_back_from_mistakes_csv_count_as_evidence(course, tmp_path):
    from rnnkit.similarity.behaviour import MistakeIndex, results_from_mistakes_csv

    path = tmp_path / "mistakes.csv"
    path.write_text(
        "mistake,function,explanation,students,student_ids\n"
        "step_missing_tanh,rnn_step_forward,no tanh,2,ann ben\n"
        "clip_elementwise,clip_gradient_norm,np.clip,2,ann ben\n"
        "softmax_axis0,softmax,axis 0,1,cat\n",
        encoding="utf-8",
    )
    students = results_from_mistakes_csv(path, course)
    assert {s.student for s in students} == {"ann", "ben", "cat"}
    index = MistakeIndex(students)
    shared = index.shared("ann", "ben")
    assert {m.mistake for m in shared} == {"step_missing_tanh", "clip_elementwise"}
    assert MistakeIndex.evidence(shared, resolve_settings({})) > 0
    assert index.shared("ann", "cat") == []


def test_page_names_are_safe_and_distinct():
    from rnnkit.similarity.output import page_name

    names = {page_name("a--b", "c"), page_name("a", "b--c"), page_name("../x", "y"), page_name("A", "b")}
    assert all(n.startswith("similarity/") and "/" not in n[len("similarity/") :] and ".." not in n for n in names)
    assert page_name("a--b", "c") != page_name("a", "b--c")


# --------------------------------------------------------------------------- groups sharing code


def _complete(course, pool, names, seed):
    rng = random.Random(seed)
    return [independent(course, pool, n, rng, p_wrong=0.0, p_stub=0.0) for n in names]


def _group_report(course, students, tmp_path):
    subs = write_class(tmp_path / "c", students)
    return write_similarity(tmp_path / "o", subs, [results_of(course, s) for s in students], course)


def test_three_of_five_handing_in_the_same_code_are_flagged_as_a_group(course, pool, tmp_path):
    ann, bob, cat = _complete(course, pool, ["ann", "bob", "cat"], seed=41)
    group = [ann, Student("dan", ann.impls, dict(ann.files)), Student("eve", ann.impls, dict(ann.files))]
    report = _group_report(course, [*group, bob, cat], tmp_path)
    assert {(p.a, p.b) for p in report.flagged} == {("ann", "dan"), ("ann", "eve"), ("dan", "eve")}
    assert all(p.code == pytest.approx(1.0) for p in report.flagged)


def test_two_of_three_sharing_code_are_flagged(course, pool, tmp_path):
    ann, bob = _complete(course, pool, ["ann", "bob"], seed=42)
    report = _group_report(course, [ann, bob, Student("cal", ann.impls, dict(ann.files))], tmp_path)
    assert {(p.a, p.b) for p in report.flagged} == {("ann", "cal")}


def test_starter_code_however_reformatted_is_never_evidence(course, tmp_path):
    """A class whose every student hands in the released notebooks reformatted (ast.unparse: quotes,
    docstrings and layout changed, so no line is the stub's) has nothing to compare."""
    students = []
    for name in ("kim", "lee", "max", "ned", "oli"):
        files = {}
        for part in course.parts:
            nb = json.loads((course.assignments_dir / f"{part.name}.ipynb").read_text(encoding="utf-8"))
            for cell in nb["cells"]:
                src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                if cell["cell_type"] == "code" and "%" not in src:
                    cell["source"] = ast.unparse(ast.parse(src)) + "\n"
            files[f"{part.name}.ipynb"] = json.dumps(nb)
        students.append(Student(name, {}, files))
    subs = write_class(tmp_path / "c", students)
    assert all(extract(subs[0].files[p.name], course, p.name) == "" for p in course.parts)
    report = write_similarity(tmp_path / "o", subs, [], course)
    assert report.pairs == [] and report.hidden == []


# --------------------------------------------------------------------------- source hidden

_SOFTMAX = "def softmax(z):\n    e = np.exp(z - np.max(z, axis=-1, keepdims=True))\n    return e / e.sum(axis=-1, keepdims=True)\n"
_B64 = base64.b64encode(zlib.compress(_SOFTMAX.encode())).decode()
_CODE = marshal.dumps(compile(_SOFTMAX, "x", "exec").co_consts[0])

OBFUSCATED = {
    "zlib+base64": [f"import zlib, base64\nexec(zlib.decompress(base64.b64decode('{_B64}')))"],
    "plain string": [f"exec({_SOFTMAX!r})"],
    "marshal": [f"import marshal, types\nsoftmax = types.FunctionType(marshal.loads({_CODE!r}), globals())"],
    "importlib": ["import importlib\nsoftmax = importlib.import_module('ann_solution').softmax"],
    "builtins by name": [f"import codecs\ngetattr(__builtins__, 'ex' + 'ec')(codecs.decode({codecs.encode(_SOFTMAX, 'rot13')!r}, 'rot13'))"],
    "aliased decoder in a wrapper": [
        "import numpy as np\nfrom base64 import b64decode as unpack",
        f"_impl = eval(compile(unpack('{_B64}'), 'x', 'exec'))",
        "def softmax(z):\n    return _impl(z)",
    ],
    "pickle into globals": ["import pickle\nglobals().update(pickle.loads(b'...'))"],
    "__import__": [f"__import__('zlib').decompress(b'')\nexec(__import__('base64').b64decode('{_B64}'))"],
    "star import": ["from ann_solution import *"],
    "imported": ["from ann_solution import softmax, rnn_forward"],
    "a def calling an import": ["from ann_solution import impl\ndef softmax(z):\n    return impl(z)"],
    "the stub kept, then replaced": [_SOFTMAX.replace("e = np", "raise NotImplementedError\n    e = np"), f"import zlib as z, base64 as b\nexec(z.decompress(b.b64decode('{_B64}')))"],
}

HONEST = {
    "numpy, helpers, lambdas": [
        "import numpy as np\nimport re\nfrom functools import partial",
        _SOFTMAX,
        "def _step(x, s, U, W):\n    return np.tanh(U @ x + W @ s)\nrnn_step_forward = lambda x_t, s_prev, U, W: _step(x_t, s_prev, U, W)",
        "pattern = re.compile(r'\\d+')\nsquash = lambda z: 1 / (1 + np.exp(-z))",
    ],
    "magics": ["%matplotlib inline\nimport numpy as np", "!pip install numpy", "%%time\nx = np.ones(3)", _SOFTMAX, "%timeit softmax(np.ones(4))"],
    "wrappers and conditionals": [
        "import numpy as np\nimport functools",
        "def _soft(z, axis):\n    e = np.exp(z - z.max(axis=axis, keepdims=True))\n    return e / e.sum(axis=axis, keepdims=True)",
        "softmax = functools.partial(_soft, axis=-1)",
        "try:\n    import scipy\nexcept ImportError:\n    scipy = None\nif True:\n    def rnn_forward(x, U, W, V, s0=None):\n        return x, x",
    ],
    "the check cell, pickle from a file, eval-like names": [
        "from rnnkit.checks import make_check\ncheck = make_check('rnn_forward', globals())",
        "import pickle\nwith open('weights.pkl', 'rb') as f:\n    weights = pickle.load(f)",
        _SOFTMAX + "\ndef evaluate(model):\n    model.eval()\n    return model.compile()",
    ],
    "an earlier part imported, long text data": [
        "from softmax_derivative import softmax_jacobian\n" + _SOFTMAX,
        "text = '" + "the quick brown fox jumps over the lazy dog " * 20 + "'",
    ],
    "functions left out": ["import numpy as np"],
}


@pytest.mark.parametrize("style", sorted(OBFUSCATED))
def test_obfuscated_code_is_source_hidden(course, style):
    reasons = hidden_reasons(OBFUSCATED[style], ["softmax", "rnn_forward"], boilerplate_lines(course, "rnn_forward"), frozenset(p.name for p in course.parts))
    assert reasons, style


@pytest.mark.parametrize("style", sorted(HONEST))
def test_honest_code_is_not_source_hidden(course, style):
    assert hidden_reasons(HONEST[style], ["softmax", "rnn_forward"], boilerplate_lines(course, "rnn_forward"), frozenset(p.name for p in course.parts)) == []


def test_a_classmates_code_run_from_a_compressed_blob_is_listed(course, pool, tmp_path):
    rng = random.Random(7)
    honest = [independent(course, pool, f"h{i}", rng) for i in range(6)]
    files = {}
    for name, text in honest[0].files.items():
        code = "\n\n".join("".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "code")
        blob = base64.b64encode(zlib.compress(code.encode())).decode()
        files[name.replace(".ipynb", ".py")] = f"import zlib, base64\nexec(zlib.decompress(base64.b64decode('{blob}')))\n"
    students = [*honest, Student("mallory", honest[0].impls, files)]
    subs = write_class(tmp_path / "c", students)
    report = write_similarity(tmp_path / "o", subs, [results_of(course, s) for s in students], course)
    assert {(h.student, h.part) for h in report.hidden} == {("mallory", p.name) for p in course.parts}
    assert all("exec" in h.reasons[0] and h.summary.startswith(LABEL) for h in report.hidden)
    rows = list(csv.DictReader(open(tmp_path / "o" / "similarity.csv", encoding="utf-8")))
    hidden_rows = [r for r in rows if r["reasons"].startswith(LABEL)]
    assert {(r["student_a"], r["part"], r["flagged"]) for r in hidden_rows} == {("mallory", p.name, "yes") for p in course.parts}
    section = report.html_section()
    assert "Source hidden: cannot be compared" in section and "mallory" in section and "<script" not in section


def test_a_file_built_to_break_the_reader_costs_only_itself(course, pool, tmp_path):
    rng = random.Random(9)
    students = [independent(course, pool, n, rng) for n in ("ann", "bob")]
    for name, depth in (("yan", 2000), ("zed", 5000)):  # 5000: too deep for Python's parser, so it never runs either
        students.append(Student(name, {}, {"rnn_forward.py": "x = " + "-" * depth + "1\nexec(x)\n"}))
    subs = write_class(tmp_path / "c", students)
    report = write_similarity(tmp_path / "o", subs, [], course)
    assert [h.student for h in report.hidden] == ["yan"]


def test_an_evidence_page_shows_at_most_a_bounded_share_of_a_huge_file():
    from rnnkit.similarity.output import SHOWN_CHARACTERS, _shown

    huge = "x = 1\n" * 100_000  # 600 KB of one student's own code
    shown = _shown(huge, [(0, 6), (len(huge) - 6, len(huge))])
    assert len(shown) < SHOWN_CHARACTERS + 200 and "more characters not shown" in shown
    assert _shown("y = 2\n", [(0, 1)]) == "<mark>y</mark> = 2\n"
