"""MVC protocol files: the shipped ones, user overrides, and one-line errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from emgfeedback.calibration import available_protocols, load_protocol
from emgfeedback.calibration.protocol import builtin_protocols, user_protocols_dir
from emgfeedback.cli import main
from emgfeedback.errors import ProtocolError

GOOD = """
schema = 1
id = "hamstring_short"
muscle = "hamstring"
title = "High hamstring, short rests"
position = "Lie face down."
resistance = "Pull the heel to the buttock against a strap."

[timing]
rest_baseline_s = 4
trials = 2
contract_s = 4.0
rest_between_s = 10
countdown_s = 2
"""


def test_builtin_protocols_follow_the_design() -> None:
    protos = builtin_protocols()
    assert set(protos) == {"glute_max", "hamstring"}
    glute, ham = protos["glute_max"], protos["hamstring"]
    assert "prone" in glute.title and "90" in glute.title and "hip extension" in glute.title
    assert "knee flexion" in ham.title and "prone" in ham.title
    for proto in (glute, ham):
        tm = proto.timing
        assert (tm.rest_baseline_s, tm.trials, tm.contract_s, tm.rest_between_s, tm.countdown_s) == (5.0, 3, 5.0, 30.0, 3.0)
        assert proto.position and proto.resistance and proto.cue
        assert proto.source.startswith("built-in")


def test_user_folder_and_file_override_by_muscle_kind(tmp_path: Path) -> None:
    folder = user_protocols_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mine.toml").write_text(GOOD)
    protos = available_protocols()
    assert protos["hamstring"].id == "hamstring_short"
    assert protos["hamstring"].timing.trials == 2
    assert protos["glute_max"].source.startswith("built-in")
    extra = tmp_path / "glute.toml"
    extra.write_text(GOOD.replace('"hamstring"', '"glute_max"').replace("hamstring_short", "glute_custom"))
    protos = available_protocols([extra])
    assert protos["glute_max"].id == "glute_custom" and protos["glute_max"].source == str(extra)


def test_with_timing_validates() -> None:
    proto = builtin_protocols()["hamstring"]
    assert proto.with_timing(rest_between_s=5).timing.relax_s == 2.0
    with pytest.raises(ProtocolError, match="rest_between_s"):
        proto.with_timing(rest_between_s=2)  # shorter than the 3 s countdown


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("schema = 1\nid = [", "not valid TOML"),
        (GOOD.replace('position = "Lie face down."\n', ""), "'position' is missing"),
        (GOOD.replace("trials = 2", "trials = 0"), "timing.trials = 0 is out of range"),
        (GOOD.replace("trials = 2", "trials = 2.5"), "timing.trials = 2.5 is not a whole number"),
        (GOOD.replace("contract_s = 4.0", 'contract_s = "five"'), "timing.contract_s = 'five' is not a number"),
        (GOOD.replace("countdown_s = 2", "countdown_s = 2\npause_s = 3"), "unknown field timing.pause_s"),
        (GOOD.replace("schema = 1", "schema = 1\ncolour = 'red'"), "unknown field 'colour'"),
        (GOOD.replace("schema = 1", "schema = 2"), "schema = 2 is not supported"),
        (GOOD.replace("rest_between_s = 10", "rest_between_s = 1"), "shorter than timing.countdown_s"),
        (GOOD.replace('muscle = "hamstring"', 'muscle = "High Hamstring"'), "is not a muscle kind"),
        (GOOD.replace("[timing]", "timing = 3\n[other]"), "unknown field 'other'"),
    ],
)
def test_bad_protocol_files_name_the_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert field in message


def test_missing_protocol_file() -> None:
    with pytest.raises(ProtocolError, match="no such protocol file"):
        load_protocol("/nonexistent/p.toml")


def test_cli_reports_a_bad_protocol_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace("trials = 2", "trials = 99"))
    code = main(["calibrate", "--source", "simulated", "--name", "x", "--protocol", str(path), "--fast"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "bad.toml" in err and "timing.trials = 99" in err


def test_cli_points_stream_formats_to_stream_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["calibrate", "--source", "simulated", "--name", "x", "--protocol", "p2"])
    assert code == 2
    assert "--stream-protocol p2" in capsys.readouterr().err


def test_cli_uses_a_custom_protocol(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "short.toml"
    path.write_text(GOOD)
    code = main(["calibrate", "--source", "simulated", "--channels", "2", "--name", "custom", "--protocol", str(path), "--fast"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "High hamstring, short rests: 2 x 4 s" in out
    assert out.count("High hamstring, left, trial") == 2 and out.count("Glute max, left, trial") == 3
