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


# the states as plain ints: a State member looked up on the class costs an enum __getattr__ call in Python 3.11
_UNKNOWN, _BELOW, _IN, _OVER = (int(s) for s in State)
#: By a definite state (0-3): whether an ambiguous zone next to the lower / upper edge does not keep it (-> in band).
_LEAVES_LOW = np.array([True, False, False, True])
_LEAVES_HIGH = np.array([True, True, False, False])


def _ffill(values: np.ndarray, valid: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """Forward-fill ``values`` (n, ch) from rows where ``valid``; before the first, ``initial``."""
    n, ch = values.shape
    idx = np.where(valid, np.arange(n)[:, None], -1)
    np.maximum.accumulate(idx, axis=0, out=idx)
    out = values[np.maximum(idx, 0), np.arange(ch)]
    return np.where(idx >= 0, out, initial[None, :])


def _zones(p: np.ndarray, low: np.ndarray, high: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Per sample: BELOW, IN or OVER when beyond the edges +- ``h``, else ambiguous at the lower or upper edge;
    UNKNOWN where the %MVC is not finite. Each later rule overrides the earlier ones (``h`` >= 0)."""
    zone = np.full(p.shape, _AMBIG_LOW, dtype=np.int64)
    zone[p < low - h] = _BELOW
    zone[p > low + h] = _IN
    zone[p >= high - h] = _AMBIG_HIGH
    zone[p > high + h] = _OVER
    zone[~np.isfinite(p)] = _UNKNOWN
    return zone


def _settle(zone: np.ndarray, carried: np.ndarray) -> np.ndarray:
    """The hysteresis state per sample: the last definite zone (from ``carried`` before the first); in an ambiguous
    zone it is kept only if it borders that zone, else it is "in band"."""
    raw = _ffill(zone, zone >= 0, carried)
    fix = ((zone == _AMBIG_LOW) & _LEAVES_LOW[raw]) | ((zone == _AMBIG_HIGH) & _LEAVES_HIGH[raw])
    return np.where(fix, _IN, raw)


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
        self.raw_state = np.full(ch, _UNKNOWN)  # hysteresis state of the last sample
        self.run_length = np.zeros(ch, dtype=np.int64)  # how long raw_state has lasted
        self.reported = np.full(ch, _UNKNOWN)  # last reported (dwelled) state

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
        raw = _settle(_zones(p, self.low, self.high, self.hyst), self.raw_state)
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
        self.state = np.full(len(self.bands), _UNKNOWN)

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
        raw = _settle(_zones(p, self.low, self.high, self.margins(p, spread)), self.state)
        self.state = raw[-1].copy()
        return raw.astype(np.int8)


Classifier = BandClassifier | SequentialClassifier


def make_classifier(bands: Sequence[Band], fs: float, envelope: Envelope) -> Classifier:
    """The band decision for an estimator: fixed hysteresis + dwell for the moving RMS (what every
    profile made before estimators were selectable uses), the error-driven one for the adaptive estimator."""
    if envelope is Envelope.ADAPTIVE:
        return SequentialClassifier(bands, fs)
    return BandClassifier(bands, fs)
