"""End-to-end latency: a sample due on a (virtual) board -> pty -> SerialSource -> chain -> the gauge.

The virtual device streams our frames at 1 kHz x 4 over a pty; the dashboard (offscreen, 60 Hz)
records, at each refresh, how long ago its newest sample was due on the device. The envelope's
own group delay (74.5 ms at 150 ms) comes on top and is printed alongside, not included.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator

import numpy as np

from benchmarks import Figure


def run() -> Iterator[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("EMGFEEDBACK_HOME", tempfile.mkdtemp(prefix="emgbench"))
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from emgfeedback.calibration import demo_profile
    from emgfeedback.config import Band
    from emgfeedback.io.serial_source import SerialSource
    from emgfeedback.io.virtual_device import VirtualDevice
    from emgfeedback.runtime.live import LiveOptions, build_acquisition
    from emgfeedback.ui.main_window import Dashboard, DashboardConfig

    seconds = float(os.environ.get("EMGFEEDBACK_BENCH_SECONDS", "10"))
    app = QApplication.instance() or QApplication([])
    device = VirtualDevice("frame", scenario="backbend-hold", channels=4, fs=1000.0)
    first_start: list[int] = []
    encode = device._encode

    def spy(start: int, x: np.ndarray) -> bytes:
        if not first_start:
            first_start.append(start)
        return encode(start, x)

    device._encode = spy  # type: ignore[method-assign]
    path = device.start()
    latencies: list[float] = []
    try:
        acq = build_acquisition(SerialSource(path, protocol="frame"), LiveOptions(profile=demo_profile(4)))
        window = Dashboard(acq, DashboardConfig(Band(), {}, path, "demo", theme="dark", fps=60))
        window.show()

        def measure() -> None:
            ring = acq.ring
            if ring is None or not first_start or ring.index == 0:
                return
            newest_device_index = first_start[0] + ring.index - 1
            due = device.stream_t0 + (newest_device_index + 1) / device.fs
            latencies.append(time.monotonic() - due)

        window.refreshed.connect(measure)
        loop = QEventLoop()
        QTimer.singleShot(int(1000 * (1.0 + seconds)), loop.quit)
        loop.exec()
        delay = acq.pipeline.delay_ms if acq.pipeline else float("nan")
        window.close()
        app.processEvents()
    finally:
        device.stop()
    lat = np.array(latencies[60:]) * 1000  # skip the first second (handshake, widget creation)
    yield Figure("latency_device_to_gauge_ms_median", float(np.median(lat)), "ms")
    yield Figure("latency_device_to_gauge_ms_p99", float(np.percentile(lat, 99)), "ms")
    yield Figure("latency_envelope_group_delay", delay, "ms (on top, by design)")
    yield Figure("latency_samples_measured", lat.size, "refreshes")
