"""The coach view: three athletes publishing with --lsl's publisher, one coach screen (offscreen)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.exceptions import TimeoutError as WaitTimeout

pytest.importorskip("mne_lsl")

from emgfeedback.calibration import demo_profile
from emgfeedback.config import Band
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.runtime.coach_feed import CoachFeed, athlete_name, mvc_stream_name
from emgfeedback.runtime.live import LiveOptions, build_acquisition
from emgfeedback.runtime.lsl_out import LslPublisher
from emgfeedback.ui.coach_window import CoachWindow
from emgfeedback.ui.theme import DARK, apply_theme

SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


class Athlete:
    """An athlete's laptop: a simulated sensor, the demo profile, publishing like `live --lsl --lsl-name NAME`."""

    def __init__(self, name: str, seed: int, channels: int = 2) -> None:
        profile = demo_profile(channels)
        source = SimulatedSource("backbend-hold", channels=channels, fs=1000.0, seed=seed)
        options = LiveOptions(filters=lambda fs: profile.filters.with_(fs=fs), profile=profile, band=Band(), auto_start=True)
        self.acq = build_acquisition(source, options)
        self.publisher = LslPublisher(name, device=f"simulated-{name}").attach(self.acq, profile=profile.name)
        self.acq.start()

    def stop(self) -> None:
        self.acq.stop()
        self.publisher.close()


def test_names() -> None:
    assert mvc_stream_name("ana") == "ana-mvc" and mvc_stream_name("ana-mvc") == "ana-mvc"
    assert athlete_name("ana-mvc") == "ana"


def test_three_athletes_one_goes_stale_focus_by_key(qtbot, show_active, tmp_path: Path) -> None:
    names = ["ana", "ben", "cleo"]
    athletes = [Athlete(n, seed=i) for i, n in enumerate(names)]
    feed = CoachFeed(names, resolve_every_s=0.5).start()
    window = CoachWindow(feed)
    qtbot.addWidget(window)
    apply_theme(QApplication.instance(), DARK)
    try:
        show_active(window)

        def all_live() -> bool:
            views = feed.views()
            return len(views) == 3 and all(v.connection == "live" for v in views)

        try:
            qtbot.waitUntil(all_live, timeout=30000)
        except WaitTimeout as exc:  # say what the feed saw, not only that the wait ran out
            raise AssertionError(f"not all live: {feed.views()}, feed error: {feed.error}") from exc
        assert [r.view.name for r in window.rows] == names  # the order given with --stream
        qtbot.waitUntil(lambda: any((v.hold_s or 0) > 2 for v in feed.views()), timeout=30000)  # a hold under way
        qtbot.waitUntil(lambda: all(len(r.gauges) == 2 for r in window.rows), timeout=5000)
        shot = tmp_path / "coach.png"
        assert window.grab().save(str(shot))
        if os.environ.get("EMGFEEDBACK_UPDATE_SCREENSHOTS") == "1":
            SHOTS.mkdir(exist_ok=True)
            window.grab().save(str(SHOTS / "coach.png"))
        assert shot.stat().st_size > 10_000

        athletes[1].stop()  # ben's laptop stops publishing
        qtbot.waitUntil(lambda: window.rows[1].view.connection in ("stale", "gone"), timeout=15000)
        assert window.rows[0].view.connection == "live" and window.rows[2].view.connection == "live"
        assert "stale" in window.rows[1].connection.text() or "gone" in window.rows[1].connection.text()

        qtbot.keyClick(window, Qt.Key.Key_3)
        assert window.focused == 3
        assert [r.isVisible() for r in window.rows] == [False, False, True]
        qtbot.keyClick(window, Qt.Key.Key_Escape)
        assert window.focused is None and all(r.isVisible() for r in window.rows)
        qtbot.keyClick(window, Qt.Key.Key_9)  # no ninth athlete: nothing changes
        assert window.focused is None
    finally:
        window.close()
        for a in athletes:
            a.stop()


def test_coach_command_renders_offscreen(tmp_path: Path) -> None:
    """`emgfeedback coach --stream ... --screenshot --quit-after` with one athlete publishing from this test."""
    import subprocess
    import sys

    from lsl_util import lsl_env

    athlete = Athlete("dana", seed=5)
    try:
        shot = tmp_path / "coach.png"
        out = subprocess.run(
            [sys.executable, "-m", "emgfeedback", "coach", "--stream", "dana", "--screenshot", str(shot), "--quit-after", "6"],
            check=False,
            env=lsl_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        athlete.stop()
    assert out.returncode == 0, out.stderr
    assert shot.stat().st_size > 5_000
