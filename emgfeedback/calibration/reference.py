"""Reference values from envelopes: Noraxon's highest average, the quietest stretch, trial spread."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emgfeedback.dsp.envelope import window_sums

#: The MVC reference window (Noraxon's "highest average over a fixed window").
MVC_WINDOW_S = 0.5


def window_means(env: np.ndarray, width: int) -> np.ndarray:
    """Means of every run of ``width`` consecutive samples, per channel ((n - width + 1, channels))."""
    x = np.asarray(env, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    width = max(int(width), 1)
    if x.shape[0] < width:
        return np.empty((0, x.shape[1]))
    return window_sums(x, width) / width


def _extreme_mean(env: np.ndarray, width: int, reduce: str) -> np.ndarray:
    """Per channel, ``reduce`` ("max"/"min") of the ``width``-sample window means; NaN if empty."""
    x = np.asarray(env, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    if x.shape[0] == 0:
        return np.full(x.shape[1], np.nan)
    return getattr(window_means(x, min(width, x.shape[0])), reduce)(axis=0)


def highest_mean(env: np.ndarray, width: int) -> np.ndarray:
    """Per channel, the highest mean over ``width`` samples (the whole span if shorter); NaN if empty."""
    return _extreme_mean(env, width, "max")


def quietest_mean(env: np.ndarray, width: int) -> np.ndarray:
    """Per channel, the lowest mean over ``width`` samples: the resting level of a recording."""
    return _extreme_mean(env, width, "min")


def spread(peaks: Sequence[float]) -> float:
    """Trial-to-trial spread: (highest - lowest) / highest, 0 for fewer than two trials."""
    values = [p for p in peaks if np.isfinite(p)]
    if len(values) < 2 or max(values) <= 0:
        return 0.0
    return (max(values) - min(values)) / max(values)
