"""Command-line usage errors: one line naming the command and its --help, exit 2; flag values checked when parsed."""

from __future__ import annotations

import json
import re

import pytest

from emgfeedback.cli import main

USAGE_ERROR = re.compile(r"^emgfeedback( [a-z-]+)?: error: .+: see 'emgfeedback( [a-z-]+)? --help'$")


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``argv``; it must exit 2 with one usage line on stderr and nothing on stdout. Returns that line."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    assert info.value.code == 2
    assert out == "" and err.count("\n") == 1 and "usage:" not in err, err
    line = err.strip()
    assert USAGE_ERROR.match(line), line
    return line


@pytest.mark.parametrize(
    ("argv", "phrase"),
    [
        (["show", "abc"], "emgfeedback show: error: argument ID: invalid int value: 'abc': see 'emgfeedback show --help'"),
        (["live"], "emgfeedback live: error: the following arguments are required: --source"),
        (["process", "F", "--fs", "abc"], "emgfeedback process: error: argument --fs: invalid float value: 'abc'"),
        (["frob"], "emgfeedback: error: argument COMMAND: invalid choice: 'frob'"),
        (["profiles", "frob"], "emgfeedback profiles: error: argument action: invalid choice: 'frob'"),
    ],
)
def test_usage_errors_are_one_line_with_the_help_to_see(argv: list[str], phrase: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = usage_error(argv, capsys)
    assert line.startswith(phrase)
    assert line.endswith(f"see '{line.split(': error: ')[0]} --help'")


@pytest.mark.parametrize("argv", [["--help"], ["show", "--help"], ["process", "--help"]])
def test_help_is_still_the_full_usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    assert info.value.code == 0 and err == ""
    assert out.startswith("usage: emgfeedback") and "options:" in out and "error" not in out


@pytest.mark.parametrize(
    ("argv", "phrase"),
    [
        (["monitor", "--source", "simulated", "--seconds", "0"], "argument --seconds: 0 is not a positive number"),
        (["monitor", "--source", "simulated", "--seconds", "-1"], "argument --seconds: -1 is not a positive number"),
        (["monitor", "--source", "simulated", "--seconds", "nan"], "argument --seconds: nan is not a positive number"),
        (["monitor", "--source", "simulated", "--seconds", "ten"], "argument --seconds: 'ten' is not a number"),
        (["monitor", "--source", "simulated", "--mains", "55"], "argument --mains: mains '55' is not understood: use 50, 60"),
        (["record", "--source", "simulated", "--seconds", "0"], "argument --seconds: 0 is not a positive number"),
        (["record", "--source", "simulated", "--seconds", "inf"], "argument --seconds: inf is not a positive number"),
        (["record", "--source", "simulated", "--mains", "55"], "argument --mains: mains '55' is not understood: use 50, 60"),
        (["live", "--source", "simulated", "--quit-after", "-1"], "argument --quit-after: -1 is not a positive number"),
        (["live", "--source", "simulated", "--quit-after", "0"], "argument --quit-after: 0 is not a positive number"),
        (["demo", "--quit-after", "-1"], "argument --quit-after: -1 is not a positive number"),
    ],
)
def test_bad_flag_values_are_refused_when_parsed(argv: list[str], phrase: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert phrase in usage_error(argv, capsys)


def test_monitor_takes_the_mains_frequency_like_the_filter_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", "--source", "simulated", "--seconds", "0.3", "--mains", "60", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["fs"] == 1000.0 and summary["seconds"] >= 0.3
