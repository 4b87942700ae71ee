"""Calibration quality checks, each with a plain message that says what to do.

Failures (the trial should be repeated): too weak, clipping, electrode off.
Warnings (the reference is usable but suspect): trials inconsistent, mains hum high.
The raw-signal checks reuse :mod:`emgfeedback.dsp.quality`, as live does.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from emgfeedback.config import Mains
from emgfeedback.dsp.quality import ChannelQuality, QualityMonitor

#: A trial's reference must be at least this many times the resting noise.
WEAK_RATIO = 5.0
#: A weak trial accepted on purpose may stand as the reference down to this ratio (below it %MVC is mostly noise).
ACCEPT_FLOOR = 2.0


def times_rest(ratio: float) -> str:
    """A level as a multiple of the resting noise, the same everywhere: ``1.5x``, ``12x``."""
    if not np.isfinite(ratio):
        return "-"
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


#: Trials of one muscle whose (highest - lowest) / highest exceeds this get a warning.
SPREAD_LIMIT = 0.20


class Severity(enum.StrEnum):
    FAIL = "fail"  # repeat the trial (or the calibration)
    WARN = "warn"  # usable, but say so


@dataclass(frozen=True)
class Problem:
    """One finding: a stable code (weak, clipping, electrode_off, inconsistent, hum, no_trial), its severity, a message."""

    code: str
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity.value, "message": self.message}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Problem:
        return cls(str(data["code"]), Severity(data["severity"]), str(data["message"]))


def check_trial(label: str, peak: float, noise: float, quality: ChannelQuality | None) -> tuple[Problem, ...]:
    """The failures of one maximal contraction, most serious first (``label`` e.g. "Glute max, left, trial 2")."""
    out: list[Problem] = []
    if quality is not None and quality.electrode_off:
        out.append(
            Problem(
                "electrode_off",
                Severity.FAIL,
                f"{label}: electrode off? the signal is flat or pinned at a rail: press the electrodes on, "
                "check the cable, and repeat it",
            )
        )
    if quality is not None and quality.clip_fraction > QualityMonitor.CLIP_LIMIT:
        out.append(
            Problem(
                "clipping",
                Severity.FAIL,
                f"{label}: clipping, {100 * quality.clip_fraction:.1f} % of samples at the ADC limit: "
                "lower the sensor gain and repeat it",
            )
        )
    ratio = peak / noise if noise > 0 else np.inf
    if not np.isfinite(peak) or ratio < WEAK_RATIO:
        out.append(
            Problem(
                "weak",
                Severity.FAIL,
                f"{label}: too weak, {times_rest(ratio)} the resting noise (needs {WEAK_RATIO:g}x): push as hard as you can, "
                "check the electrode placement, and repeat it",
            )
        )
    return tuple(out)


def check_baseline(label: str, quality: ChannelQuality | None, hum: float, mains: Mains) -> tuple[Problem, ...]:
    """Findings from the rest baseline of one channel: electrode off (fail), mains hum (warn)."""
    out: list[Problem] = []
    if quality is not None and quality.electrode_off:
        out.append(
            Problem(
                "electrode_off",
                Severity.FAIL,
                f"{label}: electrode off at rest? the signal is flat or pinned at a rail: press the electrodes on, "
                "check the cable, and calibrate again",
            )
        )
    if hum > QualityMonitor.HUM_LIMIT:
        fix = (
            "turn the notch on (--mains 50 or 60) and check the cables"
            if mains is Mains.OFF
            else "the notch keeps it out of the envelope, but check the cables: keep them short, run the laptop on battery"
        )
        out.append(Problem("hum", Severity.WARN, f"{label}: mains hum is high ({hum:.0f}x the nearby spectrum): {fix}"))
    return tuple(out)


def check_spread(label: str, peaks: Sequence[float], spread_value: float) -> Problem | None:
    """A warning when the trials of one muscle disagree by more than :data:`SPREAD_LIMIT`."""
    if len(peaks) < 2 or spread_value <= SPREAD_LIMIT:
        return None
    return Problem(
        "inconsistent",
        Severity.WARN,
        f"{label}: trials differ by {100 * spread_value:.0f} % (over {100 * SPREAD_LIMIT:.0f} %): keep the same position "
        "and push equally hard; repeat the weakest trial if you can",
    )


def weak_reference(label: str, ratio: float, *, accepted: bool = False) -> Problem:
    """The best counted trial is close to the noise: a warning when it was accepted and clears
    :data:`ACCEPT_FLOOR`, else a failure (too close to normalize against)."""
    if accepted and ratio >= ACCEPT_FLOOR:
        return Problem(
            "weak",
            Severity.WARN,
            f"{label}: accepted with a reference only {times_rest(ratio)} the resting noise (a good one is {WEAK_RATIO:g}x): "
            "its %MVC reads high and noisy; redo this muscle alone when you can (calibrate --only MUSCLE --update PROFILE)",
        )
    return Problem(
        "weak",
        Severity.FAIL,
        f"{label}: the reference is only {times_rest(ratio)} the resting noise (needs {WEAK_RATIO:g}x): "
        "repeat its trials, pushing as hard as you can",
    )


def no_trial(label: str) -> Problem:
    """The muscle has no usable trial: no reference can be made."""
    return Problem("no_trial", Severity.FAIL, f"{label}: no usable trial: repeat its trials (or leave this muscle out)")


def hum_ratio(raw: np.ndarray, fs: float, mains: Mains) -> np.ndarray:
    """Per channel mains hum ratio of ``raw``; with the notch off both 50 and 60 Hz are tried."""
    freqs = [mains.hz] if mains.hz is not None else [50.0, 60.0]
    x = np.asarray(raw, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    best = np.zeros(x.shape[1])
    for hz in freqs:
        if hz is None or hz + 10 >= fs / 2 or x.shape[0] < 16:
            continue
        monitor = QualityMonitor(fs, x.shape[1], mains_hz=hz, window_s=x.shape[0] / fs)
        monitor.update(x)
        report = monitor.report()
        if report is not None:
            best = np.maximum(best, [c.hum_ratio for c in report.channels])
    return best
