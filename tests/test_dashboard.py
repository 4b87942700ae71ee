"""The dashboard driven by pytest-qt on the simulated backbend-hold scenario (offscreen)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from emgfeedback.config import Band, FilterSpec
from emgfeedback.dsp import MvcNormalizer, Pipeline
from emgfeedback.feedback import Cue, State
from emgfeedback.io.simulated import SimulatedSource, constant_script, rest_script
from emgfeedback.live import LiveOptions, build_acquisition
from emgfeedback.ui.main_window import Dashboard, DashboardConfig
from emgfeedback.ui.theme import DARK

SPEED = 6.0  # the scenario runs 6x faster than real time
DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


class ChainProfile:
    """A profile measured as a user's calibration would be: the chain's rest and 100 % levels."""

    name = "test"

    def __init__(self) -> None:
        def level(script: object) -> np.ndarray:
            src = SimulatedSource(script, realtime=False, seed=11)  # type: ignore[arg-type]
            src.open()
            env = Pipeline(FilterSpec()).process(src.generate(20000)).envelope[2000:]
            return np.sqrt(np.mean(env**2, axis=0))

        self.noise, self.mvc = level(rest_script(4)), level(constant_script(4, 100.0))

    def check_compatible(self, spec: FilterSpec, info: object) -> None:
        assert spec.fs == 1000

    def normalizer(self, names: object = None) -> MvcNormalizer:
        return MvcNormalizer(self.mvc, self.noise)


@pytest.fixture(scope="module")
def profile() -> ChainProfile:
    return ChainProfile()


def save_shot(window: Dashboard, tmp_path: Path, name: str) -> QImage:
    """Grab the window; with EMGFEEDBACK_UPDATE_SCREENSHOTS=1 also refresh docs/screenshots."""
    image = window.grab().toImage()
    image.save(str(tmp_path / f"{name}.png"))
    if os.environ.get("EMGFEEDBACK_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        image.save(str(DOCS / f"{name}.png"))
    return image


def color_pixels(image: QImage, color: str, step: int = 3) -> int:
    """How many sampled pixels are (close to) ``color``."""
    target = QColor(color)
    count = 0
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            c = image.pixelColor(x, y)
            if abs(c.red() - target.red()) + abs(c.green() - target.green()) + abs(c.blue() - target.blue()) < 30:
                count += 1
    return count


def test_backbend_holds_states_statistics_and_cues(qtbot, show_active, profile: ChainProfile, tmp_path: Path) -> None:
    source = SimulatedSource("backbend-hold", speed=SPEED, seed=5)
    script = source.script
    acq = build_acquisition(source, LiveOptions(profile=profile))
    window = Dashboard(acq, DashboardConfig(Band(), {}, "simulated:backbend-hold", "test", theme="dark"))
    qtbot.addWidget(window)
    window.resize(1400, 900)
    show_active(window)
    qtbot.waitUntil(lambda: window._built, timeout=10000)
    fs = 1000

    def at(seconds: float) -> None:
        qtbot.waitUntil(lambda: acq.ring.index >= seconds * fs, timeout=30000)

    (h1_start, h1_stop), _ = script.holds
    at(h1_start)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: acq.engine.hold is not None, timeout=5000)
    at(h1_start + 6.0)  # settled in band
    window.refresh()
    assert [g.state for g in window.gauges] == [State.IN] * 4
    save_shot(window, tmp_path, "in_band")
    at(h1_start + 13.0)  # the glute max over-clenches, the hamstrings stay in band
    window.refresh()
    assert [g.state for g in window.gauges] == [State.OVER, State.IN, State.OVER, State.IN]
    image = save_shot(window, tmp_path, "over_clench")
    assert color_pixels(image, DARK.states[State.OVER]) > 500 and color_pixels(image, DARK.states[State.IN]) > 500
    at(h1_start + 20.5)  # the hamstrings sag below the band
    window.refresh()
    assert window.gauges[1].state is State.BELOW and window.gauges[0].state is State.IN, (
        acq.ring.index,
        [(g.value, g.state) for g in window.gauges],
    )
    at(h1_stop)
    with qtbot.waitSignal(window.hold_finished, timeout=10000) as blocker:
        qtbot.keyClick(window, Qt.Key.Key_Space)
    summary = blocker.args[0]
    qtbot.waitUntil(window.card_host.isVisible, timeout=5000)
    image = save_shot(window, tmp_path, "hold_summary")
    assert window.card.heading.text().startswith("Hold 1")
    qtbot.keyClick(window, Qt.Key.Key_Return)
    assert not window.card_host.isVisible()

    # hold statistics against the script over the same samples
    t = np.arange(summary.start_index, summary.stop_index) / fs
    truth = script.level_at(t)
    assert summary.duration_s == pytest.approx(h1_stop - h1_start, abs=1.0)
    for c, m in enumerate(summary.muscles):
        d = m.as_dict(fs)
        in_band_truth = 100 * np.mean((truth[:, c] >= 30) & (truth[:, c] <= 50))
        assert abs(d["time_in_band_pct"] - in_band_truth) <= 5.0, (m.name, d, in_band_truth)
        assert abs(d["mean_pct_mvc"] - truth[:, c].mean()) <= 0.05 * truth[:, c].mean() + 1.0, (m.name, d)
    glute = summary.muscles[0].as_dict(fs)
    assert glute["overclench_count"] >= 1
    assert abs(glute["time_over_s"] - np.sum(truth[:, 0] > 50) / fs) <= 1.5

    # cue decisions: over-clench, return and below, for the right muscles, at the right times
    cues = [e for e in window.player.played if summary.start_index <= e.index <= summary.stop_index]
    over = [e for e in cues if e.cue is Cue.OVER and e.muscle == "glute_max_left"]
    assert over and abs(over[0].index / fs - (h1_start + 11.0)) < 1.5
    assert any(e.cue is Cue.RETURN and e.muscle == "glute_max_left" and e.index > over[0].index for e in cues)
    assert any(e.cue is Cue.BELOW and e.muscle == "hamstring_left" for e in cues)
    assert not any(e.cue is Cue.OVER and e.muscle.startswith("hamstring") for e in cues if e.muscle)
    assert window.player.played[0].cue is Cue.HOLD_START
    window.close()
    assert not acq.running


def test_keyboard_shortcuts_change_view_and_settings(qtbot, show_active, profile: ChainProfile) -> None:
    acq = build_acquisition(SimulatedSource("rest", speed=4.0), LiveOptions(profile=profile))
    window = Dashboard(acq, DashboardConfig(Band(), {}, "simulated:rest", "test", theme="dark"))
    qtbot.addWidget(window)
    show_active(window)
    qtbot.waitUntil(lambda: window._built, timeout=10000)
    qtbot.keyClick(window, Qt.Key.Key_W)
    assert window.traces.raw_plot.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.traces.seconds == 30
    qtbot.keyClick(window, Qt.Key.Key_T)
    assert window.theme.name == "light" and window.settings.value("theme") == "light"
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.player.muted
    qtbot.keyClick(window, Qt.Key.Key_A)
    assert acq.engine.auto_start
    names = {a.text() for a in window.actions()}
    assert {"Start/stop hold", "Calibrate", "Record", "Mute", "Quit"} <= names
    assert all(a.shortcut().toString() for a in window.actions())
    window.close()


def test_no_sound_device_means_muted_cues_with_a_note(qtbot) -> None:
    from emgfeedback.feedback import CueEvent
    from emgfeedback.ui.audio import CuePlayer

    player = CuePlayer()
    assert not player.available  # this machine has no sound device
    assert "no device" in player.status and player.note
    assert player.play(CueEvent(Cue.OVER, 10, "glute_max_left")) is False
    assert player.played[-1].cue is Cue.OVER


def test_cue_sounds_are_short_distinct_and_not_clipped(tmp_path: Path) -> None:
    from emgfeedback.ui.sounds import RATE, sound_files, synthesize

    waves = {cue: synthesize(cue) for cue in Cue}
    for cue, w in waves.items():
        assert 0.02 < w.size / RATE < 0.6, cue
        assert np.max(np.abs(w)) <= 1.0
    spectra = {cue: np.argmax(np.abs(np.fft.rfft(w, 1 << 16))) for cue, w in waves.items()}
    assert len(set(spectra.values())) >= 5  # dominant pitches differ
    files = sound_files(tmp_path)
    assert all(p.stat().st_size > 1000 for p in files.values())
