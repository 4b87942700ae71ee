"""Cue latency, to the first sample of the cue handed to miniaudio's output callback.

Two spans: ``cue_latency_*`` from ``CuePlayer.play`` (the dashboard acting on a cue); and
``cue_latency_decision_*`` from the moment the reader thread decides the cue (the feedback
engine's update) through the dashboard's refresh timer (30 fps) to that callback, on the demo's
simulated backbend. Uses the machine's sound output when it has one, else miniaudio's null device
(same stream, period and thread, samples discarded); the names say which (``_device`` / ``_null``).
The device's own buffer (one period, printed as ``audio_period``) comes after the measured spans.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Iterator

from benchmarks import Figure


def run() -> Iterator[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("EMGFEEDBACK_HOME", tempfile.mkdtemp(prefix="emgbench"))  # the dashboard's settings
    from PySide6.QtWidgets import QApplication

    from emgfeedback.feedback import Cue, CueEvent
    from emgfeedback.ui.audio import CuePlayer

    app = QApplication.instance() or QApplication([])
    player = CuePlayer(output="auto", volume=0.0 if os.environ.get("CI") else 0.3)
    where = "device"
    if player.output is None:
        player = CuePlayer(output="null")
        where = "null"
    output = player.output
    assert output is not None
    cues = int(os.environ.get("EMGFEEDBACK_BENCH_CUES", "60"))
    kinds = list(Cue)
    for i in range(cues):
        before = len(output.latencies_s)
        player.play(CueEvent(kinds[i % len(kinds)], i))
        deadline = time.monotonic() + 2.0
        while len(output.latencies_s) == before and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(0.003 * (i % 4))  # spread the decisions across the device period
    app.processEvents()
    ms = sorted(t * 1000 for t in output.latencies_s)
    player.close()
    yield Figure(f"cue_latency_median_{where}", statistics.median(ms), "ms")
    yield Figure(f"cue_latency_p95_{where}", ms[int(0.95 * (len(ms) - 1))], "ms")
    yield Figure(f"cue_latency_max_{where}", ms[-1], "ms")
    yield Figure("audio_period", output.period_ms, "ms")
    yield Figure("cues_measured", len(ms), "cues")
    decision = _decision_to_library(app, "null" if where == "null" else "auto")
    if decision:
        yield Figure(f"cue_latency_decision_median_{where}", statistics.median(decision), "ms")
        yield Figure(f"cue_latency_decision_max_{where}", max(decision), "ms")
    yield Figure("cues_decided_measured", len(decision), "cues")


def _decision_to_library(app: object, mode: str) -> list[float]:
    """Run the dashboard on the simulated backbend; pair each cue's decision time with its first output callback."""
    from PySide6.QtCore import QEventLoop, QTimer

    from emgfeedback.calibration import demo_profile
    from emgfeedback.config import Band
    from emgfeedback.io.spec import open_source
    from emgfeedback.runtime.acquisition import Acquisition
    from emgfeedback.runtime.live import LiveOptions, build_acquisition
    from emgfeedback.ui.main_window import Dashboard, DashboardConfig

    os.environ["EMGFEEDBACK_AUDIO"] = mode
    decided: list[float] = []
    collect = Acquisition._collect

    def stamped(self: Acquisition, cues: list, holds: list) -> None:
        decided.extend(time.perf_counter() for _ in cues)
        collect(self, cues, holds)

    Acquisition._collect = stamped  # type: ignore[method-assign]
    try:
        acq = build_acquisition(open_source("simulated:backbend-hold"), LiveOptions(profile=demo_profile(4), auto_start=True))
        window = Dashboard(acq, DashboardConfig(Band(), {}, "simulated", "demo", theme="dark"))
        window.show()
        output = window.player.output
        assert output is not None
        window.player.set_muted(False)  # every decided cue is played, so decisions and callbacks pair up
        played_at: list[float] = []
        play = output.play

        def play_spy(samples: object) -> None:
            played_at.append(time.perf_counter())
            play(samples)  # type: ignore[arg-type]

        output.play = play_spy  # type: ignore[method-assign]
        loop = QEventLoop()
        QTimer.singleShot(int(1000 * float(os.environ.get("EMGFEEDBACK_BENCH_SECONDS", "20"))), loop.quit)
        loop.exec()
        window.close()
        app.processEvents()  # type: ignore[attr-defined]
    finally:
        Acquisition._collect = collect  # type: ignore[method-assign]
    # each played cue: (decision -> play) + (play -> first sample in the callback), in order
    lib = list(output.latencies_s)
    n = min(len(decided), len(played_at), len(lib))
    return [1000 * (played_at[i] - decided[i] + lib[i]) for i in range(n)]
