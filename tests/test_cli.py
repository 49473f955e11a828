"""The ``rnnkit`` command itself: help that is never cut off, --version, verdicts printed once, schema errors in words."""
from __future__ import annotations

import copy
from importlib.metadata import version

import pytest
import yaml
from click.testing import CliRunner

from rnnkit.cli import main
from rnnkit.course import CourseError, parse_course

from .conftest import ROOT


@pytest.mark.parametrize("args", [["--help"], ["export", "--help"]])
def test_help_lists_every_command_with_its_description_in_full(args):
    result = CliRunner().invoke(main, args, terminal_width=80)
    assert result.exit_code == 0, result.output
    listing = result.output.split("Commands:", 1)[1]
    assert "..." not in listing, listing
    commands = main.commands if args == ["--help"] else main.commands["export"].commands
    words = " ".join(result.output.split())
    for name, command in commands.items():
        first_sentence = command.help.split(".")[0] if command.help else ""
        assert " ".join(first_sentence.split()) in words, name


def test_version_is_the_package_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"rnnkit {version('rnnkit')}"


def test_check_prints_each_verdict_once(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["check", "bptt"])
    assert result.exit_code == 1, result.output
    for function in ("rnn_backward", "state_jacobian", "numerical_gradient"):
        assert result.output.count(f"{function}: NOT IMPLEMENTED YET") == 1, result.output
    solved = CliRunner().invoke(main, ["check", "rnn_forward", str(ROOT / "solutions" / "rnn_forward.py")])
    assert solved.exit_code == 0, solved.output
    assert solved.output.count("softmax: PASSED") == 1, solved.output


@pytest.mark.parametrize("value", ["one", -3, {"points": 5, "bonus": "yes"}])
def test_a_bad_points_value_says_what_is_expected(value):
    data = yaml.safe_load((ROOT / "course.yml").read_text())
    broken = copy.deepcopy(data)
    broken["parts"][3]["functions"]["sigmoid"] = value
    with pytest.raises(CourseError) as error:
        parse_course(broken, ROOT)
    message = str(error.value)
    assert "parts[3].functions.sigmoid" in message
    assert "not valid under any of the given schemas" not in message
    assert "a number of points" in message and "bonus: true" in message
    assert f"found {value!r}" in message
