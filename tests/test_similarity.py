"""Issue 14: the similarity report (rnnkit.similarity).

Classes are built from the corpus (:mod:`tests.similarity_corpus`): independent
students draw every function from the corpus's implementations, with habits of
their own; planted copies take a student's files and rename every local name,
reorder the functions, replace the comments, reformat, and swap one function.
"""
from __future__ import annotations

import csv
import json
import random
import shutil

import pytest

from rnnkit.discovery import Submission
from rnnkit.similarity import DEFAULTS, resolve_settings, write_similarity
from rnnkit.similarity.extract import extract
from rnnkit.similarity.output import COLUMNS

from .similarity_corpus import build_class, independent, planted_copy, pools, results_of, write_class


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
    # every planted pair ranks above every other pair
    ranks = [i for i, p in enumerate(report.pairs) if (p.a, p.b) in planted_pairs]
    assert ranks == list(range(len(planted_pairs)))
    rows = list(csv.DictReader(open(tmp_path / "out" / "similarity.csv", encoding="utf-8")))
    assert rows and list(rows[0]) == COLUMNS
    assert {(r["student_a"], r["student_b"]) for r in rows if r["flagged"] == "yes"} == planted_pairs
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
