"""Test-wide set-up: offscreen Qt, a private data directory per test, the real recordings in tests/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# cues go through miniaudio's null device: the real output path, silent, the same with or without speakers
os.environ.setdefault("EMGFEEDBACK_AUDIO", "null")

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


def wait_until(condition, timeout: float = 10.0, what: str = "", *, interval: float = 0.005):
    """Poll ``condition`` until it is truthy and return its value; fail after ``timeout`` seconds.

    The one bounded wait every test uses (never a sleep and hope)."""
    import threading
    import time

    deadline = time.monotonic() + timeout
    tick = threading.Event()  # never set: its wait is the poll interval
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what or getattr(condition, '__name__', 'a condition')}")
        tick.wait(interval)


class VirtualBoard:
    """``emgfeedback simulate-device ARGS`` in a subprocess: a pty that behaves like a board; ``path`` opens it."""

    def __init__(self, *args: str, cwd: Path = ROOT) -> None:
        import select
        import subprocess
        import sys

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emgfeedback", "simulate-device", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 20.0)
        if not ready:
            self.proc.kill()
            pytest.fail("simulate-device printed no path within 20 s")
        self.path = self.proc.stdout.readline().decode().strip()

    def stop(self) -> tuple[int, str]:
        """SIGTERM, then the exit code and stderr."""
        import signal
        import subprocess

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=10.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err.decode()


@pytest.fixture
def virtual_board():
    """A factory of :class:`VirtualBoard`; every board started is stopped after the test."""
    boards: list[VirtualBoard] = []

    def start(*args: str) -> VirtualBoard:
        board = VirtualBoard(*args)
        boards.append(board)
        return board

    yield start
    for board in boards:
        board.stop()
