"""Causal moving-window envelopes: RMS for raw sEMG, mean for pre-rectified input."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from emgfeedback.dsp.filters import _as_2d

#: Window sums are computed from cumulative sums restarted every this many samples,
#: so rounding stays relative to the local signal, not to everything since the start.
_BLOCK = 4096


def window_sums(buf: np.ndarray, width: int) -> np.ndarray:
    """Sums of every run of ``width`` consecutive rows of ``buf`` (len(buf) - width + 1 rows)."""
    n_out = buf.shape[0] - width + 1
    out = np.empty((max(n_out, 0), *buf.shape[1:]))
    for start in range(0, n_out, _BLOCK):
        stop = min(start + _BLOCK, n_out)
        c = np.cumsum(buf[start : stop + width - 1], axis=0)
        seg = out[start:stop]
        seg[:] = c[width - 1 :]
        seg[1:] -= c[: stop - start - 1]
    return out


class _MovingWindow(ABC):
    """Shared machinery: a tail of the last ``width - 1`` transformed samples, zero at start."""

    def __init__(self, width: int) -> None:
        if width < 2:
            raise ValueError(f"window of {width} samples is too short: use at least 2")
        self.width = width
        self.tail: np.ndarray | None = None

    @abstractmethod
    def _transform(self, x: np.ndarray) -> np.ndarray:
        """Per-sample transform before summing (square for RMS)."""

    @abstractmethod
    def _finish(self, sums: np.ndarray) -> np.ndarray:
        """Window sums to output values (in place allowed)."""

    def process(self, chunk: np.ndarray) -> np.ndarray:
        x = _as_2d(chunk)
        if self.tail is None:
            self.tail = np.zeros((self.width - 1, x.shape[1]))
        buf = np.concatenate([self.tail, self._transform(x)])
        self.tail = buf[buf.shape[0] - (self.width - 1) :]
        return self._finish(window_sums(buf, self.width))

    def reset(self) -> None:
        self.tail = None


class MovingRMS(_MovingWindow):
    """sqrt(mean(x^2)) over the last ``width`` samples (the window fills from zeros at start)."""

    def _transform(self, x: np.ndarray) -> np.ndarray:
        return x * x

    def _finish(self, sums: np.ndarray) -> np.ndarray:
        np.maximum(sums, 0.0, out=sums)
        sums *= 1.0 / self.width
        return np.sqrt(sums, out=sums)


class MovingMean(_MovingWindow):
    """mean(x) over the last ``width`` samples: the smoother for pre-rectified input."""

    def _transform(self, x: np.ndarray) -> np.ndarray:
        return x

    def _finish(self, sums: np.ndarray) -> np.ndarray:
        sums *= 1.0 / self.width
        return sums
