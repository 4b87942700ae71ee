"""Per-channel signal quality over a sliding window: clipping, electrode off, mains hum."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emgfeedback.dsp.filters import _as_2d


@dataclass(frozen=True)
class ChannelQuality:
    """Quality of one channel over the last window, with a plain hint when something is wrong."""

    clip_fraction: float
    flat: bool
    rail: bool
    hum_ratio: float
    rms: float

    @property
    def electrode_off(self) -> bool:
        return self.flat or self.rail

    @property
    def problems(self) -> list[str]:
        """Short plain-language problems, most serious first."""
        out = []
        if self.electrode_off:
            out.append("electrode off? (signal flat or at a rail): press the electrodes on, check the cable")
        if self.clip_fraction > QualityMonitor.CLIP_LIMIT:
            out.append(f"clipping {100 * self.clip_fraction:.1f}%: lower the sensor gain")
        if self.hum_ratio > QualityMonitor.HUM_LIMIT:
            out.append("mains hum: turn the notch on, keep cables short, run the laptop on battery")
        return out

    @property
    def label(self) -> str:
        """One word for a status bar."""
        if self.electrode_off:
            return "OFF"
        if self.clip_fraction > QualityMonitor.CLIP_LIMIT:
            return "CLIP"
        if self.hum_ratio > QualityMonitor.HUM_LIMIT:
            return "HUM"
        return "OK"


@dataclass(frozen=True)
class QualityReport:
    """Quality of every channel."""

    channels: tuple[ChannelQuality, ...]

    @property
    def ok(self) -> bool:
        return all(c.label == "OK" for c in self.channels)


class QualityMonitor:
    """Keeps the last ``window_s`` of raw samples and measures quality on demand.

    ``adc_max`` enables the clipping and rail checks (samples at 0 or ``adc_max``);
    without it only flatness and hum are judged.
    """

    CLIP_LIMIT = 0.001
    HUM_LIMIT = 8.0
    #: A channel whose peak-to-peak stays under this many LSB (or exactly 0 for non-ADC units) is flat.
    FLAT_LSB = 3.0

    def __init__(
        self, fs: float, channels: int, *, adc_max: int | None = None, mains_hz: float | None = 50.0, window_s: float = 1.0
    ) -> None:
        self.fs = fs
        self.adc_max = adc_max
        self.mains_hz = mains_hz
        self.size = max(round(window_s * fs), 16)
        self.buf = np.zeros((self.size, channels))
        self.count = 0

    def update(self, chunk: np.ndarray) -> None:
        """Append raw samples (in source units) to the window."""
        x = _as_2d(chunk)
        n = x.shape[0]
        if n >= self.size:
            self.buf[:] = x[-self.size :]
        elif n:
            self.buf[:-n] = self.buf[n:]  # shifted in place (numpy copies overlapping slices correctly)
            self.buf[-n:] = x
        self.count += n

    def report(self) -> QualityReport | None:
        """The quality of each channel, or None until the window has filled once."""
        if self.count < self.size:
            return None
        x = self.buf
        if self.adc_max is not None:
            at_rail = (x <= 0) | (x >= self.adc_max)
            clip = at_rail.mean(axis=0)
            ptp = np.ptp(x, axis=0)
            flat = ptp < self.FLAT_LSB
            rail = at_rail.mean(axis=0) > 0.5
        else:
            clip = np.zeros(x.shape[1])
            flat = np.ptp(x, axis=0) == 0
            rail = np.zeros(x.shape[1], dtype=bool)
        hum = self._hum_ratio(x)
        rms = x.std(axis=0)
        return QualityReport(
            tuple(
                ChannelQuality(float(clip[c]), bool(flat[c]), bool(rail[c]), float(hum[c]), float(rms[c]))
                for c in range(x.shape[1])
            )
        )

    def _hum_ratio(self, x: np.ndarray) -> np.ndarray:
        """Power within +-1 Hz of mains over the mean power 3-10 Hz either side of it."""
        if self.mains_hz is None or self.mains_hz + 10 >= self.fs / 2:
            return np.zeros(x.shape[1])
        spec = np.abs(np.fft.rfft((x - x.mean(axis=0)) * np.hanning(x.shape[0])[:, None], axis=0)) ** 2
        freqs = np.fft.rfftfreq(x.shape[0], 1.0 / self.fs)
        d = np.abs(freqs - self.mains_hz)
        line = spec[d <= 1.0].mean(axis=0)
        neighbours = spec[(d >= 3.0) & (d <= 10.0)].mean(axis=0)
        return line / np.maximum(neighbours, 1e-30)
