"""Helpers for the LSL tests: a counter recording, bounded waits, a plain test outlet, a subprocess outlet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from conftest import wait_until as wait_for  # noqa: F401 - the LSL tests import it from here

ROOT = Path(__file__).resolve().parent.parent


def counter_csv(path: Path, samples: int, channels: int = 2) -> Path:
    """A CSV whose channel c holds (c + 1) * the sample number: every sample says where it belongs."""
    rows = np.arange(samples)[:, None] * np.arange(1, channels + 1)[None, :]
    header = ",".join(f"counter{c}" for c in range(channels))
    np.savetxt(path, rows, fmt="%d", delimiter=",", header=header, comments="")
    return path


def lsl_env() -> dict[str, str]:
    """The environment for a subprocess: this tree first, the loopback LSL config, no display."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["LSLAPICFG"] = str(ROOT / "tests" / "lsl_loopback.cfg")
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def start_cli(*args: str) -> subprocess.Popen[str]:
    """``python -m emgfeedback ARGS`` in the background (stdout/stderr captured)."""
    return subprocess.Popen(
        [sys.executable, "-m", "emgfeedback", *args],
        env=lsl_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


class TestOutlet:
    """A plain LSL outlet (as another program would publish) pushing a counter in chunks, stamped at push time."""

    __test__ = False

    def __init__(
        self,
        name: str,
        labels: list[str],
        fs: float = 500.0,
        chunk: int = 10,
        unit: str = "microvolts",
        source_id: str | None = None,
    ) -> None:
        import mne_lsl.lsl as lsl

        info = lsl.StreamInfo(name, "EMG", len(labels), fs, "float32", f"test-{name}" if source_id is None else source_id)
        info.set_channel_names(labels)
        info.set_channel_units([unit] * len(labels))
        info.set_channel_types("emg")
        self.outlet = lsl.StreamOutlet(info)
        self.fs, self.chunk = fs, chunk
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        t0 = time.monotonic()
        n = len(self.outlet.get_sinfo().get_channel_names())
        while not self._stop.is_set():
            due = t0 + (self.sent + self.chunk) / self.fs
            wait = due - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                break
            rows = np.arange(self.sent, self.sent + self.chunk, dtype=np.float32)[:, None] * np.ones(n, np.float32)
            self.outlet.push_chunk(rows)
            self.sent += self.chunk

    def close(self) -> None:
        """Stop pushing and destroy the outlet (its stream disappears from the network)."""
        self._stop.set()
        self._thread.join(5)
        self.outlet._del()  # destroy now, not whenever the garbage collector gets to it


def run_cli(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """``python -m emgfeedback ARGS`` to the end, on the loopback-only LSL configuration."""
    return subprocess.run(
        [sys.executable, "-m", "emgfeedback", *args], check=False, env=lsl_env(), capture_output=True, text=True, timeout=timeout
    )


def monitor_json(source: str, seconds: float) -> dict:
    """The totals ``monitor --json`` prints for ``source`` after ``seconds`` (it must exit 0)."""
    out = run_cli("monitor", "--source", source, "--seconds", f"{seconds:g}", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])
