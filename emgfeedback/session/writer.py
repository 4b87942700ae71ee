"""Append one session to the store from one thread: chunk rows, events and a heartbeat per commit.

:class:`SessionWriter` is synchronous; :class:`~emgfeedback.session.recorder.SessionRecorder`
runs it in a thread fed by the acquisition, and offline recordings call it directly.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emgfeedback.feedback import FeedbackUpdate, HoldSummary, HoldTracker, State
from emgfeedback.runtime.blocks import Block
from emgfeedback.session.store import KINDS, SessionStore, dumps

#: Heartbeat-only commits (no new data) happen at most this often, seconds.
IDLE_HEARTBEAT_S = 1.0


def pack_raw(raw: np.ndarray) -> np.ndarray:
    """Raw samples in the smallest lossless form: int16/int32 when they are whole numbers (ADC counts), else float32."""
    if raw.dtype.kind in "iu":
        lo, hi = (int(raw.min()), int(raw.max())) if raw.size else (0, 0)
        return raw.astype(np.int16 if lo >= -(2**15) and hi < 2**15 else np.int32)
    if raw.size and np.all(np.isfinite(raw)):
        lo, hi = float(raw.min()), float(raw.max())
        if lo >= -(2**31) and hi < 2**31 and np.array_equal(np.rint(raw), raw):
            return raw.astype(np.int16 if lo >= -(2**15) and hi < 2**15 else np.int32)
    return raw.astype(np.float32)


_PACK = {
    "raw": pack_raw,
    "envelope": lambda a: a.astype(np.float32),
    "percent": lambda a: a.astype(np.float32),
    "state": lambda a: a.astype(np.int8),
}


@dataclass
class _Episode:
    start: int
    peak: float


@dataclass
class EpisodeTracker:
    """Over-clench episodes per muscle (runs of :attr:`State.OVER`), across blocks.

    The state turns OVER only after the classifier's dwell, so each episode is moved back by
    ``dwell - 1`` samples to when the level actually crossed, and its peak includes those samples.
    """

    names: Sequence[str]
    fs: float
    dwell: Sequence[int] | None = None  # per-muscle dwell in samples (1: no delay)
    open: dict[int, _Episode] = field(default_factory=dict)
    _tail: np.ndarray | None = None  # the last max(dwell) - 1 rows of %MVC, for onsets in the previous block

    def update(self, start: int, percent: np.ndarray, states: np.ndarray) -> list[dict[str, Any]]:
        """Episodes that ended in this block, as event data."""
        over = states == State.OVER
        lag = np.maximum(np.asarray(self.dwell if self.dwell is not None else [1] * states.shape[1]) - 1, 0)
        keep = int(lag.max(initial=0))
        tail = self._tail
        if keep and percent.shape[0] >= keep:  # the common case: the block alone holds the next tail
            self._tail = percent[-keep:].copy()
        elif keep:
            joined = percent if tail is None else np.concatenate([tail, percent])
            self._tail = joined[-keep:]
        if not self.open and not over.any():  # no episode here: nothing more per block
            return []
        ext = percent if tail is None or not keep else np.concatenate([tail, percent])
        t = ext.shape[0] - percent.shape[0]  # rows of ext before this block
        done: list[dict[str, Any]] = []
        n = states.shape[0]
        for c in range(states.shape[1]):
            col = over[:, c]
            was = c in self.open
            if not was and not col.any():
                continue
            d = int(lag[c])
            edges = np.flatnonzero(np.diff(np.concatenate([[was], col, [False]]).astype(np.int8)))
            # edges alternate start, stop (stop at n means "still open")
            bounds = edges.tolist()
            if was:
                bounds = [None, *bounds]
            for a, b in zip(bounds[0::2], bounds[1::2], strict=True):
                onset = 0 if a is None else max(a + t - d, 0)  # in ext rows
                seg = ext[onset : b + t, c]
                peak = float(np.nanmax(seg)) if seg.size and np.isfinite(seg).any() else float("nan")
                if a is None:
                    ep = self.open.pop(c)
                    ep.peak = max(ep.peak, peak) if np.isfinite(peak) else ep.peak
                else:
                    ep = _Episode(start - t + onset, peak)
                if b >= n:
                    self.open[c] = ep
                else:
                    done.append(self._data(c, ep, max(start + b - d, ep.start + 1)))
        return done

    def close_all(self, stop: int) -> list[dict[str, Any]]:
        """Close the episodes still running at ``stop`` (the end of the recording or a gap)."""
        out = [self._data(c, ep, stop, open_at_end=True) for c, ep in sorted(self.open.items())]
        self.open.clear()
        self._tail = None  # an onset never reaches back across a gap
        return out

    def _data(self, c: int, ep: _Episode, stop: int, open_at_end: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "muscle": self.names[c],
            "channel": c,
            "start_index": ep.start,
            "stop_index": stop,
            "duration_s": (stop - ep.start) / self.fs,
            "peak_pct_mvc": ep.peak,
        }
        if open_at_end:
            data["open_at_end"] = True
        return data


@dataclass
class WriterStats:
    """Counters for status lines and tests."""

    blocks: int = 0
    samples: int = 0
    rows: int = 0
    commits: int = 0
    gaps: int = 0
    events: int = 0


class SessionWriter:
    """Buffers blocks into chunk rows (``chunk_samples`` each, split at gaps) and commits them,
    the session's events and its heartbeat in one transaction per :meth:`commit`."""

    def __init__(
        self,
        store: SessionStore,
        *,
        fs: float,
        muscles: Sequence[str],
        profile: str | None = None,
        person: str | None = None,
        meta: dict[str, Any] | None = None,
        created: float | None = None,
        chunk_seconds: float = 0.25,
        store_cues: bool = True,
        gap_context: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.store = store
        self.fs = float(fs)
        self.muscles = list(muscles)
        self.chunk_samples = max(round(chunk_seconds * fs), 1)
        self.store_cues = store_cues
        self.gap_context = gap_context
        # the session row is written with its first samples, in one transaction: a recording that
        # cannot start (a full disk, a damaged store) leaves no empty session behind
        self.session_id: int | None = None
        self._new_session: dict[str, Any] = {
            "fs": fs,
            "muscles": self.muscles,
            "created": created,
            "profile": profile,
            "person": person,
            "meta": meta,
        }
        self.stats = WriterStats()
        self.first_index: int | None = None
        self.expected: int | None = None  # next index after the last buffered sample
        self.committed_index: int | None = None
        self._buf: dict[str, list[np.ndarray]] = {k: [] for k in KINDS}
        self._buf_start: int | None = None
        self._buf_len = 0
        self._rows: list[tuple[Any, ...]] = []
        self._events: list[tuple[Any, ...]] = []
        bands = (meta or {}).get("bands") or {}
        dwell = [max(round(float((bands.get(m) or {}).get("dwell_ms", 0.0)) * self.fs / 1000.0), 1) for m in self.muscles]
        self._episodes = EpisodeTracker(self.muscles, self.fs, dwell)
        self._open_hold: int | None = None
        self.holds = 0
        self._last_commit = time.monotonic()
        self.overflow_ranges: list[tuple[int, int]] = []

    # --- input ------------------------------------------------------------------------------
    def add_block(self, block: Block) -> None:
        """Buffer one processed block and turn its feedback into events."""
        start, n = block.start, int(block.raw.shape[0])
        if n == 0:  # an empty block only carries hold changes the UI asked for between two chunks
            if block.feedback is not None and self.first_index is not None:
                self._feedback_events(block.feedback)
            return
        if self.first_index is None:
            self.first_index = start
            self.expected = start
        assert self.expected is not None
        raw, envelope, percent, states = block.raw, block.envelope, block.percent, block.states
        if start < self.expected:  # an overlap never happens with Acquisition; keep what is stored
            skip = self.expected - start
            if skip >= n:
                return
            raw, envelope, percent, states = raw[skip:], envelope[skip:], percent[skip:], states[skip:]
            start, n = start + skip, n - skip
        elif start > self.expected:
            self._flush_buffer()
            self._gap(self.expected, start - self.expected)
        for kind, arr in (("raw", raw), ("envelope", envelope), ("percent", percent), ("state", states)):
            self._buf[kind].append(arr.reshape(n, -1))
        if self._buf_start is None:
            self._buf_start = start
        self._buf_len += n
        self.expected = start + n
        self.stats.blocks += 1
        self.stats.samples += n
        if block.feedback is not None:
            self._feedback_events(block.feedback)
        for ep in self._episodes.update(start, percent, states):
            self.add_event("overclench", ep["start_index"], ep)
        if self._buf_len >= self.chunk_samples:
            self._flush_buffer()

    def _feedback_events(self, upd: FeedbackUpdate) -> None:
        """Hold starts, finished holds and cues of one block, as events."""
        for summary in upd.finished_holds:  # a hold that ends in this block ...
            if summary.start_index != upd.started_hold:
                self._finish_hold(summary)
        if upd.started_hold is not None:
            self.holds += 1
            self._open_hold = upd.started_hold
            self.add_event("hold_start", upd.started_hold, {"hold": self.holds})
        for summary in upd.finished_holds:  # ... or one that starts and ends in it
            if summary.start_index == upd.started_hold:
                self._finish_hold(summary)
        if self.store_cues:
            for cue in upd.cues:
                self.add_event("cue", cue.index, {"cue": cue.cue.value, "muscle": cue.muscle})

    def _finish_hold(self, summary: HoldSummary) -> None:
        if self._open_hold is None:  # began before this recording did
            self.holds += 1
        data = {**summary.as_dict(), "hold": self.holds, "engine_hold": summary.number, "source": "live"}
        self._open_hold = None
        self.add_event("hold", summary.stop_index, data)

    def _gap(self, at: int, length: int) -> None:
        cause = "source"
        for a, b in self.overflow_ranges:
            if a <= at < b:
                cause = "recorder-overflow"
                break
        self.stats.gaps += 1
        context = self.gap_context() if self.gap_context is not None else {}
        self.add_event("gap", at, {"length": length, "length_s": length / self.fs, "cause": cause, **context})
        # an over-clench run does not continue across missing samples
        for ep in self._episodes.close_all(at):
            self.add_event("overclench", ep["start_index"], ep)

    def add_event(self, kind: str, index: int | None, data: dict[str, Any] | None = None, wall: float | None = None) -> None:
        """Queue an event for the next commit."""
        self._events.append((kind, index, time.time() if wall is None else wall, dumps(data or {})))
        self.stats.events += 1

    # --- output -------------------------------------------------------------------------------
    @property
    def pending_rows(self) -> int:
        """Chunk rows flushed from the buffer but not yet committed."""
        return len(self._rows)

    def _flush_buffer(self) -> None:
        """Turn the buffered samples into one row per kind (all with the same start and count)."""
        if self._buf_start is None or self._buf_len == 0:
            return
        for kind in KINDS:
            parts = self._buf[kind]
            arr = parts[0] if len(parts) == 1 else np.concatenate(parts)
            packed = np.ascontiguousarray(_PACK[kind](arr))
            self._rows.append((kind, self._buf_start, self._buf_len, packed.shape[1], packed.dtype.str, packed.tobytes()))
            parts.clear()
        self._buf_start = None
        self._buf_len = 0

    def commit(self, *, force: bool = True) -> bool:
        """Write the buffered samples and events and the heartbeat in one transaction.

        Without ``force`` a commit that would only refresh the heartbeat happens at most once
        per :data:`IDLE_HEARTBEAT_S`. Returns whether anything was written.
        """
        self._flush_buffer()
        now = time.monotonic()
        if not self._rows and not self._events and not force and now - self._last_commit < IDLE_HEARTBEAT_S:
            return False
        rows, events = self._rows, self._events
        if self.session_id is None and not rows and not events:
            return False  # nothing arrived yet: no session to store
        try:
            with self.store.transaction() as c:
                self._write(c, rows, events)
        except BaseException:
            if self.stats.commits == 0:
                self.session_id = None  # its row was rolled back with the samples
            raise
        self._rows, self._events = [], []
        self.stats.rows += len(rows)
        self.stats.commits += 1
        self.committed_index = self.expected
        self._last_commit = now
        return True

    def _write(self, c: sqlite3.Connection, rows: list[tuple[Any, ...]], events: list[tuple[Any, ...]]) -> None:
        """The inserts and the heartbeat of one commit (inside its transaction); the first one creates the session."""
        if self.session_id is None:
            self.session_id = self.store.insert_session(c, **self._new_session)
        sid = self.session_id
        if rows:
            c.executemany(
                "INSERT INTO chunks (session_id, kind, start, count, channels, dtype, data) VALUES (?,?,?,?,?,?,?)",
                [(sid, *r) for r in rows],
            )
        if events:
            c.executemany(
                "INSERT INTO events (session_id, kind, idx, wall, data) VALUES (?,?,?,?,?)", [(sid, *e) for e in events]
            )
        c.execute(
            "UPDATE sessions SET heartbeat = ?, first_index = ?, end_index = ? WHERE id = ?",
            (time.time(), self.first_index, self.expected, self.session_id),
        )

    def finish(self, status: str = "complete") -> None:
        """Close running episodes and an unfinished hold, commit, and set the final status."""
        if self.expected is not None:
            for ep in self._episodes.close_all(self.expected):
                self.add_event("overclench", ep["start_index"], ep)
        self.commit()
        if self.session_id is None:
            return  # nothing was ever stored
        if self._open_hold is not None and self.expected is not None:
            summary = recompute_hold(
                self.store,
                self.session_id,
                number=self.holds,
                muscles=self.muscles,
                fs=self.fs,
                start=self._open_hold,
                stop=self.expected,
            )
            self.add_event("hold", self.expected, {**summary, "source": "recomputed", "open_at_end": True})
            self._open_hold = None
            self.commit()
        self.store.set_status(self.session_id, status)


def recompute_hold(
    store: SessionStore, session_id: int, *, number: int, muscles: Sequence[str], fs: float, start: int, stop: int
) -> dict[str, Any]:
    """A hold's statistics from the stored %MVC and states, with the same :class:`HoldTracker` as live."""
    tracker = HoldTracker(number, muscles, fs, start)
    for s, arrays in store.iter_aligned(session_id, ("percent", "state"), start, stop):
        pct, st = arrays["percent"].astype(np.float64), arrays["state"]
        k = min(stop - s, pct.shape[0])
        if k > 0:
            tracker.update(s, pct[:k], st[:k])
    return tracker.summary.as_dict()
