"""Test-wide set-up: offscreen Qt, a private data directory per test, the real recordings in tests/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
#: Lab Streaming Layer stays on loopback in every test and every process a test starts (inherited).
LSL_LOOPBACK_CFG = ROOT / "tests" / "lsl_loopback.cfg"
os.environ["LSLAPICFG"] = str(LSL_LOOPBACK_CFG)


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
def real_data() -> Path:
    """tests/data: real recordings from other systems, with their licenses (tests/data/README.md)."""
    return DATA


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
