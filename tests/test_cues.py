"""``emgfeedback cues``: list the cue sounds, save them as WAV files, play them (or say in one line why not)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from emgfeedback.cli import main
from emgfeedback.cue_sounds import RATE, in_order, synthesize
from emgfeedback.feedback import Cue


def test_wav_writes_one_valid_file_per_cue_named_by_cue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "new" / "cues"  # made if missing
    assert main(["cues", "--wav", str(target)]) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{c.value}.wav" for c in Cue)
    for cue in Cue:
        path = target / f"{cue.value}.wav"
        assert f"wrote {path}" in out
        with wave.open(str(path), "rb") as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        expected = synthesize(cue)
        assert pcm.shape == expected.shape and 0.02 < pcm.size / RATE < 0.6
        np.testing.assert_allclose(pcm / 32000, expected, atol=1 / 32000)  # the same sound the dashboard plays
    assert main(["cues", "--wav", str(target)]) == 0  # again: the files are rewritten, not refused


def test_wav_into_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_text("x")
    assert main(["cues", "--wav", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and err.count("\n") == 1


def test_list_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cues"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == [c.value for c in in_order()]
    assert "over-clench: ease off" in lines[[c.value for c in in_order()].index("over")]
    assert main(["cues", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == [c.value for c in in_order()]
    assert all(set(r) == {"name", "meaning", "duration_s"} and 0 < r["duration_s"] < 0.6 for r in rows)


def test_play_with_sound_off_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("EMGFEEDBACK_AUDIO", "off")
    assert main(["cues", "--play"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "emgfeedback: error: cannot play the cues: sound off (EMGFEEDBACK_AUDIO=off): "
        "connect speakers or headphones, or save them with --wav DIR\n"
    )
    assert captured.out == ""


def test_play_on_this_machine_plays_or_says_in_one_line_why_not() -> None:
    """Without a sound device: one line on stderr (no library noise), exit 2. With one: every cue, in order."""
    env = {k: v for k, v in os.environ.items() if k != "EMGFEEDBACK_AUDIO"}
    proc = subprocess.run(
        [sys.executable, "-m", "emgfeedback", "cues", "--play", "--volume", "0.2"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    if proc.returncode == 2:
        assert proc.stderr.startswith("emgfeedback: error: cannot play the cues: no sound device")
        assert proc.stderr.count("\n") == 1 and proc.stdout == ""
    else:
        assert proc.returncode == 0, proc.stderr
        assert [line.split()[1].rstrip(":") for line in proc.stdout.splitlines()] == [c.value for c in in_order()]


def test_play_through_the_null_device_plays_every_cue_in_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EMGFEEDBACK_AUDIO", "null")  # miniaudio's null output consumes samples in real time
    assert main(["cues", "--play"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{i}/{len(in_order())} {c.value}: " + lines[i - 1].split(": ", 1)[1] for i, c in enumerate(in_order(), 1)]
    assert lines[0] == f"1/{len(in_order())} hold-start: a hold starts"


def test_bad_volume_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cues", "--play", "--volume", "3"]) == 2
    assert "--volume 3 is out of range: use 0 to 1" in capsys.readouterr().err
