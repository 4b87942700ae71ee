"""Band states, no Qt: fixed hysteresis + dwell for a moving RMS, error-driven hysteresis for the adaptive estimator."""

from __future__ import annotations

import enum
from collections.abc import Sequence

import numpy as np

from emgfeedback.config import Band, Envelope


class State(enum.IntEnum):
    """Where a muscle is relative to its band; UNKNOWN when there is no valid %MVC."""

    UNKNOWN = 0
    BELOW = 1
    IN = 2
    OVER = 3

    @property
    def label(self) -> str:
        return {0: "no signal", 1: "below", 2: "in band", 3: "over-clench"}[int(self)]

    @property
    def key(self) -> str:
        """Short stable name for files: unknown, below, in, over."""
        return self.name.lower()


_AMBIG_LOW = -1  # within the hysteresis of the lower edge
_AMBIG_HIGH = -2  # within the hysteresis of the upper edge
#: Standard errors beyond an edge before :class:`SequentialClassifier` leaves a state.
SEQUENTIAL_Z = 0.5


def _ffill(values: np.ndarray, valid: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """Forward-fill ``values`` (n, ch) from rows where ``valid``; before the first, ``initial``."""
    n = values.shape[0]
    idx = np.where(valid, np.arange(n)[:, None], -1)
    np.maximum.accumulate(idx, axis=0, out=idx)
    out = np.take_along_axis(values, np.maximum(idx, 0), axis=0)
    return np.where(idx >= 0, out, initial[None, :])


def as_block(percent: np.ndarray) -> np.ndarray:
    """%MVC as a float (n, channels) block (one channel may come as a flat array)."""
    p = np.asarray(percent, dtype=np.float64)
    return p[:, None] if p.ndim == 1 else p


def band_edges(bands: Sequence[Band]) -> tuple[np.ndarray, np.ndarray]:
    """The lower and upper edges (%MVC) of each muscle's band, as arrays."""
    return np.array([b.low for b in bands]), np.array([b.high for b in bands])


class BandClassifier:
    """Per-channel state with hysteresis (a state is left only beyond the edge +- hysteresis)
    and dwell (a new state is reported once it has lasted ``dwell_ms``)."""

    def __init__(self, bands: Sequence[Band], fs: float) -> None:
        ch = len(bands)
        self.fs = fs
        self.set_bands(bands)
        self.raw_state = np.full(ch, int(State.UNKNOWN))  # hysteresis state of the last sample
        self.run_length = np.zeros(ch, dtype=np.int64)  # how long raw_state has lasted
        self.reported = np.full(ch, int(State.UNKNOWN))  # last reported (dwelled) state

    def set_bands(self, bands: Sequence[Band]) -> None:
        """Switch to new target bands (a program's next exercise); states carry on, re-judged from the next sample."""
        self.bands = list(bands)
        self.low, self.high = band_edges(self.bands)
        self.hyst = np.array([b.hysteresis for b in self.bands])
        self.dwell = np.array([max(round(b.dwell_ms * self.fs / 1000.0), 1) for b in self.bands])

    def update(self, percent: np.ndarray, spread: np.ndarray | None = None) -> np.ndarray:
        """%MVC (n, channels) -> reported states (n, channels) as int8 :class:`State` values (``spread`` unused)."""
        p = as_block(percent)
        n = p.shape[0]
        if n == 0:
            return np.empty((0, len(self.bands)), dtype=np.int8)
        zone = np.full(p.shape, _AMBIG_LOW, dtype=np.int64)
        zone[p < self.low - self.hyst] = State.BELOW
        zone[(p > self.low + self.hyst) & (p < self.high - self.hyst)] = State.IN
        zone[(p >= self.high - self.hyst) & (p <= self.high + self.hyst)] = _AMBIG_HIGH
        zone[p > self.high + self.hyst] = State.OVER
        zone[~np.isfinite(p)] = State.UNKNOWN
        definite = zone >= 0
        raw = _ffill(zone, definite, self.raw_state)
        # in an ambiguous zone keep the previous state only if it borders that zone, else "in band"
        amb_low = zone == _AMBIG_LOW
        amb_high = zone == _AMBIG_HIGH
        fix = (amb_low & (raw != State.BELOW) & (raw != State.IN)) | (amb_high & (raw != State.IN) & (raw != State.OVER))
        raw = np.where(fix, int(State.IN), raw)
        # run lengths of raw states, continuing the run carried from the last block
        change = np.empty(p.shape, dtype=bool)
        change[0] = raw[0] != self.raw_state
        change[1:] = raw[1:] != raw[:-1]
        rows = np.arange(n)[:, None]
        run_start = np.where(change, rows, -1)
        np.maximum.accumulate(run_start, axis=0, out=run_start)
        carried = run_start < 0
        length = np.where(carried, rows + 1 + self.run_length[None, :], rows - run_start + 1)
        confirmed = length >= self.dwell[None, :]
        reported = _ffill(raw, confirmed, self.reported)
        self.raw_state = raw[-1].copy()
        self.run_length = length[-1].copy()
        self.reported = reported[-1].copy()
        return reported.astype(np.int8)


class SequentialClassifier:
    """Band states whose hysteresis comes from the estimator's own error, not a fixed number.

    A state is left only once the %MVC is beyond the edge by ``z`` standard errors of the estimate
    (``spread`` per sample: the envelope's relative standard error, see dsp.adaptive_envelope), so a
    steady hold near an edge, which the estimator averages over seconds, has a narrow margin and
    a fresh level just after a jump a wide one. No dwell: the estimator already waited for evidence.
    """

    def __init__(self, bands: Sequence[Band], fs: float, *, z: float = SEQUENTIAL_Z) -> None:
        self.fs = fs
        self.z = z
        self.set_bands(bands)
        self.state = np.full(len(self.bands), int(State.UNKNOWN))

    def set_bands(self, bands: Sequence[Band]) -> None:
        """Switch to new target bands (a program's next exercise); states carry on, re-judged from the next sample."""
        self.bands = list(bands)
        self.low, self.high = band_edges(self.bands)
        self.widest = 0.45 * (self.high - self.low)  # keep an "in band" zone however uncertain the level

    def margins(self, percent: np.ndarray, spread: np.ndarray | None) -> np.ndarray:
        """Hysteresis half-width (%MVC) per sample: z standard errors of the %MVC estimate."""
        if spread is None:
            return np.zeros_like(percent)
        rel = np.asarray(spread, dtype=np.float64).reshape(percent.shape)
        margin = self.z * np.abs(np.nan_to_num(percent)) * np.nan_to_num(rel, posinf=1e6)
        return np.minimum(margin, self.widest[None, :])

    def update(self, percent: np.ndarray, spread: np.ndarray | None = None) -> np.ndarray:
        """%MVC (n, channels) and its relative error -> states (n, channels) as int8 :class:`State` values."""
        p = as_block(percent)
        n = p.shape[0]
        if n == 0:
            return np.empty((0, len(self.bands)), dtype=np.int8)
        h = self.margins(p, spread)
        zone = np.full(p.shape, _AMBIG_LOW, dtype=np.int64)
        zone[p < self.low - h] = State.BELOW
        zone[(p > self.low + h) & (p < self.high - h)] = State.IN
        zone[(p >= self.high - h) & (p <= self.high + h)] = _AMBIG_HIGH
        zone[p > self.high + h] = State.OVER
        zone[~np.isfinite(p)] = State.UNKNOWN
        raw = _ffill(zone, zone >= 0, self.state)
        fix = ((zone == _AMBIG_LOW) & (raw != State.BELOW) & (raw != State.IN)) | (
            (zone == _AMBIG_HIGH) & (raw != State.IN) & (raw != State.OVER)
        )
        raw = np.where(fix, int(State.IN), raw)
        self.state = raw[-1].copy()
        return raw.astype(np.int8)


Classifier = BandClassifier | SequentialClassifier


def make_classifier(bands: Sequence[Band], fs: float, envelope: Envelope) -> Classifier:
    """The band decision for an estimator: fixed hysteresis + dwell for the moving RMS (what every
    profile made before estimators were selectable uses), the error-driven one for the adaptive estimator."""
    if envelope is Envelope.ADAPTIVE:
        return SequentialClassifier(bands, fs)
    return BandClassifier(bands, fs)
