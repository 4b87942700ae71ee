"""The feedback engine: classifier + holds + cues for all muscles, what the dashboard and the recorder share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from emgfeedback.config import Band, Envelope
from emgfeedback.feedback.cues import Cue, CueEngine, CueEvent
from emgfeedback.feedback.holds import HoldSummary, HoldTracker
from emgfeedback.feedback.states import State, make_classifier


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
