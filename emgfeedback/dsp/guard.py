"""The chain's first stage: no non-finite or absurd value ever reaches a filter state.

One NaN or 1e308 in a recursive filter poisons it for the rest of the session. Every
source passes through :class:`Pipeline`, whose first step is this guard: a bad value is
replaced by the same channel's last plausible value (a *held sample*), so indices,
timing and the other channels stay as they were, and the envelope is finite again as
soon as the held value leaves the window. Held samples are counted.
"""

from __future__ import annotations

import numpy as np

#: Largest magnitude a sample may have when the source declares no ADC range (any unit EMG comes in).
MAX_ABS = 1e6


def plausible_limit(adc_max: int | None) -> tuple[float, float]:
    """The (lowest, highest) plausible sample: the ADC's range with one full range of margin each side, else +-MAX_ABS."""
    if adc_max is None:
        return -MAX_ABS, MAX_ABS
    span = float(adc_max + 1)
    return -span, 2.0 * span


class SampleGuard:
    """Holds each channel's last plausible value in place of a non-finite or out-of-range one."""

    def __init__(self, limits: tuple[float, float] = (-MAX_ABS, MAX_ABS)) -> None:
        self.low, self.high = limits
        self.last: np.ndarray | None = None  # per channel: the last plausible value (0 before the first)
        self.held = 0  # values replaced so far

    def process(self, x: np.ndarray) -> np.ndarray:
        """``x`` (n, channels) with every implausible value replaced; ``x`` itself when all are fine."""
        if x.shape[0] == 0:
            return x
        if self.last is None or self.last.shape[0] != x.shape[1]:
            self.last = np.zeros(x.shape[1])
        with np.errstate(invalid="ignore"):
            good = (x >= self.low) & (x <= self.high)  # NaN fails both
        if good.all():
            self.last = x[-1].astype(np.float64)
            return x
        self.held += int(good.size - np.count_nonzero(good))
        rows = np.arange(x.shape[0])[:, None]
        source = np.maximum.accumulate(np.where(good, rows, -1), axis=0)  # row of the last good value, -1: none yet
        out = np.where(source >= 0, x[np.maximum(source, 0), np.arange(x.shape[1])], self.last)
        self.last = out[-1].astype(np.float64)
        return out

    def reset(self) -> None:
        self.last = None
