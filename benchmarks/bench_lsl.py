"""Lab Streaming Layer on this machine (loopback-only config): latency, publishing CPU, coach frame time.

- ``lsl_latency_ms_*``: a plain outlet pushes one sample a millisecond stamped with the LSL clock at the push;
  an inlet in the same process takes ``local_clock() - stamp`` on arrival (the transport alone), reading the
  way LslSource does (block for one sample, then drain without waiting).
- ``lsl_publish_cpu_pct_core_4ch_1khz``: this process's CPU while a real-time simulated sensor (4 ch, 1 kHz) is
  processed and published with ``--lsl``'s publisher to an ``emgfeedback monitor --source lsl:...`` consumer in
  another process, minus a reference run of the same acquisition without publishing, as % of one core.
- ``coach_frame_ms_*_8_athletes``: the coach window's refresh (poll 8 MVC streams + redraw + paint), 15 Hz pacing,
  with 8 outlets of 4 muscles at 1 kHz fed from one thread.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks import Figure, paced_frames

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("EMGFEEDBACK_BENCH_SECONDS", "5"))


def _loopback() -> None:
    """Every LSL packet of this benchmark stays on this machine."""
    os.environ["LSLAPICFG"] = str(ROOT / "tests" / "lsl_loopback.cfg")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("EMGFEEDBACK_HOME", tempfile.mkdtemp(prefix="emgbench"))


def latency() -> Iterator[Figure]:
    import mne_lsl.lsl as lsl

    info = lsl.StreamInfo("bench-latency", "EMG", 4, 1000.0, "float32", "bench-latency")
    outlet = lsl.StreamOutlet(info)
    inlet = lsl.StreamInlet(lsl.resolve_streams(timeout=5, name="bench-latency")[0])
    inlet.open_stream(timeout=5)
    lags: list[float] = []
    stop = threading.Event()

    def pull() -> None:
        while not stop.is_set():  # wait for one sample, then take what else is there (as LslSource does)
            _, stamp = inlet.pull_sample(timeout=0.05)
            now = lsl.local_clock()
            if stamp is not None:
                lags.append(now - stamp)
            _, stamps = inlet.pull_chunk(timeout=0.0)
            lags.extend(now - float(s) for s in stamps)

    reader = threading.Thread(target=pull, daemon=True)
    reader.start()
    x = np.zeros(4, dtype=np.float32)
    t_next = time.perf_counter()
    for _ in range(int(SECONDS * 1000)):
        outlet.push_sample(x, lsl.local_clock())
        t_next += 0.001
        time.sleep(max(t_next - time.perf_counter(), 0))
    time.sleep(0.2)
    stop.set()
    reader.join(2)
    inlet.close_stream()
    del outlet
    ms = np.array(lags[100:]) * 1000  # after the connection settled
    yield Figure("lsl_latency_ms_median", float(np.median(ms)), "ms")
    yield Figure("lsl_latency_ms_p99", float(np.percentile(ms, 99)), "ms")
    yield Figure("lsl_latency_samples", len(ms), "samples")


def _acquisition_cpu(publish: bool) -> tuple[float, int]:
    """(CPU seconds of this process, samples) for SECONDS of a real-time 4 ch 1 kHz run, publishing or not."""
    from emgfeedback.calibration import demo_profile
    from emgfeedback.io.simulated import SimulatedSource
    from emgfeedback.runtime.live import LiveOptions, build_acquisition
    from emgfeedback.runtime.lsl_out import LslPublisher

    acq = build_acquisition(SimulatedSource("backbend-hold", channels=4, fs=1000.0), LiveOptions(profile=demo_profile(4)))
    consumer = None
    publisher = None
    if publish:
        publisher = LslPublisher("bench-publish", device="bench").attach(acq, profile="demo")
    acq.start()
    if publisher is not None:
        while not publisher.publishing:
            time.sleep(0.01)
        consumer = subprocess.Popen(
            [sys.executable, "-m", "emgfeedback", "monitor", "--source", "lsl:bench-publish", "--seconds", str(SECONDS + 4)],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(3.0)  # the consumer connects
    c0, s0 = time.process_time(), acq.samples
    time.sleep(SECONDS)
    c1, s1 = time.process_time(), acq.samples
    acq.stop()
    if publisher is not None:
        publisher.close()
    if consumer is not None:
        consumer.wait(30)
    return c1 - c0, s1 - s0


def publish_cpu() -> Iterator[Figure]:
    ref_cpu, ref_n = _acquisition_cpu(publish=False)
    pub_cpu, pub_n = _acquisition_cpu(publish=True)
    per_s_ref = ref_cpu / (ref_n / 1000.0)
    per_s_pub = pub_cpu / (pub_n / 1000.0)
    yield Figure("lsl_publish_cpu_pct_core_4ch_1khz", (per_s_pub - per_s_ref) * 100, "% of a core")
    yield Figure("acquisition_cpu_pct_core_4ch_1khz_reference", per_s_ref * 100, "% of a core")
    yield Figure("lsl_publish_cpu_ratio_to_acquisition", (per_s_pub - per_s_ref) / per_s_ref, "x")


def coach_frames() -> Iterator[Figure]:
    import mne_lsl.lsl as lsl
    from PySide6.QtWidgets import QApplication

    from emgfeedback.runtime.coach_feed import CoachFeed
    from emgfeedback.ui.coach_window import CoachWindow
    from emgfeedback.ui.theme import DARK, apply_theme

    muscles = ["glute_max_left", "hamstring_left", "glute_max_right", "hamstring_right"]
    names = [f"bench-athlete{k}" for k in range(8)]
    outlets = []
    for name in names:
        info = lsl.StreamInfo(f"{name}-mvc", "MVC", 9, 1000.0, "float32", f"{name}-mvc")
        info.set_channel_names([*(f"{m}_pct_mvc" for m in muscles), *(f"{m}_state" for m in muscles), "hold_s"])
        outlets.append(lsl.StreamOutlet(info))
    stop = threading.Event()

    def feed_outlets() -> None:
        rng = np.random.default_rng(0)
        t = 0.0
        while not stop.wait(0.02):
            for out in outlets:
                pct = 40 + 15 * rng.standard_normal((20, 4))
                states = np.where(pct < 30, 1, np.where(pct > 50, 3, 2))
                hold = t + np.arange(20) / 1000.0
                out.push_chunk(np.hstack([pct, states, hold[:, None]]).astype(np.float32))
            t += 0.02

    pusher = threading.Thread(target=feed_outlets, daemon=True)
    pusher.start()
    app = QApplication.instance() or QApplication([])
    feed = CoachFeed(names, resolve_every_s=0.5).start()
    window = CoachWindow(feed, fps=15)
    apply_theme(app, DARK)
    window.resize(1920, 1080)
    window.show()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (len(feed.views()) == 8 and all(v.connection == "live" for v in feed.views())):
        window.refresh()
        app.processEvents()
        time.sleep(0.05)
    window.timer.stop()
    frames = paced_frames(window, app, 15, SECONDS * 15)
    live = sum(v.connection == "live" for v in feed.views())
    window.close()
    app.processEvents()
    stop.set()
    pusher.join(2)
    yield Figure("coach_frame_ms_median_8_athletes", statistics.median(frames) * 1000, "ms")
    yield Figure("coach_frame_ms_p99_8_athletes", float(np.percentile(frames, 99)) * 1000, "ms")
    yield Figure("coach_athletes_live", live, "athletes")


def run() -> Iterator[Figure]:
    _loopback()
    yield from latency()
    yield from publish_cpu()
    yield from coach_frames()
