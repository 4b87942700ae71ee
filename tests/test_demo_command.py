"""The demo and live commands as a user runs them: a subprocess with no display that renders a screenshot by itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emgfeedback.feedback import State
from emgfeedback.ui.theme import DARK

#: Four gauges framed by 6 px borders in their state colour cover about 37000 pixels; the band lines
#: alone (also a state colour) about 10000, so this threshold needs the gauges to be drawn.
MIN_STATE_PIXELS = 30000
TOLERANCE = 6  # per RGB channel, for antialiased edges of the thick borders


def headless_env(home: Path) -> dict[str, str]:
    """The user's environment on a machine without a display, Qt platform left for the command to choose."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["EMGFEEDBACK_HOME"] = str(home)  # fresh settings: the default dark theme
    env["XDG_CACHE_HOME"] = str(home / "cache")  # cue WAVs land here, not in the real home
    return env


def run_command(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emgfeedback", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=headless_env(home),
        check=False,
    )


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)


def state_pixels(image: np.ndarray) -> dict[State, int]:
    """How many pixels show each of the dark theme's state colours."""
    px = image[..., :3].astype(np.int16)
    return {s: int((np.abs(px - rgb(c)).max(axis=-1) <= TOLERANCE).sum()) for s, c in DARK.states.items()}


def load(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_demo_screenshot_without_a_display(tmp_path: Path, emg_home: Path) -> None:
    shot = tmp_path / "demo.png"
    proc = run_command(["demo", "--screenshot", str(shot), "--quit-after", "3"], emg_home)
    assert proc.returncode == 0, proc.stderr
    assert shot.is_file()
    image = load(shot)
    assert image.shape[:2] == (900, 1400)  # the dashboard's window size
    background = (np.abs(image.astype(np.int16) - rgb(DARK.background)).max(axis=-1) <= TOLERANCE).mean()
    assert background > 0.2, f"dark background covers only {background:.0%}"
    counts = state_pixels(image)
    # 12 s into the scenario a hold is under way: the gauges' borders show band states, not "no signal"
    shown = counts[State.BELOW] + counts[State.IN] + counts[State.OVER]
    assert shown >= MIN_STATE_PIXELS, counts


def test_live_simulated_screenshot_shows_the_gauges(tmp_path: Path, emg_home: Path) -> None:
    shot = tmp_path / "x.png"
    proc = run_command(["live", "--source", "simulated", "--screenshot", str(shot), "--quit-after", "3"], emg_home)
    assert proc.returncode == 0, proc.stderr
    image = load(shot)
    assert image.shape[:2] == (900, 1400)
    counts = state_pixels(image)
    assert sum(counts.values()) >= MIN_STATE_PIXELS, counts


@pytest.mark.parametrize("command", [["demo"], ["live", "--source", "simulated"]])
def test_without_display_or_screenshot_it_says_so_in_one_line(command: list[str], emg_home: Path) -> None:
    proc = run_command(command, emg_home)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("emgfeedback: error: no display found")


def test_live_record_flag_records_from_the_start(tmp_path: Path, emg_home: Path) -> None:
    from emgfeedback.session.store import SessionStore

    proc = run_command(
        ["live", "--source", "simulated", "--record", "--screenshot", str(tmp_path / "r.png"), "--quit-after", "3"], emg_home
    )
    assert proc.returncode == 0, proc.stderr
    store = SessionStore(create=False)
    try:
        (session,) = store.sessions()
        assert session.samples >= 1000  # about 3 s at 1 kHz, recorded without pressing R
    finally:
        store.close()
