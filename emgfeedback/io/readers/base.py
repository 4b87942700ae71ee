"""What every reader yields: a recording of named channels, each with its own rate and length.

A :class:`Recording` describes the file as it was written (channels, kinds, rates, lengths,
notes on what was ignored) and reads the values of some channels in bounded blocks. Choosing
channels for a command (one rate, a common span, warnings) is :mod:`.selection`'s job.
"""

from __future__ import annotations

import enum
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emgfeedback.errors import RecordingError

#: Largest magnitude any signal value may have; beyond it a value is refused (a corrupt file).
#: Squared (RMS) it stays far from float64 overflow, so it can never turn a filter state into NaN.
PLAUSIBLE = 1e9
#: Time stamps (unix microseconds are ~1.7e15) and counters get a wider bound.
PLAUSIBLE_TIME = 1e16


class Kind(enum.StrEnum):
    """What a channel holds; only ``emg`` channels are used when no channel is asked for."""

    EMG = "emg"
    COUNTER = "counter"
    DIGITAL = "digital"
    TIME = "time"
    MOTION = "motion"
    OTHER = "other"


@dataclass(frozen=True)
class Channel:
    """One channel as the file describes it; ``samples`` is how many values it really holds."""

    index: int
    name: str
    units: str
    fs: float | None
    samples: int
    kind: Kind
    notes: tuple[str, ...] = ()
    #: The EDF prefilter field (or the like) as written.
    prefilter: str = ""
    #: Already rectified or low-passed (an envelope, not raw EMG).
    envelope: bool = False

    @property
    def limit(self) -> float:
        return PLAUSIBLE_TIME if self.kind in (Kind.TIME, Kind.COUNTER) else PLAUSIBLE


@dataclass(frozen=True)
class Annotation:
    """An EDF+/XDF marker: kept as an annotation, never read as data."""

    onset_s: float
    duration_s: float
    text: str


@dataclass
class Recording(ABC):
    """A recording file opened by one reader."""

    path: Path
    format: str
    channels: tuple[Channel, ...]
    notes: list[str] = field(default_factory=list)
    annotations: tuple[Annotation, ...] = ()

    @property
    def duration_s(self) -> float | None:
        """The longest channel's duration, if any rate is known."""
        spans = [c.samples / c.fs for c in self.channels if c.fs]
        return max(spans) if spans else None

    @abstractmethod
    def blocks(self, indices: Sequence[int], samples: int, size: int) -> Iterator[np.ndarray]:
        """The first ``samples`` values of channels ``indices``, as float64 blocks of at most ``size`` rows."""

    def close(self) -> None:  # noqa: B027 - most readers hold no handle
        """Release the file (readers holding a handle override this)."""


# --- channel kinds from names and units -----------------------------------------------------------------
_TIME = re.compile(r"^(x\[s\]|t|time.*|timestamp.*|seconds|time_s|elapsed.*)$", re.I)
_COUNTER = re.compile(r"^(sample ?index|sampleindex|nseq|seq(uence)?|counter|index|sample|package.?num.*|frame)$", re.I)
_DIGITAL = re.compile(r"(digital|^d[io]\d*$|^[io]\d$|trigger|^status$|marker|event|button|^d\d+$)", re.I)
_MOTION = re.compile(r"(acc|gyro|imu|magn|^mag|quat|euler|xyz|gonio|angle|^fx$|incl|tilt|orient)", re.I)
_EMG = re.compile(r"(emg|exg)", re.I)
_OTHER_BIO = re.compile(r"(eeg|eog|ecg|ekg|resp|temp|eda|gsr|spo2|ppg|pulse|force|analog|not used|battery)", re.I)
_MOTION_UNITS = {"g", "deg", "deg/s", "°/s", "°", "rad", "rad/s", "m/s2", "m/s^2", "mg", "dps"}


def classify(name: str, units: str = "", default: Kind = Kind.EMG) -> Kind:
    """The kind a channel's name and units suggest; ``default`` when they say nothing."""
    text = name.strip()
    if _TIME.match(text):
        return Kind.TIME
    if _COUNTER.match(text):
        return Kind.COUNTER
    if _EMG.search(text):
        return Kind.EMG
    if _DIGITAL.search(text):
        return Kind.DIGITAL
    if _MOTION.search(text) or units.strip().lower() in _MOTION_UNITS:
        return Kind.MOTION
    if _OTHER_BIO.search(text):
        return Kind.OTHER
    return default


def check_block(block: np.ndarray, channels: Sequence[Channel], line_of: object, name: str) -> None:
    """Refuse a non-finite or implausible value with its line (``line_of(row)`` maps a block row to a file line)."""
    bad_inf = np.isinf(block)
    limits = np.array([c.limit for c in channels])
    with np.errstate(invalid="ignore"):
        huge = np.abs(block) > limits
    bad = bad_inf | huge
    if not bad.any():
        return
    row, col = map(int, np.argwhere(bad)[0])
    where = line_of(row) if callable(line_of) else row
    value = block[row, col]
    ch = channels[col]
    if np.isinf(value):
        raise RecordingError(f"{name}: {where}: {ch.name} is {value} (not a finite number): fix or remove that value")
    raise RecordingError(
        f"{name}: {where}: {ch.name} is {value:g}, beyond any plausible signal (|x| > {ch.limit:g}): fix or remove that value"
    )
