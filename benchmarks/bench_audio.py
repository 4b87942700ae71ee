"""Cue latency: from the cue decision (``CuePlayer.play``) to the first sample handed to miniaudio.

Uses the machine's sound output when it has one, else miniaudio's null device (same stream,
same period and thread, samples discarded); the figure names say which (``_device`` / ``_null``).
The device's own buffer (one period, printed as ``audio_period``) comes after the measured span.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator

from benchmarks import Figure


def run() -> Iterator[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
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
