"""Finding a student's part files: exact names, the obvious renamings, and a clear note when a part is missing."""
from __future__ import annotations

import os

import pytest

from rnnkit.discovery import discover, part_of
from rnnkit.export.gradescope import find_submission
from rnnkit.feedback import feedback_markdown

from .conftest import make_class, reference_source

PARTS = {"rnn_forward", "softmax_derivative", "bptt", "lstm", "gru"}


@pytest.mark.parametrize(
    "name",
    ["rnn_forward (1).ipynb", "rnn_forward (12).py", "rnn_forward copy.ipynb", "rnn_forward copy 2.ipynb",
     "rnn_forward - Copy.ipynb", "rnn_forward-1.ipynb", "RNN_Forward.ipynb", "Copy of rnn_forward.ipynb"],
)
def test_an_obvious_renaming_is_the_part(tmp_path, name):
    found = part_of(tmp_path / name, PARTS)
    assert found is not None and found.part == "rnn_forward" and not found.exact


@pytest.mark.parametrize("name", ["rnn_forwards.ipynb", "rnn.ipynb", "numpy.py", "rnn_forward.txt", "rnn_forward.IPYNB", " (1).py"])
def test_other_names_are_no_part(tmp_path, name):
    assert part_of(tmp_path / name, PARTS) is None


def test_a_renamed_notebook_is_graded_with_a_note(tmp_path, course):
    make_class(tmp_path, {"dana": {"rnn_forward (1).ipynb": "{}", "notes.txt": "hi"}})
    (sub,) = discover(tmp_path, course)
    assert sub.files == {"rnn_forward": tmp_path / "dana" / "rnn_forward (1).ipynb"}
    assert "Graded `rnn_forward (1).ipynb` as `rnn_forward.ipynb`." in " ".join(sub.notes["rnn_forward"])
    assert sub.ignored == ["notes.txt"]


def test_the_exact_name_wins_over_a_copy(tmp_path, course):
    make_class(tmp_path, {"erin": {"bptt (1).ipynb": "{}", "bptt.ipynb": "{}", "BPTT.py": "", "bptt.py": ""}})
    (sub,) = discover(tmp_path, course)
    assert sub.files["bptt"].name == "bptt.ipynb"
    note = " ".join(sub.notes["bptt"])
    assert "Graded `bptt" not in note and "`bptt (1).ipynb`" in note and "`bptt.py`" in note
    assert set(sub.ignored) == {"bptt (1).ipynb", "BPTT.py", "bptt.py"}


def test_the_newest_of_two_copies_is_graded(tmp_path, course):
    make_class(tmp_path, {"fay": {"gru (1).ipynb": "{}", "gru (2).ipynb": "{}"}})
    os.utime(tmp_path / "fay" / "gru (2).ipynb", (1_000_000, 1_000_000))
    (sub,) = discover(tmp_path, course)
    assert sub.files["gru"].name == "gru (1).ipynb"


def test_a_missing_part_lists_the_files_found(tmp_path, course):
    make_class(tmp_path, {"gus": {"rnn-forward.ipynb": "{}", "bptt.py": ""}})
    (sub,) = discover(tmp_path, course)
    note = " ".join(sub.notes["rnn_forward"])
    assert "No `rnn_forward.ipynb` or `rnn_forward.py` was found" in note and "`rnn-forward.ipynb`" in note and "`bptt.py`" in note
    assert "bptt" not in sub.notes


def test_a_folder_of_renamed_part_files_is_one_student(tmp_path, course):
    (tmp_path / "RNN_Forward.ipynb").write_text("{}")
    (sub,) = discover(tmp_path, course)
    assert sub.student == tmp_path.name and "rnn_forward" in sub.files


def test_renamed_files_score_like_the_exact_name(grade, course):
    students = grade({"hal": {"rnn_forward (1).py": reference_source(course, "rnn_forward")}})
    hal = students["hal"]
    assert all(hal.functions[f.name].passed for f in course.part("rnn_forward").functions)
    text = feedback_markdown(hal, course)
    assert "Graded `rnn_forward (1).py` as `rnn_forward.py`." in text
    assert "Files ignored" not in text


def test_gradescope_finds_renamed_files_in_uploaded_folders(tmp_path, course):
    (tmp_path / "work").mkdir()
    for name in ("work/rnn_forward (1).ipynb", "work/Copy of lstm.ipynb", "lstm (2).py", "work/gru.ipynb", "gru copy.ipynb", "notes.txt"):
        (tmp_path / name).write_text("{}")
    sub = find_submission(tmp_path, course)
    assert {part: str(path.relative_to(tmp_path)) for part, path in sub.files.items()} == {
        "rnn_forward": "work/rnn_forward (1).ipynb", "lstm": "lstm (2).py", "gru": "work/gru.ipynb",
    }
    assert "Graded `work/rnn_forward (1).ipynb` as `rnn_forward.ipynb`." in " ".join(sub.notes["rnn_forward"])
    assert "`gru copy.ipynb`" in " ".join(sub.notes["gru"])
    assert "`notes.txt`" in " ".join(sub.notes["bptt"])


def test_a_student_folder_that_is_a_link_is_listed_with_a_note_not_followed(tmp_path, course):
    elsewhere = make_class(tmp_path / "elsewhere", {"real": {"rnn_forward.py": reference_source(course, "rnn_forward")}})
    class_dir = make_class(tmp_path / "class", {"amy": {"rnn_forward.py": "x = 1\n"}})
    os.symlink(elsewhere / "real", class_dir / "linked")
    found = {s.student: s for s in discover(class_dir, course)}
    assert set(found) == {"amy", "linked"}
    assert found["linked"].files == {} and "symbolic link" in found["linked"].notes["rnn_forward"][0]
