"""Every file the app writes under the data folder is owner-only (0600 files, 0700 folders), whatever the umask:
the store, settings (ui.ini), screenshots (Ctrl+S and --screenshot), the sound cache; doctor's privacy check passes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from emgfeedback.calibration import demo_profile
from emgfeedback.config import Band
from emgfeedback.doctor import Status, System
from emgfeedback.doctor.data_check import check_data_dir
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.runtime.live import LiveOptions, build_acquisition

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes (Windows: per-user profile ACLs)")
ROOT = Path(__file__).resolve().parent.parent


def modes(home: Path) -> dict[str, str]:
    """Every file and folder under ``home`` (relative name -> octal mode)."""
    return {str(p.relative_to(home)): oct(stat.S_IMODE(p.stat().st_mode)) for p in sorted(home.rglob("*"))}


def assert_private(home: Path) -> None:
    found = modes(home)
    wrong = {name: mode for name, mode in found.items() if mode != (oct(0o700) if (home / name).is_dir() else oct(0o600))}
    assert not wrong, wrong
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert check_data_dir(System())[0].status is Status.OK


@pytest.fixture
def open_umask():
    """The usual umask 022 (files would be 0644 if the app did not make them private)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_dashboard_files_after_ctrl_s(qtbot, show_active, emg_home: Path, open_umask: None) -> None:
    from emgfeedback.session.recorder import dashboard_recorder_factory
    from emgfeedback.ui.main_window import Dashboard, DashboardConfig

    acq = build_acquisition(SimulatedSource("backbend-hold", channels=2, speed=4.0), LiveOptions(profile=demo_profile(2)))
    window = Dashboard(
        acq,
        DashboardConfig(Band(), {}, "simulated:backbend-hold", "demo", theme="dark"),
        recorder_factory=dashboard_recorder_factory(demo_profile(2)),
    )
    qtbot.addWidget(window)
    show_active(window)
    qtbot.waitUntil(lambda: window._built, timeout=10000)
    window.toggle_record()
    qtbot.waitUntil(lambda: window.recorder is not None and window.recorder.session_id is not None, timeout=10000)
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any(emg_home.glob("screenshot-*.png")), timeout=5000)
    window.toggle_theme()  # a setting is written to ui.ini
    window.settings.sync()
    window.close()
    names = set(modes(emg_home))
    assert {"ui.ini", "sessions.sqlite3"} <= names and any(n.startswith("screenshot-") for n in names), names
    assert_private(emg_home)


def test_demo_run_with_screenshot_and_recording(emg_home: Path, open_umask: None) -> None:
    shot = emg_home / "demo.png"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_CACHE_HOME")}
    proc = subprocess.run(
        [sys.executable, "-m", "emgfeedback", "demo", "--record", "--screenshot", str(shot), "--quit-after", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "EMGFEEDBACK_HOME": str(emg_home)},
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert shot.is_file() and (emg_home / "sessions.sqlite3").is_file()
    assert_private(emg_home)


def test_no_sound_cache_is_written_anywhere(
    emg_home: Path, open_umask: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:
    """The cues are synthesized in memory: nothing lands in the user's cache folder or beside the data."""
    from emgfeedback.ui.audio import CuePlayer
    from emgfeedback.ui.sounds import cue_sounds

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    player = CuePlayer(output="null")
    assert all(s.size > 1000 for s in cue_sounds().values())
    player.close()
    assert not (tmp_path / "cache").exists()
    assert_private(emg_home)
