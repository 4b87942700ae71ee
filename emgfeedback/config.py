"""Frozen, validated settings: stream description, filter chain, target band.

Every setting is checked on construction and a bad one raises :class:`SettingsError`
with a one-line message that names the problem and the fix, so the CLI can print
it as is.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace
from typing import Any

from emgfeedback.errors import SettingsError

DEFAULT_FS = 1000.0
#: Highest sample rate accepted: far above any sEMG front end (a typo like 1e6 would exhaust memory).
MAX_FS = 100_000.0
#: Longest RMS window: far above any envelope used for feedback (sEMG windows are 50-500 ms).
MAX_WINDOW_MS = 10_000.0
#: The band-pass upper edge stays below this fraction of the sample rate.
MAX_EDGE_FRACTION = 0.45


class InputMode(enum.StrEnum):
    """How the input relates to the muscle signal."""

    RAW = "raw"  # raw sEMG: DC removal, band-pass, notch, moving RMS
    PRE_RECTIFIED = "pre-rectified"  # the front end already outputs an envelope: low-pass only


class Envelope(enum.StrEnum):
    """The amplitude estimator of raw sEMG (a pre-rectified input is always smoothed by a moving mean)."""

    RMS = "rms"  # moving RMS over window_ms: what every profile made before this setting existed uses
    ADAPTIVE = "adaptive"  # adaptive-window RMS with a change-point test (dsp/adaptive_envelope.py)


#: The estimator of new profiles and of runs without a profile; a stored spec without the key is RMS.
#: The adaptive estimator becomes the default once it meets every cue goal of ``benchmarks cues``
#: (p95 <= 150 ms on every crossing): it misses that for 15-point steps at the upper edge (docs/estimators.md).
DEFAULT_ENVELOPE = Envelope.RMS


class Mains(enum.StrEnum):
    """Mains notch choice."""

    OFF = "off"
    HZ50 = "50"
    HZ60 = "60"

    @property
    def hz(self) -> float | None:
        return None if self is Mains.OFF else float(self.value)


def check_fs(fs: float) -> None:
    """Refuse a sample rate that is not finite, not positive or beyond any sEMG front end."""
    if not math.isfinite(fs):
        raise SettingsError(f"sample rate {fs:g} Hz is not a finite number: give the rate with --fs, e.g. --fs 1000")
    if not fs > 0:
        raise SettingsError(f"sample rate {fs:g} Hz is not positive: give the rate with --fs")
    if fs > MAX_FS:
        raise SettingsError(
            f"sample rate {fs:g} Hz is above {MAX_FS:g} Hz, far beyond any sEMG front end: give the board's real rate with --fs"
        )


def _check_finite(value: float, what: str, fix: str) -> None:
    """Refuse NaN and infinity in a setting; ``what`` names it with its unit, e.g. "RMS window (ms)"."""
    if not math.isfinite(value):
        raise SettingsError(f"{what} is {value:g}, not a finite number: {fix}")


def parse_envelope(text: str | Envelope) -> Envelope:
    """Parse an estimator name (``rms`` or ``adaptive``), as typed on a command line or stored in a profile."""
    try:
        return Envelope(str(text).strip().lower())
    except ValueError:
        raise SettingsError(
            f"envelope {text!r} is not known: use {' or '.join(e.value for e in Envelope)}, e.g. --envelope adaptive"
        ) from None


def parse_mains(text: str | int | float | None) -> Mains:
    """Parse ``50``, ``60`` or ``off`` (as typed on a command line)."""
    value = "off" if text is None else str(text).strip().lower().removesuffix("hz")
    if value in ("50", "50.0"):
        return Mains.HZ50
    if value in ("60", "60.0"):
        return Mains.HZ60
    if value in ("off", "none", "0", "no"):
        return Mains.OFF
    raise SettingsError(f"mains {text!r} is not understood: use 50, 60 or off")


@dataclass(frozen=True)
class StreamInfo:
    """What a source delivers: rate, channel count and units of its samples."""

    fs: float
    channels: int
    units: str = "counts"
    channel_names: tuple[str, ...] = ()
    adc_bits: int | None = None
    vref_mv: float | None = None
    description: str = ""
    firmware: str | None = None

    def __post_init__(self) -> None:
        check_fs(self.fs)
        if not 1 <= self.channels <= 16:
            raise SettingsError(f"{self.channels} channels is out of range: use 1 to 16")
        if self.channel_names and len(self.channel_names) != self.channels:
            raise SettingsError(
                f"{len(self.channel_names)} channel names for {self.channels} channels: give one name per channel"
            )

    @property
    def names(self) -> tuple[str, ...]:
        """Channel names, defaulting to ch0, ch1, ..."""
        return self.channel_names or tuple(f"ch{i}" for i in range(self.channels))

    @property
    def adc_max(self) -> int | None:
        """Largest ADC count, when the source is an ADC."""
        return None if self.adc_bits is None else (1 << self.adc_bits) - 1


@dataclass(frozen=True)
class FilterSpec:
    """The streaming chain's parameters; a profile records these so live and calibration agree."""

    fs: float = DEFAULT_FS
    band_low_hz: float = 20.0
    band_high_hz: float | None = None  # None: min(450, 0.45 fs)
    order: int = 4
    mains: Mains = Mains.HZ50
    notch_harmonics: bool = False
    notch_q: float = 30.0
    window_ms: float = 150.0
    input_mode: InputMode = InputMode.RAW
    envelope: Envelope = DEFAULT_ENVELOPE

    def __post_init__(self) -> None:
        object.__setattr__(self, "mains", parse_mains(self.mains) if not isinstance(self.mains, Mains) else self.mains)
        object.__setattr__(self, "input_mode", InputMode(self.input_mode))
        object.__setattr__(self, "envelope", parse_envelope(self.envelope))
        fs = self.fs
        check_fs(fs)
        nyquist = fs / 2
        _check_finite(self.window_ms, "RMS window (ms)", "use e.g. --window-ms 150")
        if self.window_ms > MAX_WINDOW_MS:
            raise SettingsError(f"RMS window {self.window_ms:g} ms is too long: use at most {MAX_WINDOW_MS:g} ms, e.g. 150")
        _check_finite(self.band_low_hz, "band lower edge (Hz)", "use e.g. --band-low 20")
        if self.band_high_hz is not None:
            _check_finite(self.band_high_hz, "band upper edge (Hz)", "use e.g. --band-high 450")
        _check_finite(self.notch_q, "notch Q", "use a Q such as 30")
        if self.window_samples < 2:
            raise SettingsError(
                f"RMS window {self.window_ms} ms is under 2 samples at {fs:g} Hz: use a window of at least {2000 / fs:g} ms"
            )
        if not 1 <= self.order <= 8:
            raise SettingsError(f"filter order {self.order} is out of range: use 1 to 8")
        if not self.notch_q > 0:
            raise SettingsError(f"notch Q {self.notch_q} is not positive: use a Q such as 30")
        if self.input_mode is InputMode.RAW:
            low, high = self.band_low_hz, self.band_high
            if not low > 0:
                raise SettingsError(f"band lower edge {low} Hz is not positive: use e.g. 20 Hz")
            if high > MAX_EDGE_FRACTION * fs:
                raise SettingsError(
                    f"sample rate {fs:g} Hz is too low for the band's upper edge {high:g} Hz: "
                    f"keep the edge below {MAX_EDGE_FRACTION * fs:g} Hz or sample at least {high / MAX_EDGE_FRACTION:g} Hz"
                )
            if low >= high:
                raise SettingsError(f"band lower edge {low:g} Hz is not below the upper edge {high:g} Hz: swap or widen them")
        hz = self.mains.hz
        if hz is not None and hz >= nyquist:
            raise SettingsError(
                f"mains notch at {hz:g} Hz is at or above Nyquist ({nyquist:g} Hz at fs {fs:g} Hz): use --mains off"
            )

    @property
    def band_high(self) -> float:
        """The effective band-pass upper edge in Hz."""
        if self.band_high_hz is not None:
            return float(self.band_high_hz)
        return min(450.0, MAX_EDGE_FRACTION * self.fs)

    @property
    def window_samples(self) -> int:
        """The RMS window length in samples."""
        return round(self.window_ms * self.fs / 1000.0)

    @property
    def estimator(self) -> Envelope:
        """The estimator really used: pre-rectified input is smoothed by a moving mean whatever the setting."""
        return self.envelope if self.input_mode is InputMode.RAW else Envelope.RMS

    @property
    def envelope_delay_ms(self) -> float:
        """Group delay of the moving-window envelope: half the window (see cue_latency_ms for what a user waits)."""
        return 1000.0 * (self.window_samples - 1) / 2.0 / self.fs

    @property
    def notch_frequencies(self) -> tuple[float, ...]:
        """Notch centres: the mains frequency and, if asked, its harmonics under the band edge."""
        hz = self.mains.hz
        if hz is None:
            return ()
        if not self.notch_harmonics:
            return (hz,)
        limit = min(self.band_high if self.input_mode is InputMode.RAW else self.fs / 2, MAX_EDGE_FRACTION * self.fs)
        return tuple(hz * k for k in range(1, int(limit // hz) + 1))

    def with_(self, **changes: Any) -> FilterSpec:
        """A validated copy with some fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored in profiles and sessions."""
        return {
            "fs": self.fs,
            "band_low_hz": self.band_low_hz,
            "band_high_hz": self.band_high,
            "order": self.order,
            "mains": self.mains.value,
            "notch_harmonics": self.notch_harmonics,
            "notch_q": self.notch_q,
            "window_ms": self.window_ms,
            "input_mode": self.input_mode.value,
            "envelope": self.envelope.value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FilterSpec:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise SettingsError(f"unknown filter settings {sorted(unknown)}: remove them")
        return cls(**{"envelope": Envelope.RMS, **data})  # stored before estimators were selectable: RMS

    def differences(self, other: FilterSpec) -> list[str]:
        """Human-readable list of the settings that differ (used to refuse a mismatched profile)."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [f"{k} {theirs[k]} != {mine[k]}" for k in mine if mine[k] != theirs[k]]


@dataclass(frozen=True)
class Band:
    """A target activation band in %MVC, with hysteresis so a state does not flicker."""

    low: float = 30.0
    high: float = 50.0
    hysteresis: float = 2.0
    dwell_ms: float = 150.0

    def __post_init__(self) -> None:
        if not 0 <= self.low < self.high <= 200:
            raise SettingsError(f"band {self.low:g}-{self.high:g} %MVC is invalid: use 0 <= low < high <= 200, e.g. 30-50")
        if not 0 <= self.hysteresis < (self.high - self.low) / 2:
            raise SettingsError(
                f"hysteresis {self.hysteresis:g} %MVC is too wide for the band {self.low:g}-{self.high:g}: "
                "use less than half its width"
            )
        if not math.isfinite(self.dwell_ms) or self.dwell_ms < 0:
            raise SettingsError(f"dwell {self.dwell_ms:g} ms is negative or not finite: use 0 or more")


def parse_band(text: str) -> Band:
    """Parse ``30-50`` (as typed on a command line) into a :class:`Band`."""
    try:
        low, high = (float(p) for p in text.replace(",", "-").split("-"))
    except ValueError:
        raise SettingsError(f"band {text!r} is not understood: write it as LOW-HIGH, e.g. 30-50") from None
    return Band(low, high)


@dataclass(frozen=True)
class Settings:
    """Everything a live session needs besides the source and the profile."""

    filters: FilterSpec = field(default_factory=FilterSpec)
    band: Band = field(default_factory=Band)
    muscle_bands: tuple[tuple[str, Band], ...] = ()

    def band_for(self, muscle: str) -> Band:
        """The band of one muscle: its own if configured, else the default."""
        return dict(self.muscle_bands).get(muscle, self.band)
