"""Cue sound output through miniaudio: plays on a device, runs muted without one, needs no QtMultimedia."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import wait_until as wait_for

from emgfeedback.feedback import Cue, CueEvent
from emgfeedback.ui.audio_output import audio_mode, open_output, probe_output
from emgfeedback.ui.sounds import RATE, cue_sounds

ROOT = Path(__file__).resolve().parent.parent


def test_every_cue_reaches_the_output_stream(qtbot) -> None:
    """On miniaudio's null device each cue's first samples are handed to the library within a few periods."""
    from emgfeedback.ui.audio import CuePlayer

    player = CuePlayer(output="null", volume=0.5)
    assert player.available and player.output is not None and player.output.backend == "Null"
    assert player.status == "sound: 50%"
    for cue in Cue:
        assert player.play(CueEvent(cue, 0, None)) is True
    wait_for(lambda: len(player.output.latencies_s) == len(Cue))
    assert all(0 <= t < 5.0 for t in player.output.latencies_s)
    player.set_muted(True)
    assert player.play(CueEvent(Cue.TICK, 1)) is False and player.status == "sound: muted"
    assert [e.cue for e in player.played] == [*Cue, Cue.TICK]  # every decision logged, heard or not
    player.close()
    assert not player.available and "muted" in player.status


def test_output_modes_and_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMGFEEDBACK_AUDIO", "off")
    assert audio_mode() == "off" and audio_mode("null") == "null"
    output, why = open_output(RATE)
    assert output is None and "EMGFEEDBACK_AUDIO=off" in why
    probe = probe_output()
    assert not probe.ok and probe.error
    monkeypatch.setenv("EMGFEEDBACK_AUDIO", "bogus")
    assert audio_mode() == "auto"
    monkeypatch.setenv("EMGFEEDBACK_AUDIO", "null")
    assert probe_output() == type(probe)(ok=True, backend="Null")


def test_cue_samples_come_from_the_table_in_memory() -> None:
    sounds = cue_sounds()
    assert sounds is cue_sounds()  # synthesized once
    assert all(s.dtype.name == "float32" for s in sounds.values())


BLOCKED_MULTIMEDIA = """
import sys
sys.modules["PySide6.QtMultimedia"] = None  # import PySide6.QtMultimedia now raises ImportError
sys.modules["miniaudio"] = None  # and no audio back end either
from emgfeedback import cli
code = cli.main(sys.argv[1:])
from PySide6.QtWidgets import QApplication, QLabel, QStatusBar
bars = [w for w in QApplication.allWidgets() if isinstance(w, QStatusBar)]
print("STATUS " + " | ".join(l.text() for b in bars for l in b.findChildren(QLabel)))
sys.exit(code)
"""


@pytest.mark.slow
def test_live_starts_muted_without_qtmultimedia_or_a_device(tmp_path: Path) -> None:
    """The must-show of issue 12: no QtMultimedia, no sound device -> exit 0, a screenshot, 'muted' in the status bar."""
    import os

    shot = tmp_path / "live.png"
    env = {k: v for k, v in os.environ.items() if k != "EMGFEEDBACK_AUDIO"} | {"QT_QPA_PLATFORM": "offscreen"}
    args = ["live", "--source", "simulated", "--screenshot", str(shot), "--quit-after", "3"]
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKED_MULTIMEDIA, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert shot.stat().st_size > 10_000
    status = next(line for line in proc.stdout.splitlines() if line.startswith("STATUS "))
    assert "sound: muted (no audio library)" in status
    assert "audio cues muted" in proc.stderr and "Traceback" not in proc.stderr
