"""%MVC with noise-floor power subtraction (DESIGN section 4)."""

from __future__ import annotations

import numpy as np

from emgfeedback.errors import SettingsError


class MvcNormalizer:
    """%MVC = 100 * sqrt(max(rms^2 - noise^2, 0)) / sqrt(mvc^2 - noise^2), per channel.

    ``noise`` is the resting RMS and ``mvc`` the reference RMS, both measured with the
    same chain as live so the live number and the calibration agree. A channel whose
    reference is NaN (not calibrated) yields NaN.
    """

    def __init__(self, mvc: np.ndarray | list[float], noise: np.ndarray | list[float]) -> None:
        self.mvc = np.asarray(mvc, dtype=np.float64).ravel()
        self.noise = np.asarray(noise, dtype=np.float64).ravel()
        if self.mvc.shape != self.noise.shape:
            raise SettingsError(f"{self.mvc.size} MVC values for {self.noise.size} noise values: give one of each per channel")
        ok = np.isfinite(self.mvc)
        if np.any(self.noise[ok] < 0) or np.any(self.mvc[ok] <= self.noise[ok]):
            raise SettingsError("an MVC reference is not above its noise floor: repeat the calibration")
        self._noise_sq = self.noise**2
        self._scale = 100.0 / np.sqrt(self.mvc**2 - self._noise_sq)

    @property
    def channels(self) -> int:
        return int(self.mvc.size)

    def process(self, envelope: np.ndarray) -> np.ndarray:
        """Envelope (samples, channels) in the reference's units -> %MVC."""
        power = np.asarray(envelope, dtype=np.float64) ** 2
        power -= self._noise_sq
        np.maximum(power, 0.0, out=power)
        np.sqrt(power, out=power)
        power *= self._scale
        return power

    def to_rms(self, percent: np.ndarray | float) -> np.ndarray:
        """Inverse: the envelope level that reads as ``percent`` %MVC (for drawing bands in units)."""
        p = np.asarray(percent, dtype=np.float64) / self._scale
        return np.sqrt(p**2 + self._noise_sq)
