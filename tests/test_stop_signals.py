"""Ctrl-C and SIGTERM end ``live``, ``demo``, ``record`` and ``monitor`` cleanly: exit 0, one summary line,
no traceback, and a recording closed and marked complete. Real subprocesses, real signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from emgfeedback.session.store import SessionStore

pytestmark = pytest.mark.skipif(os.name != "posix", reason="sending SIGINT to a child is POSIX")

#: Longest a command may take to become ready (start Qt, open the source, commit a first block).
READY_S = 60.0
#: Longest a command may take to end after the signal.
EXIT_S = 30.0


class Command:
    """``emgfeedback ARGS`` in a subprocess whose output lines are collected as they come."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emgfeedback", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for r in self._readers:
            r.start()

    @staticmethod
    def _pump(stream: IO[str], into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def wait_until(self, cond: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + READY_S
        pause = threading.Event()
        while not cond():
            if self.proc.poll() is not None:
                pytest.fail(f"exited with {self.proc.returncode} before {what}:\n" + "\n".join(self.err[-20:]))
            if time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"not ready within {READY_S} s ({what}):\n" + "\n".join(self.err[-20:]))
            pause.wait(0.05)

    def stop_with(self, sig: signal.Signals) -> int:
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(EXIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"still running {EXIT_S} s after {sig.name}:\n" + "\n".join(self.err[-20:]))
        for r in self._readers:
            r.join(5.0)
        return code


def _session_with_data() -> bool:
    """Whether the store holds a session with committed samples."""
    home = Path(os.environ["EMGFEEDBACK_HOME"])
    if not (home / "sessions.sqlite3").exists():
        return False
    with SessionStore() as store:
        return any(s.samples > 0 for s in store.sessions())


def _only_session_complete() -> None:
    with SessionStore() as store:
        (info,) = store.sessions()
        assert info.status == "complete" and info.samples > 0


def _clean(cmd: Command, code: int) -> str:
    text = "\n".join(cmd.out + cmd.err)
    assert code == 0, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    return text


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("command", ["live", "demo"])
def test_dashboard_ends_on_a_signal_and_prints_the_session(command: str, sig: signal.Signals, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    source = ["--source", "simulated"] if command == "live" else []
    cmd = Command(command, *source, "--record", "--quit-after", "600", "--screenshot", str(shot))
    cmd.wait_until(_session_with_data, "a recorded block in the store")
    code = cmd.stop_with(sig)
    _clean(cmd, code)
    _only_session_complete()
    assert any(line.startswith("session 1 recorded: ") for line in cmd.out), cmd.out
    assert f"screenshot saved to {shot}" in cmd.out and shot.stat().st_size > 0


def test_record_ends_on_sigint_with_one_summary_line() -> None:
    cmd = Command("record", "--source", "simulated", "--status-every", "0")
    cmd.wait_until(lambda: any("recording session" in line for line in cmd.err) and _session_with_data(), "recording")
    code = cmd.stop_with(signal.SIGINT)
    _clean(cmd, code)
    _only_session_complete()
    assert len(cmd.out) == 1 and cmd.out[0].startswith("session 1 complete: ") and "stopped by SIGINT" in cmd.out[0]


def test_monitor_ends_on_sigint_with_its_totals() -> None:
    cmd = Command("monitor", "--source", "simulated", "--json")
    cmd.wait_until(lambda: any(line.startswith("channel") for line in cmd.err), "the first status screen")
    code = cmd.stop_with(signal.SIGINT)
    _clean(cmd, code)
    summary = json.loads(cmd.out[-1])
    assert summary["frames"] > 0 and summary["counter_ok"] is True
    assert any(line.startswith("monitored ") and "stopped by SIGINT" in line for line in cmd.err)
