"""The dashboard with the other capabilities: recording (R), calibration wizard (C), profiles (P)."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog

from emgfeedback.calibration import demo_profile, save_profile
from emgfeedback.config import Band
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.runtime.live import LiveOptions, build_acquisition
from emgfeedback.session.recorder import dashboard_recorder_factory
from emgfeedback.session.store import SessionStore
from emgfeedback.session.summary import summarize
from emgfeedback.ui.main_window import Dashboard, DashboardConfig


def _window(qtbot, show_active, *, speed: float = 4.0, profile=None) -> Dashboard:
    profile = profile or demo_profile(4)

    def make(p):
        return build_acquisition(SimulatedSource("backbend-hold", speed=speed), LiveOptions(profile=p or profile))

    window = Dashboard(
        make(profile),
        DashboardConfig(Band(), {}, "simulated", profile.name, theme="dark"),
        restart=make,
        recorder_factory=dashboard_recorder_factory(profile),
    )
    qtbot.addWidget(window)
    show_active(window)
    qtbot.waitUntil(lambda: window._built, timeout=10000)
    return window


def test_r_records_the_session_and_a_hold(qtbot, show_active) -> None:
    window = _window(qtbot, show_active)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.recorder is not None
    start = window.acq.ring.index
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.acq.ring.index > start + 4000, timeout=20000)
    with qtbot.waitSignal(window.hold_finished, timeout=10000):
        qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "REC" in window.status_record.text(), timeout=5000)
    recorder = window.recorder
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.recorder is None
    store = SessionStore()
    sessions = store.sessions()
    assert len(sessions) == 1
    session = sessions[0]
    assert session.status == "complete" and recorder.session_id == session.id
    summary = summarize(store, session.id)
    assert len(summary.holds) == 1 and summary.stored_samples > 4000
    window.close()


def test_p_switches_to_a_saved_profile_and_restarts_the_stream(qtbot, show_active) -> None:
    save_profile(dataclasses.replace(demo_profile(4), name="both sides, standard placement"))
    window = _window(qtbot, show_active)
    old = window.acq
    original = QInputDialog.getItem
    QInputDialog.getItem = staticmethod(lambda *a, **k: ("both sides, standard placement", True))  # type: ignore[method-assign]
    try:
        qtbot.keyClick(window, Qt.Key.Key_P)
    finally:
        QInputDialog.getItem = original  # type: ignore[method-assign]
    assert window.acq is not old and not old.running
    qtbot.waitUntil(lambda: window._built, timeout=10000)
    assert window.status_profile.text() == "profile: both sides, standard placement"
    assert len(window.gauges) == 4
    window.close()


def test_c_opens_the_wizard_on_the_live_stream_and_esc_cancels(qtbot, show_active, monkeypatch: pytest.MonkeyPatch) -> None:
    window = _window(qtbot, show_active)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("placement A", True)))
    seen = {}

    def inspect_and_cancel() -> None:
        from emgfeedback.ui.calibration_host import CalibrationDialog

        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, CalibrationDialog) and w.isVisible())
        seen["muscles"] = [t.name for t in dialog.wizard.machine.plan.tests]
        seen["theme"] = dialog.wizard.theme.name
        dialog.reject()

    qtbot.keyClick(window, Qt.Key.Key_T)  # light theme: the wizard follows it
    assert window.theme.name == "light"
    QTimer.singleShot(500, inspect_and_cancel)
    qtbot.keyClick(window, Qt.Key.Key_C)
    assert seen["muscles"] == ["glute_max_left", "hamstring_left", "glute_max_right", "hamstring_right"]
    assert seen["theme"] == "light"
    assert window.acq.running  # cancelling leaves the live stream alone
    window.close()
