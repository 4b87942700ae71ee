"""Fatigue in the reader thread: the cost of sliding-window MDF/MNF (1 s every 250 ms, 4 channels at 1 kHz)
during a hold, fed in the live 10-sample chunks, as a share of real time and against the live chain itself
(Pipeline.process on the same chunks), both run here in the same process."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from benchmarks import Figure, median_time
from emgfeedback.config import FilterSpec
from emgfeedback.dsp import Pipeline
from emgfeedback.dsp.spectra import HoldSpectra

FS = 1000.0
CHANNELS = 4
SECONDS = 60.0
CHUNK = 10


def run() -> Iterator[Figure]:
    rng = np.random.default_rng(0)
    raw = np.rint(512 + 30 * rng.standard_normal((int(SECONDS * FS), CHANNELS)))
    filtered = Pipeline(FilterSpec(fs=FS)).process(raw).filtered
    chunks = [filtered[a : a + CHUNK] for a in range(0, filtered.shape[0], CHUNK)]
    raw_chunks = [raw[a : a + CHUNK] for a in range(0, raw.shape[0], CHUNK)]

    def spectra() -> None:
        h = HoldSpectra(CHANNELS, FS)
        for c in chunks:
            h.update(c)
        h.summary(["a", "b", "c", "d"])

    def chain() -> None:
        p = Pipeline(FilterSpec(fs=FS))
        for c in raw_chunks:
            p.process(c)

    t_spec = median_time(spectra, repeats=3)
    t_chain = median_time(chain, repeats=3)
    yield Figure("fatigue_cpu_share_of_real_time", 100.0 * t_spec / SECONDS, "%")
    yield Figure("fatigue_per_window", 1e3 * t_spec / (SECONDS / 0.25), "ms")
    yield Figure("fatigue_vs_live_chain", t_spec / t_chain, "x")
