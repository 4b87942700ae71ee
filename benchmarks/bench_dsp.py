"""Signal core: one hour of 4 channels at 1 kHz offline, and one 10-sample live chunk (default and RMS chains).

Offline figures are medians of 5 runs; ratios are against a bare floor (scipy sosfilt
band-pass + cumulative-sum moving RMS on the same array) and against pyemgpipeline's
DC-offset / band-pass / rectify / linear-envelope processors, both run here in the same process.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator

import numpy as np
from scipy import signal

from benchmarks import Figure, median_time
from emgfeedback.config import Envelope, FilterSpec
from emgfeedback.dsp import MovingRMS, MvcNormalizer, Pipeline
from emgfeedback.dsp.adaptive_envelope import AdaptiveRMS

FS = 1000.0
CHANNELS = 4


def _data(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.rint(512 + 30 * rng.standard_normal((int(seconds * FS), CHANNELS)))


def _floor(x: np.ndarray) -> np.ndarray:
    """The least any chain must do: band-pass and a moving RMS by cumulative sums."""
    sos = signal.butter(4, [20, 450], btype="bandpass", fs=FS, output="sos")
    y = signal.sosfilt(sos, x - x[0], axis=0)
    c = np.cumsum(y * y, axis=0)
    w = 150
    out = np.empty_like(c)
    out[:w] = c[:w] / w
    out[w:] = (c[w:] - c[:-w]) / w
    return np.sqrt(np.maximum(out, 0))


def _pyemgpipeline(x: np.ndarray) -> np.ndarray:
    from pyemgpipeline.processors import BandpassFilter, DCOffsetRemover, FullWaveRectifier, LinearEnvelope

    y = DCOffsetRemover().apply(x)
    y = BandpassFilter(FS, bf_order=4, bf_cutoff_fq_lo=20, bf_cutoff_fq_hi=450).apply(y)
    y = FullWaveRectifier().apply(y)
    return LinearEnvelope(FS, le_order=4, le_cutoff_fq=6).apply(y)


def _ours(x: np.ndarray, spec: FilterSpec | None = None) -> np.ndarray:
    norm = MvcNormalizer(np.full(CHANNELS, 60.0), np.full(CHANNELS, 1.0))
    return Pipeline(spec or FilterSpec(fs=FS), normalizer=norm).process(x).percent


def run() -> Iterator[Figure]:
    seconds = float(os.environ.get("EMGFEEDBACK_BENCH_SECONDS", "3600"))
    x = _data(seconds)
    ours = median_time(lambda: _ours(x), repeats=5)
    floor = median_time(lambda: _floor(x), repeats=5)
    yield Figure(f"dsp_offline_{seconds / 3600:g}h_4ch_1kHz", ours, "s")
    yield Figure("dsp_offline_ratio_to_floor", ours / floor, "x")
    try:
        pep = median_time(lambda: _pyemgpipeline(x), repeats=3)
    except ImportError:
        pass
    else:
        yield Figure("dsp_offline_ratio_to_pyemgpipeline", ours / pep, "x")
    rms = FilterSpec(fs=FS, envelope=Envelope.RMS)
    yield Figure("dsp_offline_rms_ratio_to_default", median_time(lambda: _ours(x, rms), repeats=3) / ours, "x")
    # live: one 10-sample chunk of 4 channels through the whole chain, after warm-up
    chunks = _data(60).reshape(-1, 10, CHANNELS)
    for label, spec in (("", FilterSpec(fs=FS)), ("_rms", rms)):
        pipe = Pipeline(spec, normalizer=MvcNormalizer(np.full(CHANNELS, 60.0), np.full(CHANNELS, 1.0)))
        times = _chunk_times(pipe.process, chunks)
        yield Figure(f"dsp_live_chunk10x4{label}_median", statistics.median(times) * 1e6, "us")
        yield Figure(f"dsp_live_chunk10x4{label}_p99", float(np.percentile(times, 99)) * 1e6, "us")
    # the estimators alone on band-passed noise
    noise = np.random.default_rng(1).standard_normal((60_000, CHANNELS)).reshape(-1, 10, CHANNELS)
    for name, est in (("adaptive", AdaptiveRMS(FS)), ("rms150", MovingRMS(150))):
        times = _chunk_times(est.process, noise)
        yield Figure(f"dsp_envelope_{name}_chunk10x4_median", statistics.median(times) * 1e6, "us")
        yield Figure(f"dsp_envelope_{name}_chunk10x4_p99", float(np.percentile(times, 99)) * 1e6, "us")


def _chunk_times(process: Callable[[np.ndarray], object], chunks: np.ndarray) -> list[float]:
    """Seconds per chunk after 200 warm-up chunks."""
    for c in chunks[:200]:
        process(c)
    times = []
    for c in chunks[200:]:
        t0 = time.perf_counter()
        process(c)
        times.append(time.perf_counter() - t0)
    return times
