"""Fatigue within a hold: median and mean frequency (MDF, MNF) over causal sliding windows.

The input is the band-passed, mains-notched signal the live chain already computes. Windows
(1 s every 250 ms by default) are aligned to the hold's first sample, so the live reader and
``emgfeedback analyze`` give the same windows for the same samples. Each window's spectrum is
a Welch estimate (scipy.signal.welch), vectorized across channels; a hold's fatigue index is
the least-squares slope of MDF over the window times (Hz/s), the field's standard; the RMS change
is from a least-squares fit of log RMS (a growth factor, so it never reads below -100 %).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import signal

WINDOW_S = 1.0
HOP_S = 0.25
#: The frequencies MDF/MNF are computed over (clipped to 0.45 fs).
BAND_HZ = (20.0, 450.0)


def window_spectra(x: np.ndarray, fs: float, band: tuple[float, float] = BAND_HZ) -> tuple[np.ndarray, np.ndarray]:
    """MDF and MNF (Hz) of one window per channel; ``x`` is (samples, channels)."""
    nperseg = min(256, x.shape[0])
    freqs, pxx = signal.welch(x, fs=fs, nperseg=nperseg, axis=0, detrend="constant")
    lo, hi = band[0], min(band[1], 0.45 * fs)
    keep = (freqs >= lo) & (freqs <= hi)
    f, p = freqs[keep], pxx[keep]
    total = p.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mnf = (f[:, None] * p).sum(axis=0) / total
        cum = np.cumsum(p, axis=0) / total
    # MDF: where the cumulative power crosses one half, interpolated between bins
    k = np.argmax(cum >= 0.5, axis=0)
    k0 = np.maximum(k - 1, 0)
    cols = np.arange(p.shape[1])
    c0, c1 = cum[k0, cols], cum[k, cols]
    frac = np.where(c1 > c0, (0.5 - c0) / np.where(c1 > c0, c1 - c0, 1.0), 0.0)
    mdf = np.where(k > 0, f[k0] + frac * (f[k] - f[k0]), f[k])
    bad = ~(total > 0)
    mdf = np.where(bad, np.nan, mdf)
    mnf = np.where(bad, np.nan, mnf)
    return mdf, mnf


@dataclass
class HoldSpectra:
    """Causal sliding-window MDF/MNF/RMS from a hold's first sample; feed blocks with :meth:`update`.

    Keeps only the samples of the window in progress (at most one window), so a long hold costs
    no memory beyond its list of window results.
    """

    channels: int
    fs: float
    window_s: float = WINDOW_S
    hop_s: float = HOP_S
    times: list[float] = field(default_factory=list)  # window end, seconds from the hold start
    mdf: list[np.ndarray] = field(default_factory=list)
    mnf: list[np.ndarray] = field(default_factory=list)
    rms: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.win = max(round(self.window_s * self.fs), 8)
        self.hop = max(round(self.hop_s * self.fs), 1)
        self._buf = np.empty((0, self.channels))
        self._seen = 0  # samples fed so far
        self._next_end = self.win  # sample count at which the next window is complete

    def update(self, block: np.ndarray) -> int:
        """Add filtered samples (n, channels); returns how many windows completed."""
        x = np.asarray(block, dtype=np.float64).reshape(-1, self.channels)
        if x.shape[0] == 0:
            return 0
        buf = np.concatenate([self._buf, x]) if self._buf.size else x
        first = self._seen - self._buf.shape[0]  # hold sample of buf[0]
        self._seen += x.shape[0]
        done = 0
        while self._next_end <= self._seen:
            a = self._next_end - self.win - first
            seg = buf[a : a + self.win]
            mdf, mnf = window_spectra(seg, self.fs)
            self.times.append(self._next_end / self.fs)
            self.mdf.append(mdf)
            self.mnf.append(mnf)
            self.rms.append(np.sqrt(np.mean(seg * seg, axis=0)))
            self._next_end += self.hop
            done += 1
        cut = max(self._next_end - self.win - first, 0)  # keep from the next window's first sample on
        self._buf = buf[cut:].copy() if cut < buf.shape[0] else np.empty((0, self.channels))
        return done

    @property
    def latest_mdf(self) -> np.ndarray | None:
        return self.mdf[-1] if self.mdf else None

    def mdf_change_pct(self, windows: int = 4) -> np.ndarray | None:
        """Change of MDF, %, from the first ``windows`` windows to the latest ones (a smoothed live trend)."""
        if len(self.mdf) < 2 * windows:
            return None
        first = np.nanmean(np.vstack(self.mdf[:windows]), axis=0)
        last = np.nanmean(np.vstack(self.mdf[-windows:]), axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return 100.0 * (last - first) / first

    def summary(self, names: Sequence[str]) -> list[dict[str, object]]:
        """Per channel: MDF at the start and end (the fitted line's), slopes (Hz/s) and RMS change (%)."""
        return fatigue_summary(
            np.asarray(self.times), _stack(self.mdf, self.channels), _stack(self.mnf, self.channels),
            _stack(self.rms, self.channels), names, overlap=max(self.win / self.hop, 1.0),
        )  # fmt: skip


def _stack(rows: list[np.ndarray], channels: int) -> np.ndarray:
    return np.vstack(rows) if rows else np.empty((0, channels))


def _line(t: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """Least-squares (slope, intercept) over the finite points; None with fewer than two."""
    ok = np.isfinite(y)
    if np.count_nonzero(ok) < 2:
        return None
    slope, intercept = np.polyfit(t[ok], y[ok], 1)
    return float(slope), float(intercept)


def _slope_se(t: np.ndarray, y: np.ndarray, fit: tuple[float, float], overlap: float) -> float | None:
    """Standard error of a slope, widened by sqrt(window / hop) because overlapping windows are not independent."""
    ok = np.isfinite(y)
    n = int(np.count_nonzero(ok))
    if n < 3:
        return None
    res = y[ok] - (fit[0] * t[ok] + fit[1])
    sxx = float(np.sum((t[ok] - t[ok].mean()) ** 2))
    return float(np.sqrt(np.sum(res * res) / (n - 2) / sxx) * np.sqrt(overlap)) if sxx > 0 else None


def _num(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def fatigue_summary(
    times: np.ndarray,
    mdf: np.ndarray,
    mnf: np.ndarray,
    rms: np.ndarray,
    names: Sequence[str],
    *,
    overlap: float = WINDOW_S / HOP_S,
) -> list[dict[str, object]]:
    """The fatigue keys of one hold per channel (None where the hold was shorter than two windows)."""
    out: list[dict[str, object]] = []
    for c, name in enumerate(names):
        entry: dict[str, object] = {
            "name": name,
            "mdf_start_hz": None,
            "mdf_end_hz": None,
            "mdf_slope_hz_per_s": None,
            "mdf_slope_se_hz_per_s": None,
            "mdf_change_pct": None,
            "mnf_slope_hz_per_s": None,
            "rms_change_pct": None,
            "windows": int(times.shape[0]),
        }
        fit = _line(times, mdf[:, c]) if times.size else None
        if fit is not None:
            slope, b = fit
            entry["mdf_start_hz"] = _num(b + slope * times[0])
            entry["mdf_end_hz"] = _num(b + slope * times[-1])
            entry["mdf_slope_hz_per_s"] = _num(slope)
            entry["mdf_slope_se_hz_per_s"] = _num(_slope_se(times, mdf[:, c], fit, overlap))
            start = entry["mdf_start_hz"]
            entry["mdf_change_pct"] = _num(100.0 * slope * (times[-1] - times[0]) / start) if start else None
        fit = _line(times, mnf[:, c]) if times.size else None
        if fit is not None:
            entry["mnf_slope_hz_per_s"] = _num(fit[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            log_rms = np.log(rms[:, c]) if times.size else rms[:, c]
        fit = _line(times, np.where(np.isfinite(log_rms), log_rms, np.nan)) if times.size else None
        if fit is not None:  # RMS grows or shrinks by a factor: fit its log, so a change is never below -100 %
            entry["rms_change_pct"] = _num(100.0 * (np.exp(fit[0] * (times[-1] - times[0])) - 1.0))
        out.append(entry)
    return out


def analyze_span(filtered: np.ndarray, fs: float, names: Sequence[str]) -> list[dict[str, object]]:
    """Fatigue figures of one hold from its filtered samples at once (what ``analyze`` uses)."""
    spectra = HoldSpectra(filtered.shape[1], fs)
    spectra.update(filtered)
    return spectra.summary(names)
