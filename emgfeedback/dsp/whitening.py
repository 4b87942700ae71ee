"""Adaptive whitening before the mean square (Clancy & Farry 2000): more degrees of freedom per second.

Band-passed sEMG is coloured noise: neighbouring samples are correlated, so a second of it holds
fewer independent squares than samples (about 530 effective chi-square degrees of freedom per
second on the simulator's signal through the 20-450 Hz chain, where 1000 samples would give
1000). A prediction-error filter fitted to the signal's own autocorrelation (an autoregressive
model, Levinson-Durbin) flattens the spectrum, and the mean square of its output has about 800:
the same level is known with ~1.5x less signal, which is what a change-point test is limited by.

The filter is fitted per channel from the signal itself: every ``refresh_s`` the autocorrelation
of the last period (normalized by its power, so a loud contraction does not outweigh a second of
rest) is blended into a running average (``forget`` per period), and new coefficients are solved
from it. They are scaled to unit power gain on that average, so the output has the input's mean
square on a steady signal and a change of filter is not seen as a change of level. Until the
first refresh the filter is the identity. Causal, vectorized across channels, and chunked equals
one-shot exactly: coefficients change only at multiples of the refresh period, and each refresh
sums the same stored samples whatever the chunks were.
"""

from __future__ import annotations

import numpy as np

#: Autoregressive order of the whitening filter: 6-12 flatten the simulator's and typical sEMG spectra;
#: much higher orders start to fit the chain's band edges and lose degrees of freedom again.
ORDER = 8
#: Seconds between refits.
REFRESH_S = 1.0
#: Weight kept by the running autocorrelation at each refit (a time constant of about 5 refits).
FORGET = 0.8
#: White floor added to the autocorrelation (fraction of its power): keeps the filter from boosting
#: frequencies where the chain leaves almost nothing.
LOADING = 1e-3


def levinson(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prediction-error filters ``a`` (order + 1, channels; ``a[0] == 1``) and their error powers from
    autocorrelations ``r`` (order + 1, channels), every channel at once (Levinson-Durbin recursion)."""
    order = r.shape[0] - 1
    a = np.zeros_like(r)
    a[0] = 1.0
    err = r[0].copy()
    for m in range(1, order + 1):
        acc = r[m].copy()
        for j in range(1, m):
            acc += a[j] * r[m - j]
        k = -acc / np.maximum(err, 1e-300)
        prev = a[1:m].copy()
        a[1:m] = prev + k * prev[::-1]
        a[m] = k
        err = err * (1.0 - k * k)
    return a, err


class Whitener:
    """Per-channel adaptive prediction-error filter; see the module doc."""

    def __init__(
        self, fs: float, *, order: int = ORDER, refresh_s: float = REFRESH_S, forget: float = FORGET, loading: float = LOADING
    ) -> None:
        self.order = order
        self.period = max(round(refresh_s * fs), 4 * order)
        self.forget = forget
        self.loading = loading
        self.reset()

    def reset(self) -> None:
        """Forget the fitted filter: back to the identity until the next refresh."""
        self.coef: np.ndarray | None = None  # (order + 1, channels)
        self.hist: np.ndarray | None = None  # last ``order`` input samples
        self.pending: list[np.ndarray] = []  # input samples of the current period, after the last ``order`` of the one before
        self.filled = 0  # samples in ``pending``
        self.corr: np.ndarray | None = None  # running normalized autocorrelation

    def _start(self, channels: int) -> None:
        self.coef = np.zeros((self.order + 1, channels))
        self.coef[0] = 1.0
        self.hist = np.zeros((self.order, channels))
        self.pending = [self.hist.copy()]
        self.corr = np.zeros((self.order + 1, channels))

    def _filter(self, x: np.ndarray) -> np.ndarray:
        """The current filter over ``x``, continuing from the carried history."""
        assert self.coef is not None and self.hist is not None
        p, n = self.order, x.shape[0]
        buf = np.concatenate([self.hist, x])
        y = self.coef[0] * x
        for j in range(1, p + 1):
            y += self.coef[j] * buf[p - j : p - j + n]
        self.hist = buf[n:]
        return y

    def _refit(self) -> None:
        """Blend the finished period's autocorrelation into the running one and solve new coefficients."""
        assert self.corr is not None and self.coef is not None
        x = np.concatenate(self.pending)
        p = self.order
        self.pending, self.filled = [x[-p:]], 0
        n = x.shape[0]
        # every lag summed over the same ``period`` products (a lag sum cut at the period's start would
        # fill the spectrum's valleys, and a filter fitted to that boosts them too little)
        r = np.stack([np.sum(x[p:] * x[p - j : n - j], axis=0) for j in range(p + 1)])
        live = r[0] > 0
        r = np.where(live, r / np.where(live, r[0], 1.0), 0.0)
        seen = self.corr[0] > 0
        self.corr = np.where(seen, self.forget * self.corr + (1.0 - self.forget) * r, r)
        fit = self.corr[0] > 0
        if not fit.any():
            return
        c = self.corr.copy()
        c[0] *= 1.0 + self.loading
        a, _ = levinson(np.where(fit, c, np.eye(p + 1)[:, :1]))
        # output power of the filter on the (unloaded) average spectrum: sum_ij a_i a_j corr_|i-j|
        power = self.corr[0] * np.sum(a * a, axis=0)
        for lag in range(1, p + 1):
            power += 2.0 * self.corr[lag] * np.sum(a[lag:] * a[:-lag], axis=0)
        gain = np.sqrt(np.where(fit, self.corr[0], 1.0) / np.maximum(power, 1e-300))  # unit power gain
        self.coef = np.where(fit, a * gain, self.coef)

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Whitened samples (samples, channels) of a (samples, channels) chunk."""
        if self.coef is None:
            self._start(chunk.shape[1])
        out, pos, total = [], 0, chunk.shape[0]
        if total == 0:
            return chunk.copy()
        while pos < total:
            take = min(self.period - self.filled, total - pos)
            part = chunk[pos : pos + take]
            out.append(self._filter(part))
            self.pending.append(part)
            self.filled += take
            pos += take
            if self.filled == self.period:
                self._refit()
        return np.concatenate(out) if len(out) != 1 else out[0]
