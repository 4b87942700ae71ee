"""What the reader thread hands out: processed blocks, stream events and immutable snapshots."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from emgfeedback.feedback import FeedbackUpdate
from emgfeedback.runtime.program import ProgramView


@dataclass(frozen=True)
class Block:
    """One processed chunk, as handed to listeners; ``feedback`` is None without a feedback engine."""

    start: int
    raw: np.ndarray
    filtered: np.ndarray
    envelope: np.ndarray
    percent: np.ndarray
    feedback: FeedbackUpdate | None = None

    @property
    def states(self) -> np.ndarray:
        """Band state per sample (int8 :class:`~emgfeedback.feedback.State` values)."""
        if self.feedback is None:
            return np.zeros(self.percent.shape, dtype=np.int8)
        return self.feedback.states

    @property
    def stop(self) -> int:
        return self.start + int(self.raw.shape[0])


@dataclass(frozen=True)
class Event:
    """Something that happened in the stream: ``gap``, ``error``, ``end``, ``open``."""

    kind: str
    index: int
    message: str = ""
    length: int = 0
    wall_time: float = field(default_factory=time.time)


@dataclass(frozen=True)
class HoldView:
    """The running hold as the UI shows it (a copy, safe to read from any thread)."""

    number: int
    start_index: int
    duration_s: float
    auto: bool
    in_band_pct: tuple[float | None, ...]
    synergy_pct: float
    overclench_episodes: int
    mdf_hz: tuple[float | None, ...] = ()  # latest window's median frequency per muscle
    mdf_change_pct: tuple[float | None, ...] = ()  # smoothed change since the hold began (fatigue: negative)


@dataclass(frozen=True)
class LiveSnapshot:
    """The reader's state after its latest chunk; replaced whole, never mutated."""

    index: int = 0
    auto_start: bool = False
    hold: HoldView | None = None
    holds_done: int = 0
    program: ProgramView | None = None
