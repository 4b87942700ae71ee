"""Honest delay: the measured median time from a true crossing of a band edge to the reported state.

Half a moving window is only the envelope's group delay; a user waits for the band decision too
(hysteresis, dwell, the estimator's own evidence). These medians come from ``python -m benchmarks
cues`` (simulated sEMG with a scripted %MVC at 1 kHz, steps of 15, 20 and 30 points across the
30 and 50 %MVC edges, the default band decision of each estimator); rerun it and update them
when the estimator or the decision changes.
"""

from __future__ import annotations

import numpy as np

from emgfeedback.config import Envelope, FilterSpec

#: Median cue latency (ms) over every crossing of the benchmark (5 seeds x 4 channels x 12 crossings),
#: adaptive estimator (whitened, ratios 1.2/1.5/2.0, 50 ms shortest restart, fall threshold 7.25) + its
#: decision; measured on 2026-12-02.
ADAPTIVE_MS = 58.0
#: Moving RMS + fixed hysteresis (2 %MVC) and dwell (150 ms): window (ms) -> median cue latency (ms).
RMS_MS = {50.0: 186.0, 100.0: 212.0, 150.0: 240.0, 300.0: 333.0}


def cue_latency_ms(spec: FilterSpec) -> float:
    """The measured median cue latency of a chain's settings (interpolated between measured RMS windows)."""
    if spec.estimator is Envelope.ADAPTIVE:
        return ADAPTIVE_MS
    windows = np.array(sorted(RMS_MS))
    values = np.array([RMS_MS[w] for w in windows])
    w = spec.window_ms
    if w <= windows[-1]:
        return float(np.interp(w, windows, values))
    slope = (values[-1] - values[-2]) / (windows[-1] - windows[-2])  # beyond the table: the last slope
    return float(values[-1] + slope * (w - windows[-1]))


def describe_envelope(spec: FilterSpec) -> str:
    """The estimator in a few words, e.g. ``adaptive (cue delay ~80 ms)`` or ``rms 150 ms (cue delay ~240 ms)``."""
    name = "adaptive" if spec.estimator is Envelope.ADAPTIVE else f"{spec.estimator.value} {spec.window_ms:g} ms"
    return f"{name} (cue delay ~{cue_latency_ms(spec):.0f} ms)"
