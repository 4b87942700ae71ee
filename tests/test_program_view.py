"""The program view on the dashboard: exercise and instructions, countdown, counters, each rep's result,
the exercise's own bands on the gauges, no summary card over the gauges, and Space pausing the program."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from offline_recording import SimulatedProfile
from PySide6.QtCore import Qt

from emgfeedback.config import Band
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.runtime.live import LiveOptions, build_acquisition
from emgfeedback.training.athlete import athlete_script
from emgfeedback.training.program import load_program
from emgfeedback.ui.main_window import Dashboard, DashboardConfig
from emgfeedback.ui.program_panel import PHASE_TEXT

DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture
def window(qtbot, show_active):
    program = load_program("underbutt-isolation")
    source = SimulatedSource(athlete_script(program, 4), channels=4, realtime=True, speed=25.0, seed=4)
    acq = build_acquisition(source, LiveOptions(profile=SimulatedProfile(4), program=program))
    win = Dashboard(acq, DashboardConfig(band=Band(), muscle_bands={}, source_text="simulated:athlete"))
    qtbot.addWidget(win)
    show_active(win)
    yield win
    win.close()


def test_program_view_shows_the_rep_results_and_pauses_with_space(window: Dashboard, qtbot, tmp_path: Path) -> None:
    panel = window.program_panel

    def outcomes() -> int:
        view = window.acq.snapshot().program
        return len(view.outcomes) if view is not None else 0

    qtbot.waitUntil(lambda: outcomes() >= 2, timeout=30_000)
    qtbot.waitUntil(lambda: "2:" in panel.results.text(), timeout=5000)
    assert panel.isVisible()
    assert panel.exercise.text() == "Prone hip extension, knee bent"
    assert "Avoid" in panel.instructions.text()
    assert "rep" in panel.counters.text() and "/ 5" in panel.counters.text()
    # rep 1 succeeded, rep 2 was over-clenched: the chips say so
    assert "1: \u2713" in panel.results.text() and "2: \u2717" in panel.results.text()
    # the exercise's own bands are on the gauges (glute max 15-45 in this drill)
    glute = next(g for g in window.gauges if g.muscle.startswith("glute_max"))
    assert (glute.band.low, glute.band.high) == (15.0, 45.0)
    # a program rep never opens the summary card over the gauges
    assert not window.card_host.isVisible()
    assert panel.phase.text() in PHASE_TEXT.values()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.acq.snapshot().program.paused, timeout=5000)
    qtbot.waitUntil(lambda: panel.phase.text().startswith("PAUSED"), timeout=5000)
    frozen = window.acq.snapshot().program.elapsed_s
    flowing_from = window.acq.snapshot().index
    # the stream keeps flowing (two more seconds of signal arrive); the program stands still
    qtbot.waitUntil(lambda: window.acq.snapshot().index > flowing_from + 2000, timeout=10_000)
    assert window.acq.snapshot().program.elapsed_s == frozen
    image = window.grab().toImage()
    image.save(str(tmp_path / "program-view.png"))
    if os.environ.get("EMGFEEDBACK_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        image.save(str(DOCS / "program-view.png"))
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.acq.snapshot().program.paused, timeout=5000)
    # stopped mid-exercise (Ctrl+G): the classifier has the profile's bands back, and so have the gauges and trace
    hamstring = next(g for g in window.gauges if not g.muscle.startswith("glute_max"))
    assert hamstring.band != glute.band  # the muscles' bands differ here, so the trace keeps the dashboard's band
    assert window.traces is not None and window.traces.env_curves.band == (Band().low, Band().high)
    qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.acq.snapshot().program is None, timeout=5000)
    qtbot.waitUntil(lambda: (glute.band.low, glute.band.high) == (Band().low, Band().high), timeout=5000)
    assert window.acq.engine is not None and window.acq.engine.classifier.bands[0] == glute.band
    assert window.traces.env_curves.band == (Band().low, Band().high)


def test_demo_program_renders_offscreen(tmp_path: Path) -> None:
    """As a user runs it: its own process (a dashboard app of its own, not this test session's)."""
    import subprocess
    import sys

    shot = tmp_path / "demo-program.png"
    args = ["demo", "--program", "underbutt-isolation", "--speed", "20", "--quit-after", "1", "--screenshot", str(shot)]
    done = subprocess.run(
        [sys.executable, "-m", "emgfeedback", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert shot.stat().st_size > 10_000


def test_program_cues_fall_back_to_tones_without_a_speech_engine(monkeypatch) -> None:
    import builtins

    from emgfeedback.feedback import Cue
    from emgfeedback.ui.speech import PHRASES, Speaker

    real_import = builtins.__import__

    def no_pyttsx3(name, *args, **kwargs):
        if name == "pyttsx3":
            raise ImportError("not installed")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyttsx3)
    speaker = Speaker()
    assert not speaker.available
    assert all(not speaker.say(cue) for cue in PHRASES)  # the caller plays the tone instead
    assert Speaker(enabled=False).say(Cue.GO) is False
    assert set(PHRASES) == {Cue.GET_READY, Cue.GO, Cue.REST, Cue.DONE, Cue.EASE_OUT}
