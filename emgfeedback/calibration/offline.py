"""A calibration from an existing recording of MVC trials, for people who recorded them elsewhere.

The recording goes through the live chain; noise is the quietest ``rest_s`` stretch of the
envelope (once its window has filled) and MVC the highest 500 ms mean of the envelope.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emgfeedback.calibration import checks
from emgfeedback.calibration.checks import Problem, Severity
from emgfeedback.calibration.plan import samples
from emgfeedback.calibration.reference import MVC_WINDOW_S, highest_mean, quietest_mean
from emgfeedback.calibration.results import CalibrationResult, MuscleResult
from emgfeedback.config import FilterSpec
from emgfeedback.dsp.pipeline import Pipeline
from emgfeedback.errors import SettingsError
from emgfeedback.muscles import display_name

#: Samples per processing block (bounds memory; chunked equals one-shot).
BLOCK = 60_000


def envelope_of(data: np.ndarray, spec: FilterSpec, *, scale: float | None = None) -> np.ndarray:
    """The live chain's envelope of a whole recording (samples, channels)."""
    pipeline = Pipeline(spec, scale=scale)
    x = np.asarray(data, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    blocks = [pipeline.process(x[i : i + BLOCK]).envelope for i in range(0, x.shape[0], BLOCK)]
    return np.concatenate(blocks) if blocks else np.empty((0, x.shape[1]))


def calibrate_recording(
    data: np.ndarray, muscles: Sequence[str], spec: FilterSpec, *, rest_s: float = 1.0, scale: float | None = None
) -> CalibrationResult:
    """Per-column noise and MVC of a recording whose columns are ``muscles`` in order."""
    x = np.asarray(data, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    if len(muscles) != x.shape[1]:
        raise SettingsError(f"{len(muscles)} muscle names for {x.shape[1]} columns: give one name per column")
    if not rest_s > 0:
        raise SettingsError(f"rest stretch {rest_s:g} s is not positive: use e.g. --rest-seconds 1")
    fs = spec.fs
    warm = spec.window_samples
    rest_width = samples(rest_s, fs)
    mvc_width = samples(MVC_WINDOW_S, fs)
    need = warm + max(rest_width, mvc_width)
    if x.shape[0] < need:
        raise SettingsError(
            f"the recording has {x.shape[0] / fs:.2f} s, too short for a {rest_s:g} s rest stretch: "
            f"it needs at least {need / fs:.2f} s, or a shorter --rest-seconds"
        )
    env = envelope_of(x, spec, scale=scale)
    noise = quietest_mean(env[warm:], rest_width)
    mvc = highest_mean(env, mvc_width)
    hum = checks.hum_ratio(x, fs, spec.mains)
    flat = np.ptp(x, axis=0) == 0
    results = []
    for c, name in enumerate(muscles):
        label = display_name(name)
        problems: list[Problem] = []
        if flat[c]:
            problems.append(
                Problem("electrode_off", Severity.FAIL, f"{label}: the column is flat (electrode off?): choose another column")
            )
        ratio = mvc[c] / noise[c] if noise[c] > 0 else np.inf
        if ratio < checks.WEAK_RATIO:
            problems.append(
                Problem(
                    "weak",
                    Severity.FAIL,
                    f"{label}: the strongest 500 ms is only {ratio:.1f}x the quietest stretch (needs {checks.WEAK_RATIO:g}x): "
                    "the recording holds no clear maximal contraction for this muscle",
                )
            )
        problems += checks.check_baseline(label, None, float(hum[c]), spec.mains)
        results.append(MuscleResult(name, c, label, float(noise[c]), float(mvc[c]), (float(mvc[c]),), 0.0, tuple(problems)))
    return CalibrationResult(tuple(results), fs, int(x.shape[0]))
