"""The built-in demo profile for the simulated sensor, measured with the live chain (cached).

MVC is the chain's mean envelope with every simulated muscle at a constant 100 % and
noise its mean at rest, so the demo's 40 % script reads 40 %MVC on screen.
"""

from __future__ import annotations

import functools

import numpy as np

from emgfeedback.calibration.profile import MuscleReference, Profile, canonical
from emgfeedback.config import FilterSpec
from emgfeedback.dsp.pipeline import Pipeline
from emgfeedback.io.simulated import MUSCLES, SimulatedSource, constant_script

DEMO_NAME = "demo (simulated sensor)"
#: Seconds simulated per level, and the first part left out while the chain settles.
RUN_S = 8.0
SETTLE_S = 1.0


def _mean_envelope(level: float, channels: int, spec: FilterSpec, seed: int) -> np.ndarray:
    source = SimulatedSource(constant_script(channels, level), channels=channels, fs=spec.fs, seed=seed, realtime=False)
    source.open()
    env = Pipeline(spec).process(source.generate(round(RUN_S * spec.fs))).envelope
    return env[round(SETTLE_S * spec.fs) :].mean(axis=0)


@functools.lru_cache(maxsize=8)
def demo_profile(channels: int = 4, spec: FilterSpec | None = None) -> Profile:
    """The demo profile for ``channels`` simulated muscles (standard order) and filter ``spec`` (default chain at 1 kHz)."""
    spec = spec or FilterSpec()
    noise = _mean_envelope(0.0, channels, spec, seed=101)
    mvc = _mean_envelope(100.0, channels, spec, seed=102)
    source = SimulatedSource("rest", channels=channels, fs=spec.fs, realtime=False)
    source.open()
    info = source.info
    refs = tuple(MuscleReference(MUSCLES[c], c, float(mvc[c]), float(noise[c])) for c in range(channels))
    return Profile(
        name=DEMO_NAME,
        references=refs,
        filters=canonical(spec),
        channels=channels,
        units=info.units,
        source_units=info.units,
        firmware=info.firmware,
        source="simulated",
        created="built-in",
    )
