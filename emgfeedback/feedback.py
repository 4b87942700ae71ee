"""Feedback semantics, no Qt: band states with hysteresis and dwell, hold statistics, cue decisions.

All of it runs on blocks of %MVC samples with absolute indices, vectorized, and gives
the same answer whatever the block sizes, so the dashboard, the recorder, exports and
tests agree to the sample.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from emgfeedback.config import Band, Envelope
from emgfeedback.dsp.spectra import HoldSpectra
from emgfeedback.muscles import is_glute, is_hamstring, muscle_side


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


class BandClassifier:
    """Per-channel state with hysteresis (a state is left only beyond the edge +- hysteresis)
    and dwell (a new state is reported once it has lasted ``dwell_ms``)."""

    def __init__(self, bands: Sequence[Band], fs: float) -> None:
        self.bands = list(bands)
        ch = len(self.bands)
        self.fs = fs
        self.low = np.array([b.low for b in self.bands])
        self.high = np.array([b.high for b in self.bands])
        self.hyst = np.array([b.hysteresis for b in self.bands])
        self.dwell = np.array([max(round(b.dwell_ms * fs / 1000.0), 1) for b in self.bands])
        self.raw_state = np.full(ch, int(State.UNKNOWN))  # hysteresis state of the last sample
        self.run_length = np.zeros(ch, dtype=np.int64)  # how long raw_state has lasted
        self.reported = np.full(ch, int(State.UNKNOWN))  # last reported (dwelled) state

    def set_bands(self, bands: Sequence[Band]) -> None:
        """Switch to new target bands (a program's next exercise); states carry on, re-judged from the next sample."""
        self.bands = list(bands)
        self.low = np.array([b.low for b in self.bands])
        self.high = np.array([b.high for b in self.bands])
        self.hyst = np.array([b.hysteresis for b in self.bands])
        self.dwell = np.array([max(round(b.dwell_ms * self.fs / 1000.0), 1) for b in self.bands])

    def update(self, percent: np.ndarray, spread: np.ndarray | None = None) -> np.ndarray:
        """%MVC (n, channels) -> reported states (n, channels) as int8 :class:`State` values (``spread`` unused)."""
        p = np.asarray(percent, dtype=np.float64)
        if p.ndim == 1:
            p = p[:, None]
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
        fix = (amb_low & ~np.isin(raw, (State.BELOW, State.IN))) | (amb_high & ~np.isin(raw, (State.IN, State.OVER)))
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
        self.bands = list(bands)
        self.fs = fs
        self.z = z
        self.low = np.array([b.low for b in self.bands])
        self.high = np.array([b.high for b in self.bands])
        self.widest = 0.45 * (self.high - self.low)  # keep an "in band" zone however uncertain the level
        self.state = np.full(len(self.bands), int(State.UNKNOWN))

    def set_bands(self, bands: Sequence[Band]) -> None:
        """Switch to new target bands (a program's next exercise); states carry on, re-judged from the next sample."""
        self.bands = list(bands)
        self.low = np.array([b.low for b in self.bands])
        self.high = np.array([b.high for b in self.bands])
        self.widest = 0.45 * (self.high - self.low)

    def margins(self, percent: np.ndarray, spread: np.ndarray | None) -> np.ndarray:
        """Hysteresis half-width (%MVC) per sample: z standard errors of the %MVC estimate."""
        if spread is None:
            return np.zeros_like(percent)
        rel = np.asarray(spread, dtype=np.float64).reshape(percent.shape)
        margin = self.z * np.abs(np.nan_to_num(percent)) * np.nan_to_num(rel, posinf=1e6)
        return np.minimum(margin, self.widest[None, :])

    def update(self, percent: np.ndarray, spread: np.ndarray | None = None) -> np.ndarray:
        """%MVC (n, channels) and its relative error -> states (n, channels) as int8 :class:`State` values."""
        p = np.asarray(percent, dtype=np.float64)
        if p.ndim == 1:
            p = p[:, None]
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
        fix = ((zone == _AMBIG_LOW) & ~np.isin(raw, (State.BELOW, State.IN))) | (
            (zone == _AMBIG_HIGH) & ~np.isin(raw, (State.IN, State.OVER))
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


@dataclass
class MuscleHoldStats:
    """One muscle's numbers for one hold."""

    name: str
    samples: int = 0
    in_band: int = 0
    below: int = 0
    over: int = 0
    unknown: int = 0
    sum_pct: float = 0.0
    valid: int = 0
    peak_pct: float = 0.0
    overclench_episodes: int = 0

    def as_dict(self, fs: float) -> dict[str, float | int | str]:
        """JSON-ready summary (seconds and percentages)."""
        dur = self.samples / fs if fs else 0.0
        return {
            "muscle": self.name,
            "time_in_band_s": self.in_band / fs,
            "time_in_band_pct": 100.0 * self.in_band / self.samples if self.samples else 0.0,
            "time_below_s": self.below / fs,
            "time_over_s": self.over / fs,
            "mean_pct_mvc": self.sum_pct / self.valid if self.valid else float("nan"),
            "peak_pct_mvc": self.peak_pct,
            "overclench_count": self.overclench_episodes,
            "overclench_s": self.over / fs,
            "duration_s": dur,
        }


@dataclass
class HoldSummary:
    """What a finished (or running) hold looked like; see :meth:`as_dict` for the JSON keys."""

    number: int
    start_index: int
    stop_index: int
    fs: float
    muscles: list[MuscleHoldStats]
    synergy_samples: int = 0
    hamstring_first_in_band: int | None = None
    glute_first_in_band: int | None = None
    first_in_band: list[int | None] = field(default_factory=list)  # per channel, absolute index
    tags: dict[str, object] = field(default_factory=dict)  # a program rep: program, exercise, set, rep, success
    fatigue: list[dict[str, object]] | None = None  # per channel, see emgfeedback.dsp.spectra.fatigue_summary

    @property
    def samples(self) -> int:
        return self.stop_index - self.start_index

    @property
    def duration_s(self) -> float:
        return self.samples / self.fs

    @property
    def synergy_pct(self) -> float:
        """% of the hold with the high hamstring in band while the glute max was not over-clenching."""
        return 100.0 * self.synergy_samples / self.samples if self.samples else 0.0

    @property
    def hamstring_lead_s(self) -> float | None:
        """How long before the glute max the hamstring first reached the band (negative: after)."""
        if self.hamstring_first_in_band is None or self.glute_first_in_band is None:
            return None
        return (self.glute_first_in_band - self.hamstring_first_in_band) / self.fs

    def underbutt(self) -> list[dict[str, object]]:
        """Per side: hamstring:glute ratio of mean %MVC, and which reached its band first and by how many ms."""
        out: list[dict[str, object]] = []
        sides = sorted({muscle_side(m.name) for m in self.muscles})
        for side in sides:
            ham = [(i, m) for i, m in enumerate(self.muscles) if is_hamstring(m.name) and muscle_side(m.name) == side]
            glu = [(i, m) for i, m in enumerate(self.muscles) if is_glute(m.name) and muscle_side(m.name) == side]
            if not ham or not glu:
                continue
            (hi, h), (gi, g) = ham[0], glu[0]
            h_mean = h.sum_pct / h.valid if h.valid else float("nan")
            g_mean = g.sum_pct / g.valid if g.valid else float("nan")
            ratio = h_mean / g_mean if g_mean > 0 and np.isfinite(h_mean) else None
            entry: dict[str, object] = {
                "side": side or None,
                "hamstring": h.name,
                "glute_max": g.name,
                "ratio": ratio,
                "first_in_band": None,
                "lead_ms": None,
            }
            fh = self.first_in_band[hi] if hi < len(self.first_in_band) else None
            fg = self.first_in_band[gi] if gi < len(self.first_in_band) else None
            if fh is not None or fg is not None:
                first = h.name if fg is None or (fh is not None and fh <= fg) else g.name
                entry["first_in_band"] = first
                if fh is not None and fg is not None:
                    entry["lead_ms"] = 1000.0 * abs(fg - fh) / self.fs
            out.append(entry)
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "hold": self.number,
            "start_index": self.start_index,
            "stop_index": self.stop_index,
            "start_s": self.start_index / self.fs,
            "duration_s": self.duration_s,
            "synergy_pct": self.synergy_pct,
            "hamstring_lead_s": self.hamstring_lead_s,
            "muscles": [m.as_dict(self.fs) for m in self.muscles],
            "underbutt": self.underbutt(),
            "fatigue": self.fatigue,
            **({"program": dict(self.tags)} if self.tags else {}),
        }


class HoldTracker:
    """Accumulates statistics of one backbend hold from (percent, state) blocks."""

    def __init__(
        self,
        number: int,
        names: Sequence[str],
        fs: float,
        start_index: int,
        *,
        tags: dict[str, object] | None = None,
        spectra: bool = True,
    ) -> None:
        self.names = list(names)
        self.summary = HoldSummary(
            number, start_index, start_index, fs, [MuscleHoldStats(n) for n in names], tags=dict(tags or {})
        )
        self.summary.first_in_band = [None] * len(self.names)
        self.spectra = HoldSpectra(len(self.names), fs) if spectra else None
        self._ham = np.array([is_hamstring(n) for n in names])
        self._glute = np.array([is_glute(n) for n in names])
        self._prev_over = np.zeros(len(names), dtype=bool)

    def update(self, start: int, percent: np.ndarray, states: np.ndarray, filtered: np.ndarray | None = None) -> None:
        """Add a block (``filtered``: the band-passed signal, for fatigue); samples before the hold's start are ignored."""
        s = self.summary
        skip = max(s.start_index - start, 0)
        if skip:
            percent, states, start = percent[skip:], states[skip:], start + skip
            filtered = filtered[skip:] if filtered is not None else None
        n = states.shape[0]
        if n == 0:
            return
        if filtered is not None and self.spectra is not None:
            self.spectra.update(filtered[:n])
        for c, m in enumerate(s.muscles):
            st = states[:, c]
            pc = percent[:, c]
            ok = np.isfinite(pc)
            m.samples += n
            m.in_band += int(np.count_nonzero(st == State.IN))
            m.below += int(np.count_nonzero(st == State.BELOW))
            over = st == State.OVER
            m.over += int(np.count_nonzero(over))
            m.unknown += int(np.count_nonzero(st == State.UNKNOWN))
            m.valid += int(np.count_nonzero(ok))
            if ok.any():
                m.sum_pct += float(pc[ok].sum())
                m.peak_pct = max(m.peak_pct, float(pc[ok].max()))
            starts = over & ~np.concatenate([[self._prev_over[c]], over[:-1]])
            m.overclench_episodes += int(np.count_nonzero(starts))
            self._prev_over[c] = bool(over[-1])
        in_band = states == State.IN
        for c, first in enumerate(s.first_in_band):
            if first is None and in_band[:, c].any():
                s.first_in_band[c] = start + int(np.argmax(in_band[:, c]))
        if self._ham.any():
            ham = states[:, self._ham]  # a hamstring with no valid %MVC (not calibrated, electrode off) does not vote
            ham_ok = ((ham == State.IN) | (ham == State.UNKNOWN)).all(axis=1) & (ham == State.IN).any(axis=1)
            glute_ok = ~(states[:, self._glute] == State.OVER).any(axis=1) if self._glute.any() else True
            s.synergy_samples += int(np.count_nonzero(ham_ok & glute_ok))
            if s.hamstring_first_in_band is None and in_band[:, self._ham].any():
                s.hamstring_first_in_band = start + int(np.argmax(in_band[:, self._ham].any(axis=1)))
        if self._glute.any() and s.glute_first_in_band is None and in_band[:, self._glute].any():
            s.glute_first_in_band = start + int(np.argmax(in_band[:, self._glute].any(axis=1)))
        s.stop_index = start + n

    def finish(self) -> HoldSummary:
        """The summary with its fatigue figures filled in (at the hold's end)."""
        if self.spectra is not None and self.spectra.times:
            self.summary.fatigue = self.spectra.summary(self.names)
        return self.summary


class Cue(enum.StrEnum):
    """A sound the user should hear; each is distinct and short."""

    BELOW = "below"  # dropped under the band: activate a little more
    OVER = "over"  # over-clench: ease off
    RETURN = "return"  # back in the band
    TICK = "tick"  # every 10 s spent in band
    HOLD_START = "hold-start"
    HOLD_END = "hold-end"
    GET_READY = "get-ready"  # a program's countdown starts: get into position
    GO = "go"  # a program's rep starts
    REST = "rest"  # a program's rep ended: rest
    DONE = "done"  # the program is finished
    EASE_OUT = "ease-out"  # the median frequency fell by the set share: fatigue, ease out of the hold


@dataclass(frozen=True)
class CueEvent:
    """A cue decision: what, for which muscle (None for all), at which sample."""

    cue: Cue
    index: int
    muscle: str | None = None


class CueEngine:
    """Turns state changes into cues: one on leaving or re-entering the band, a tick every
    ``tick_s`` continuously in band (all muscles), and at most one cue per ``min_gap_s``
    per muscle so it never becomes continuous noise."""

    def __init__(self, names: Sequence[str], fs: float, *, tick_s: float = 10.0, min_gap_s: float = 0.4) -> None:
        self.names = list(names)
        self.fs = fs
        self.tick = max(round(tick_s * fs), 1)
        self.min_gap = round(min_gap_s * fs)
        self.prev: np.ndarray | None = None
        self.last_cue = np.full(len(names), -(10**12), dtype=np.int64)
        self.in_band_since: int | None = None

    def reset(self) -> None:
        """Forget history (at the start of a hold): the next states are the baseline, not a change."""
        self.prev = None
        self.in_band_since = None

    def _ticks(self, start: int, all_in: np.ndarray) -> list[CueEvent]:
        """A tick every ``tick`` samples of an unbroken run with every muscle in band."""
        out: list[CueEvent] = []
        n = all_in.shape[0]
        flags = np.concatenate([[self.in_band_since is not None], all_in]).astype(np.int8)
        edges = [*np.flatnonzero(np.diff(flags)).tolist(), n]
        pos, run = 0, self.in_band_since
        for edge in edges:
            if run is not None and edge > pos:
                a, b = start + pos, start + edge
                k = max(1, -(-(a - run) // self.tick))
                out.extend(CueEvent(Cue.TICK, t) for t in range(run + k * self.tick, b, self.tick))
            if edge < n:
                run = start + edge if all_in[edge] else None
            pos = edge
        self.in_band_since = run
        return out

    def update(self, start: int, states: np.ndarray) -> list[CueEvent]:
        """Cue events for a block of reported states (n, channels)."""
        events: list[CueEvent] = []
        n = states.shape[0]
        if n == 0:
            return events
        prev = states[0].astype(np.int64) if self.prev is None else self.prev
        full = np.vstack([prev[None, :], states.astype(np.int64)])
        changed_rows, changed_cols = np.nonzero(full[1:] != full[:-1])
        for r, c in zip(changed_rows.tolist(), changed_cols.tolist(), strict=True):
            before, after = State(int(full[r, c])), State(int(full[r + 1, c]))
            cue = {State.BELOW: Cue.BELOW, State.OVER: Cue.OVER}.get(after)
            if after is State.IN and before in (State.BELOW, State.OVER):
                cue = Cue.RETURN
            if cue is None or before is State.UNKNOWN:
                continue
            idx = start + r
            if idx - self.last_cue[c] < self.min_gap:
                continue
            self.last_cue[c] = idx
            events.append(CueEvent(cue, idx, self.names[c]))
        events.extend(self._ticks(start, (states == State.IN).all(axis=1)))
        self.prev = states[-1].astype(np.int64).copy()
        events.sort(key=lambda e: e.index)
        return events


@dataclass
class FeedbackUpdate:
    """What one block changed: states per sample, cues, and holds that ended."""

    start: int
    states: np.ndarray
    cues: list[CueEvent] = field(default_factory=list)
    finished_holds: list[HoldSummary] = field(default_factory=list)
    started_hold: int | None = None


class FeedbackEngine:
    """Classifier + holds + cues for all muscles; what the dashboard and the recorder share.

    ``envelope`` is the chain's estimator: it picks the band decision tuned with it (see :func:`make_classifier`).
    ``auto_start``: a hold starts by itself once every muscle (with a valid %MVC) has been in
    band for ``auto_enter_s``, and an auto-started hold ends when every muscle has been below
    the band for ``auto_exit_s``.
    """

    def __init__(
        self,
        names: Sequence[str],
        bands: Sequence[Band],
        fs: float,
        *,
        auto_start: bool = False,
        auto_enter_s: float = 1.0,
        auto_exit_s: float = 2.0,
        cues_outside_holds: bool = False,
        ease_out_pct: float | None = None,
        envelope: Envelope = Envelope.RMS,
    ) -> None:
        self.names = list(names)
        self.ease_out_pct = ease_out_pct  # cue EASE_OUT once a hold's MDF fell by this many % (None: never)
        self._eased = False
        self._pending_tags: dict[str, object] | None = None
        self.fs = fs
        self.classifier = make_classifier(bands, fs, envelope)
        self.cues = CueEngine(names, fs)
        self.auto_start = auto_start
        self.auto_enter = round(auto_enter_s * fs)
        self.auto_exit = round(auto_exit_s * fs)
        self.cues_outside_holds = cues_outside_holds
        self.hold: HoldTracker | None = None
        self.hold_auto = False
        self.holds: list[HoldSummary] = []
        self._all_in_run = 0
        self._all_below_run = 0
        self._pending_start: int | None = None
        self._pending_stop: int | None = None
        self.index = 0

    @property
    def holding(self) -> bool:
        return self.hold is not None

    @property
    def has_pending(self) -> bool:
        """True while a start or stop asked for has not been applied by :meth:`process` yet."""
        return self._pending_start is not None or self._pending_stop is not None

    @property
    def hold_requested(self) -> bool:
        """Whether a hold runs once the pending requests are applied."""
        if self._pending_stop is not None:
            return False
        return self.hold is not None or self._pending_start is not None

    def start_hold(self, index: int | None = None, tags: dict[str, object] | None = None) -> None:
        """Start a hold at sample ``index`` (default: the next sample processed); ``tags`` label it (a program rep)."""
        if self.hold is None:
            self._pending_start = self.index if index is None else index
            self._pending_stop = None
            self._pending_tags = tags

    def stop_hold(self, index: int | None = None) -> None:
        """End the running hold at sample ``index`` (default: the next sample processed)."""
        if self.hold is not None or self._pending_start is not None:
            self._pending_stop = self.index if index is None else index

    def _open(self, index: int, auto: bool, upd: FeedbackUpdate) -> None:
        self.hold = HoldTracker(len(self.holds) + 1, self.names, self.fs, index, tags=self._pending_tags)
        self._pending_tags = None
        self._eased = False
        self.hold_auto = auto
        self.cues.reset()
        upd.started_hold = index
        upd.cues.append(CueEvent(Cue.HOLD_START, index))

    def _close(self, index: int, upd: FeedbackUpdate) -> None:
        assert self.hold is not None
        summary = self.hold.finish()
        summary.stop_index = max(min(index, summary.stop_index), summary.start_index)
        self.holds.append(summary)
        upd.finished_holds.append(summary)
        upd.cues.append(CueEvent(Cue.HOLD_END, index))
        self.hold = None

    def process(
        self, start: int, percent: np.ndarray, filtered: np.ndarray | None = None, spread: np.ndarray | None = None
    ) -> FeedbackUpdate:
        """Classify a block (``spread``: the envelope's relative error, if known), advance the hold (fatigue from
        ``filtered``, the band-passed signal) and decide cues."""
        states = self.classifier.update(percent, spread)
        n = states.shape[0]
        upd = FeedbackUpdate(start, states)
        stop = start + n
        if self._pending_start is not None and self.hold is None:
            at = max(self._pending_start, start)
            self._pending_start = None
            self._open(at, False, upd)
        if self.auto_start and n:
            self._auto(start, states, upd)
        if self.hold is not None:
            tracker = self.hold
            end = stop if self._pending_stop is None else min(max(self._pending_stop, tracker.summary.start_index), stop)
            k = max(end - start, 0)
            tracker.update(start, percent[:k], states[:k], None if filtered is None else filtered[:k])
            self._ease_out(tracker, start + k, upd)
            cue_from = max(tracker.summary.start_index - start, 0)
            upd.cues.extend(self.cues.update(start + cue_from, states[cue_from:k]))
            if self._pending_stop is not None:
                self._pending_stop = None
                self._close(end, upd)
        elif self.cues_outside_holds:
            upd.cues.extend(self.cues.update(start, states))
        upd.cues.sort(key=lambda e: e.index)
        self.index = stop
        return upd

    def _ease_out(self, tracker: HoldTracker, index: int, upd: FeedbackUpdate) -> None:
        """One EASE_OUT cue per hold once any muscle's smoothed MDF fell by ``ease_out_pct``."""
        if self.ease_out_pct is None or self._eased or tracker.spectra is None:
            return
        change = tracker.spectra.mdf_change_pct()
        finite = change[np.isfinite(change)] if change is not None else np.empty(0)
        if finite.size and float(finite.min()) <= -abs(self.ease_out_pct):
            self._eased = True
            upd.cues.append(CueEvent(Cue.EASE_OUT, index))

    def _auto(self, start: int, states: np.ndarray, upd: FeedbackUpdate) -> None:
        """Auto-start and auto-stop from run lengths of 'all in band' and 'all below'.

        A muscle with no valid %MVC (not calibrated in a partial profile, or its electrode off)
        does not vote: the muscles that have one decide, and at least one must be in band.
        """
        known_in = (states == State.IN) | (states == State.UNKNOWN)
        all_in = known_in.all(axis=1) & (states == State.IN).any(axis=1)
        all_below = (states <= State.BELOW).all(axis=1)
        for r in range(states.shape[0]):
            self._all_in_run = self._all_in_run + 1 if all_in[r] else 0
            self._all_below_run = self._all_below_run + 1 if all_below[r] else 0
            if self.hold is None and self._all_in_run >= max(self.auto_enter, 1):
                self._open(start + r, True, upd)
            elif self.hold is not None and self.hold_auto and self._all_below_run >= max(self.auto_exit, 1):
                self._pending_stop = max(start, start + r - self.auto_exit + 1)
                return
