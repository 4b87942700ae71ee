"""The session flow on a real Dashboard: with auto-hold the last summary never covers the gauges of a
running hold, and the cues can be heard before a session (offscreen, the simulated sensor)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from test_dashboard import ChainProfile, GatedSource, save_shot

from emgfeedback.config import Band
from emgfeedback.runtime.live import LiveOptions, build_acquisition
from emgfeedback.ui.main_window import Dashboard, DashboardConfig

SPEED = 6.0


@pytest.fixture(scope="module")
def profile() -> ChainProfile:
    return ChainProfile()


def on_screen(window: Dashboard, widget: object) -> QRect:
    """``widget``'s rectangle in window coordinates."""
    return QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())  # type: ignore[attr-defined]


def gauges_unobstructed(window: Dashboard) -> bool:
    """Every gauge is shown, whole, and the summary card (if shown) does not overlap any of them."""
    card = on_screen(window, window.card) if window.card.isVisible() else QRect()
    rects = [on_screen(window, g) for g in window.gauges]
    shown = all(g.isVisible() and g.height() >= 300 for g in window.gauges)
    return shown and all(window.rect().contains(r) and not card.intersects(r) for r in rects)


def test_auto_hold_summary_gives_way_to_the_gauges_of_the_next_hold(
    qtbot, show_active, profile: ChainProfile, tmp_path: Path
) -> None:
    source = GatedSource("backbend-hold", speed=SPEED, seed=5)
    (h1_start, h1_stop), (h2_start, h2_stop) = source.script.holds
    acq = build_acquisition(source, LiveOptions(profile=profile, auto_start=True))
    window = Dashboard(acq, DashboardConfig(Band(), {}, "simulated:backbend-hold", "test", theme="dark"))
    qtbot.addWidget(window)
    window.resize(1400, 900)
    show_active(window)
    qtbot.waitUntil(lambda: window._built, timeout=10000)

    def at(seconds: float) -> None:
        gate = round(seconds * 1000)
        source.release(gate)
        qtbot.waitUntil(lambda: acq.ring.index >= gate, timeout=30000)
        window.refresh()

    at(h1_start + 6.0)
    assert acq.snapshot().hold is not None and acq.snapshot().hold.auto  # started by itself
    at(h1_stop + 4.0)  # ended by itself: its summary shows below the gauges, the gauges stay whole
    qtbot.waitUntil(lambda: len(window.summaries) == 1 and window.card.isVisible(), timeout=10000)
    assert window.card.heading.text().startswith("Hold 1")
    qtbot.waitUntil(lambda: gauges_unobstructed(window) and not window.traces.isVisible(), timeout=5000)
    save_shot(window, tmp_path, "auto_hold_summary")
    at(h2_start + 6.0)  # the next hold started by itself: nobody pressed Enter
    assert acq.snapshot().hold is not None and acq.snapshot().hold.auto
    qtbot.waitUntil(lambda: not window.card.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: gauges_unobstructed(window) and window.traces.isVisible(), timeout=5000)
    assert window.hold_timer.title.text() == "HOLD (auto)"
    shot = save_shot(window, tmp_path, "auto_hold_second_hold")
    assert shot.width() >= 1400
    qtbot.keyClick(window, Qt.Key.Key_H)  # during a hold the summary stays away
    assert not window.card.isVisible() and "a hold is running" in window.statusBar().currentMessage()
    at(h2_stop + 4.0)
    qtbot.waitUntil(lambda: len(window.summaries) == 2 and window.card.isVisible(), timeout=10000)
    assert window.card.heading.text().startswith("Hold 2")
    qtbot.waitUntil(lambda: gauges_unobstructed(window), timeout=5000)
    assert "(H: its summary)" in window.hold_timer.detail.text()
    qtbot.keyClick(window, Qt.Key.Key_H)  # H hides it, and brings it back
    assert not window.card.isVisible() and window.traces.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert window.card.isVisible() and window.card.heading.text().startswith("Hold 2")
    # a card longer than its room scrolls by key (nobody upside down reaches for a scroll bar)
    window.below.card_scroll.setFixedHeight(120)
    bar = window.below.card_scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert bar.value() == min(bar.pageStep(), bar.maximum()) > 0
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    assert bar.value() == 0
    window.close()


def test_test_sounds_plays_each_cue_once_with_its_name(qtbot, show_active, profile: ChainProfile, tmp_path: Path) -> None:
    from emgfeedback.cue_sounds import in_order, meaning
    from emgfeedback.io.simulated import SimulatedSource
    from emgfeedback.ui.main_window import SHORTCUTS

    acq = build_acquisition(SimulatedSource("rest", realtime=True), LiveOptions(profile=profile))
    window = Dashboard(acq, DashboardConfig(Band(), {}, "simulated:rest", "test", theme="dark"))
    qtbot.addWidget(window)
    window.resize(1400, 900)
    show_active(window)
    qtbot.waitUntil(lambda: window._built and gauges_unobstructed(window), timeout=10000)
    assert ("S", "test sounds: play each cue once, with its name") in SHORTCUTS
    assert "test sounds" in window.help.text()
    check = window.sound_check
    texts: list[str] = []
    window.refreshed.connect(lambda: texts.append(check.label.text()) if check.label.isVisible() else None)
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert check.running and check.label.isVisible()
    assert check.label.text().startswith(f"\u266a 1/{len(in_order())}  hold-start: a hold starts")
    qtbot.waitUntil(lambda: gauges_unobstructed(window), timeout=5000)  # the line above them is laid out
    save_shot(window, tmp_path, "test_sounds")
    with qtbot.waitSignal(check.finished, timeout=15000):
        pass
    assert check.shown == in_order() and not check.label.isVisible()
    assert [e.cue for e in window.player.played] == in_order()  # each once, in order
    for cue in in_order():
        assert any(f"{cue.value}: {meaning(cue)}" in t for t in texts), cue  # its name was on screen while it played
    qtbot.keyClick(window, Qt.Key.Key_S)  # S again stops a running test at once
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert not check.running and not check.label.isVisible() and len(window.player.played) == len(in_order()) + 1
    window.close()


def test_test_sounds_wait_for_the_end_of_a_hold(qtbot, show_active, profile: ChainProfile) -> None:
    """S during a hold only says why it waits; a hold that starts during the test stops it (its cues would mix)."""
    from emgfeedback.io.simulated import SimulatedSource

    acq = build_acquisition(SimulatedSource("rest", realtime=True), LiveOptions(profile=profile))
    window = Dashboard(acq, DashboardConfig(Band(), {}, "simulated:rest", "test", theme="dark"))
    qtbot.addWidget(window)
    show_active(window)
    qtbot.waitUntil(lambda: window._built, timeout=10000)
    check = window.sound_check
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: acq.snapshot().hold is not None, timeout=5000)
    played = len(window.player.played)
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert not check.running and check.label.isVisible() and "after the hold" in check.label.text()
    assert len(window.player.played) == played  # nothing of the test was played
    qtbot.waitUntil(lambda: not check.label.isVisible(), timeout=5000)  # the notice goes by itself
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: acq.snapshot().hold is None, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert check.running
    qtbot.keyClick(window, Qt.Key.Key_Space)  # a hold starts while the test plays
    qtbot.waitUntil(lambda: not check.running and not check.label.isVisible(), timeout=5000)
    window.close()
