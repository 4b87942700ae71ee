"""Dashboard: frame time with 4 channels x 30 s of history at 1 kHz (offscreen).

The window redraws from the ring buffer while the simulated sensor streams in real time.
A frame is measured as refresh() (pull from the ring, update gauges and curves) plus the
event processing that paints it, paced at 60 Hz; figures are the median and p99.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterator

import numpy as np

from benchmarks import Figure, paced_frames


def run() -> Iterator[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import tempfile

    os.environ.setdefault("EMGFEEDBACK_HOME", tempfile.mkdtemp(prefix="emgbench"))
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from emgfeedback.calibration import demo_profile
    from emgfeedback.config import Band
    from emgfeedback.io.simulated import SimulatedSource
    from emgfeedback.runtime.live import LiveOptions, build_acquisition
    from emgfeedback.ui.main_window import Dashboard, DashboardConfig

    seconds = float(os.environ.get("EMGFEEDBACK_BENCH_SECONDS", "10"))
    app = QApplication.instance() or QApplication([])
    source = SimulatedSource("backbend-hold", backlog_s=30.0)
    acq = build_acquisition(source, LiveOptions(profile=demo_profile(4), auto_start=True))
    window = Dashboard(acq, DashboardConfig(Band(), {}, "simulated:backbend-hold", "demo", theme="dark", fps=60))
    window.settings.setValue("history_s", 30)
    window.resize(1400, 900)
    window.show()
    loop = QEventLoop()
    QTimer.singleShot(1000, loop.quit)  # let the widgets build and the first frames settle
    loop.exec()
    window.timer.stop()
    frames = paced_frames(window, app, 60, seconds * 60)
    window.close()
    app.processEvents()
    yield Figure("dashboard_frame_ms_median_4ch_30s", statistics.median(frames) * 1000, "ms")
    yield Figure("dashboard_frame_ms_p99_4ch_30s", float(np.percentile(frames, 99)) * 1000, "ms")
    yield Figure("dashboard_frames_measured", len(frames), "frames")
