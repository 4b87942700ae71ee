"""The dashboard driven by pytest-qt on the simulated backbend-hold scenario (offscreen)."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage

from emgfeedback.config import Band, FilterSpec
from emgfeedback.dsp import MvcNormalizer, Pipeline
from emgfeedback.feedback import Cue, State
from emgfeedback.io.simulated import SimulatedSource, constant_script, rest_script
from emgfeedback.io.sources import Chunk
from emgfeedback.runtime.live import LiveOptions, build_acquisition
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

    filters = FilterSpec()
    muscles: Mapping[str, int] = MappingProxyType({})
    scale: float | None = None
    frontend: str | None = None

    def check_compatible(self, spec: FilterSpec, info: object) -> None:
        assert spec.fs == 1000

    def check_filters(self, spec: FilterSpec) -> None:
        assert spec.envelope is self.filters.envelope

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


class GatedSource(SimulatedSource):
    """A real-time simulated sensor that stops delivering at a gate index until the test moves it.

    The dashboard then shows exactly the scenario's state at the gate, however loaded the machine
    is (the sensor never drops samples: it catches up once released).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.gate = 0
        self._pending: Chunk | None = None
        self._moved = threading.Event()

    def release(self, index: int) -> None:
        self.gate = index
        self._moved.set()

    def read(self, timeout: float = 0.1) -> Chunk | None:
        if self._pending is None:
            self._pending = super().read(timeout)
            if self._pending is None:
                return None
        c = self._pending
        if c.start >= self.gate:
            self._moved.clear()
            if c.start >= self.gate:
                self._moved.wait(timeout)
            return None
        n = min(c.samples.shape[0], self.gate - c.start)
        self._pending = None if n == c.samples.shape[0] else Chunk(c.start + n, c.samples[n:])
        return Chunk(c.start, c.samples[:n])


def test_backbend_holds_states_statistics_and_cues(qtbot, show_active, profile: ChainProfile, tmp_path: Path) -> None:
    source = GatedSource("backbend-hold", speed=SPEED, seed=5)
    script = source.script
    acq = build_acquisition(source, LiveOptions(profile=profile))
    window = Dashboard(acq, DashboardConfig(Band(), {}, "simulated:backbend-hold", "test", theme="dark"))
    qtbot.addWidget(window)
    window.resize(1400, 900)
    show_active(window)
    qtbot.waitUntil(lambda: window._built, timeout=10000)
    fs = 1000

    def at(seconds: float) -> None:
        """Let the sensor run up to ``seconds`` into the scenario, and no further, then draw."""
        gate = round(seconds * fs)
        source.release(gate)
        qtbot.waitUntil(lambda: acq.ring.index >= gate, timeout=30000)

    (h1_start, h1_stop), _ = script.holds
    at(h1_start)
    qtbot.keyClick(window, Qt.Key.Key_Space)  # the hold starts at the next sample the sensor delivers
    at(h1_start + 6.0)  # settled in band
    assert acq.engine.hold is not None
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
        qtbot.keyClick(window, Qt.Key.Key_Space)  # the hold ends at the next sample delivered
        source.release(round((h1_stop + 1.0) * fs))
    summary = blocker.args[0]
    assert (summary.start_index, summary.stop_index) == (round(h1_start * fs), round(h1_stop * fs))
    qtbot.waitUntil(window.card_host.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: window.card.width() > window.width() / 2, timeout=5000)  # laid out, not squashed
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
    assert not window.traces.raw_shown
    qtbot.keyClick(window, Qt.Key.Key_W)
    assert window.traces.raw_shown
    qtbot.waitUntil(window.traces.raw_plot.isVisible, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.traces.seconds == 30
    qtbot.keyClick(window, Qt.Key.Key_T)
    assert window.theme.name == "light" and window.settings.value("theme") == "light"
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.player.muted
    qtbot.keyClick(window, Qt.Key.Key_A)  # applied by the reader thread before its next chunk
    qtbot.waitUntil(lambda: acq.snapshot().auto_start, timeout=5000)
    names = {a.text() for a in window.actions()}
    assert {"Start/stop hold", "Calibrate", "Record", "Mute", "Quit"} <= names
    assert all(a.shortcut().toString() for a in window.actions())
    window.close()


def test_no_sound_device_means_muted_cues_with_a_note(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forced through the public switch, so it holds on a laptop with speakers as on a headless CI box."""
    from emgfeedback.feedback import CueEvent
    from emgfeedback.ui.audio import CuePlayer

    monkeypatch.setenv("EMGFEEDBACK_AUDIO", "off")
    for player in (CuePlayer(), CuePlayer(output="off")):
        assert not player.available and player.output is None
        assert "muted" in player.status and "EMGFEEDBACK_AUDIO=off" in player.note
        assert player.play(CueEvent(Cue.OVER, 10, "glute_max_left")) is False
        assert player.played[-1].cue is Cue.OVER


def test_cue_sounds_are_short_distinct_and_not_clipped() -> None:
    from emgfeedback.ui.sounds import NOTES, RATE, cue_sounds

    waves = cue_sounds()
    assert set(waves) == set(NOTES) == set(Cue)  # every cue kind has a row in the table
    for cue, w in waves.items():
        assert 0.02 < w.size / RATE < 0.6, cue
        assert np.max(np.abs(w)) <= 1.0
    spectra = {cue: np.argmax(np.abs(np.fft.rfft(w, 1 << 16))) for cue, w in waves.items()}
    assert len(set(spectra.values())) >= 5  # dominant pitches differ


def _window_rect(widget, window) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def _data_rect(plot, window) -> QRect:
    """The plot's data area (its ViewBox) in window coordinates."""
    scene = plot.getViewBox().sceneBoundingRect()
    top_left = plot.mapTo(window, plot.mapFromScene(scene.topLeft()))
    return QRect(top_left, scene.size().toSize())


@pytest.mark.parametrize("channels", [1, 2])
def test_few_channels_synergy_na_wide_gauges_and_legend_outside_the_data(qtbot, show_active, channels: int) -> None:
    from PySide6.QtGui import QFontMetrics

    from emgfeedback.calibration import demo_profile
    from emgfeedback.ui.gauge import MAX_BAR_WIDTH

    acq = build_acquisition(SimulatedSource("rest", channels=channels, speed=4.0), LiveOptions(profile=demo_profile(channels)))
    window = Dashboard(acq, DashboardConfig(Band(), {}, "simulated:rest", "demo", theme="dark"))
    qtbot.addWidget(window)
    window.resize(1400, 900)
    show_active(window)
    qtbot.waitUntil(lambda: window._built and window.traces.env_curves.data(0)[0].size > 0, timeout=10000)
    window.refresh()
    traces = window.traces
    # the traces were just added: wait for the layout to give them their place below the gauges
    qtbot.waitUntil(lambda: traces.isVisible() and 0 < traces.height() < window.height() / 2, timeout=5000)
    qtbot.waitUntil(lambda: traces.env_plot.getViewBox().sceneBoundingRect().width() > traces.width() / 2, timeout=5000)
    # the legend is a row above the plot, never over the data (over-clench shows near the top)
    assert traces.env_plot.getPlotItem().legend is None
    legend, data = _window_rect(traces.legend, window), _data_rect(traces.env_plot, window)
    assert legend.bottom() < data.top() and not legend.intersects(data), (legend, data)
    assert [lbl.text() for lbl in traces.legend_labels] == ["Glute max, left", "High hamstring, left"][:channels]
    # the top tick label (100) overhangs the data area by half its height: there is room for it
    tick_h = QFontMetrics(traces.env_plot.getAxis("left").style["tickFont"]).height()
    assert data.top() - _window_rect(traces.env_plot, window).top() >= tick_h / 2
    # wide cards get wide bars (up to a maximum), not a 140 px bar in a wide gap
    for gauge in window.gauges:
        assert gauge.bar_rect().width() >= min(0.4 * gauge.width(), MAX_BAR_WIDTH) > 250, (gauge.width(), gauge.bar_rect())
    # without a hamstring the synergy figure means nothing: n/a, in the header and in the summary card
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: acq.engine.hold is not None and acq.engine.hold.summary.samples > 500, timeout=10000)
    window.refresh()
    detail = window.hold_timer.detail.text()
    if channels == 1:
        assert "glute not clenching: n/a" in detail and "0%" not in detail, detail
    else:
        assert "n/a" not in detail and "glute not clenching:" in detail, detail
    with qtbot.waitSignal(window.hold_finished, timeout=10000):
        qtbot.keyClick(window, Qt.Key.Key_Space)
    verdict = window.card.verdict.text()
    assert ("<b>n/a</b>" in verdict) == (channels == 1), verdict
    assert ("synergy" in window.hold_timer.detail.text()) == (channels == 2)
    window.close()


def test_trace_colours_are_distinct_and_not_state_colours() -> None:
    from emgfeedback.palette import MUSCLE_COLORS, is_dashed, muscle_colors
    from emgfeedback.ui.theme import THEMES

    def distance(a: str, b: str) -> int:
        ca, cb = QColor(a), QColor(b)
        return abs(ca.red() - cb.red()) + abs(ca.green() - cb.green()) + abs(ca.blue() - cb.blue())

    for name, theme in THEMES.items():
        colors = list(MUSCLE_COLORS[name].values())
        assert list(theme.traces) == colors
        for i, a in enumerate(colors):
            assert distance(a, theme.background) > 200, (name, a)
            assert all(distance(a, b) > 120 for b in colors[i + 1 :]), (name, a)
            assert all(distance(a, theme.states[s]) > 100 for s in (State.IN, State.OVER, State.BELOW)), (name, a)
    # a standard muscle keeps its colour whatever its channel; right sides are dashed
    assert muscle_colors(["hamstring_right"], "dark") == [MUSCLE_COLORS["dark"]["hamstring_right"]]
    assert len(set(muscle_colors(["a", "b", "glute_max_left", "c"], "dark"))) == 4
    assert is_dashed("glute_max_right") and not is_dashed("glute_max_left")


def test_report_plots_use_the_dashboard_palette_without_qt() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import emgfeedback.session.report as r; import emgfeedback.palette as p;"
        "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
