"""Cue decisions from state changes: one on leaving or re-entering the band, a tick while in it, never continuous."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from emgfeedback.feedback.states import State


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
