"""Filter settings are checked at the rate the stream really has, through the CLI on a 2 kHz virtual board."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emgfeedback.cli import main

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="simulate-device needs a pty (Linux or macOS)")


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EMGFEEDBACK_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "emgfeedback", *args], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env, check=False
    )


def test_monitor_streams_a_2khz_board(virtual_board, capsys: pytest.CaptureFixture[str]) -> None:
    board = virtual_board("--fs", "2000", "--channels", "2")
    assert main(["monitor", "--source", board.path, "--seconds", "2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["fs"] == 2000 and summary["lost"] == 0 and summary["frames"] > 2000


def test_record_on_a_2khz_board_takes_band_high_800(virtual_board, emg_home: Path) -> None:
    board = virtual_board("--fs", "2000", "--channels", "2")
    done = _run(["record", "--source", board.path, "--band-high", "800", "--seconds", "2", "--status-every", "0"], emg_home)
    assert done.returncode == 0, done.stderr
    assert "too low" not in done.stderr
    sessions = _run(["sessions", "--json"], emg_home)
    rows = json.loads(sessions.stdout)
    assert len(rows) == 1 and rows[0]["fs"] == 2000


def test_live_on_a_2khz_board_takes_band_high_800(virtual_board, emg_home: Path, tmp_path: Path) -> None:
    board = virtual_board("--fs", "2000", "--channels", "2")
    shot = tmp_path / "live.png"
    done = _run(["live", "--source", board.path, "--band-high", "800", "--screenshot", str(shot), "--quit-after", "3"], emg_home)
    assert done.returncode == 0, done.stderr
    assert shot.stat().st_size > 0


def test_an_impossible_band_names_the_real_rate(virtual_board, emg_home: Path) -> None:
    board = virtual_board("--fs", "2000", "--channels", "2")
    done = _run(["record", "--source", board.path, "--band-high", "950", "--seconds", "2", "--status-every", "0"], emg_home)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("emgfeedback: error:")]
    assert len(errors) == 1, done.stderr
    assert "sample rate 2000 Hz is too low for the band's upper edge 950 Hz" in errors[0]
    assert "Traceback" not in done.stderr


def test_a_band_above_the_given_fs_is_refused_before_the_device_opens(emg_home: Path) -> None:
    done = _run(["record", "--source", "/dev/does-not-exist", "--fs", "1000", "--band-high", "800", "--seconds", "1"], emg_home)
    assert done.returncode == 2
    assert "sample rate 1000 Hz is too low" in done.stderr
