"""Test-wide set-up: offscreen Qt, a private data directory per test, paths to shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own EMGFEEDBACK_HOME so nothing touches the real user data."""
    home = tmp_path_factory.mktemp("emghome")
    monkeypatch.setenv("EMGFEEDBACK_HOME", str(home))
    return home


@pytest.fixture
def emg_home() -> Path:
    """The EMGFEEDBACK_HOME of the running test."""
    return Path(os.environ["EMGFEEDBACK_HOME"])


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, which holds the real recordings."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA} is missing: the tests need ../shared/data beside the project")
    return SHARED_DATA


@pytest.fixture
def show_active(qtbot):
    """Show a top-level widget and wait until it is the active window, so window shortcuts reach it."""

    def show(widget):
        widget.show()
        widget.raise_()
        widget.activateWindow()
        qtbot.waitExposed(widget)
        qtbot.waitUntil(widget.isActiveWindow, timeout=5000)
        return widget

    return show
