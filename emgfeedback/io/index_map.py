"""Decoder indices -> absolute sample indices across reconnects: pure, no I/O, no threads.

A decoder numbers its frames from wherever it started; a source numbers samples from 0
for its whole life. :class:`IndexMapper` keeps that mapping, splits batches at index
jumps into chunks, and records every jump as a gap (never closed). When the port comes
back after a loss, the gap is measured in wall time x fs, or exactly from the device's
counter when the counter ran on (same value modulo its period, within a tolerance).
"""

from __future__ import annotations

import itertools

from emgfeedback.io.protocol import Frames
from emgfeedback.io.sources import Chunk, SourceStats


class IndexMapper:
    """Places decoded batches at absolute sample indices; updates ``stats`` (frames, lost, gaps)."""

    def __init__(self, stats: SourceStats, fs: float, modulo: int | None) -> None:
        """``modulo``: the period of the device's frame counter (None: no counter, gaps from wall time)."""
        self.stats = stats
        self.fs = fs
        self.modulo = modulo
        self.next = 0  # absolute index the next sample should have
        self.last_arrival = 0.0
        self._base = 0  # absolute index = base + decoder index
        self._started = False
        self._resync: float | None = None  # arrival time of the last data before the connection broke
        self._counter_continues = False  # the decoder (and so the device counter) spans the break
        self._restarts_before = 0

    @property
    def started(self) -> bool:
        """Whether any sample was placed yet."""
        return self._started

    def connection_lost(self) -> None:
        """The port went away: the next batch is placed after a gap as long as the time away."""
        self._resync = self.last_arrival if self._started else None

    def resumed(self, *, counter_continues: bool, restarts: int = 0) -> None:
        """The port is back. ``counter_continues``: the same decoder goes on (its counter may span the gap);
        False: a fresh decoder that numbers from 0 again. ``restarts``: the decoder's restart count now."""
        self._counter_continues = counter_continues
        self._restarts_before = restarts
        if not counter_continues:
            self._started = False

    def reopened(self) -> None:
        """Opened again after a close, with a new decoder: indices go on, across a gap measured in wall time."""
        if self._started:
            self._resync, self._started, self._counter_continues = self.last_arrival, False, False

    def place(self, frames: Frames, arrival: float, restarts: int = 0, counter_ok: bool = True) -> list[Chunk]:
        """The chunks of ``frames`` at absolute indices; jumps become gaps; overlaps are dropped.

        ``restarts`` and ``counter_ok`` are the decoder's: a restarted or untrusted counter says nothing
        of the time away, which is then measured in wall time.
        """
        n = len(frames)
        if n == 0:
            return []
        if not self._started:
            self._base = self.next - int(frames.index[0])
            self._started = True
        if self._resync is not None:
            self._base += self._reconnect_shift(int(frames.index[0]) + self._base, n, arrival, restarts, counter_ok)
            self._resync = None
        idx = frames.index + self._base
        jumps = (idx[1:] != idx[:-1] + 1).nonzero()[0] + 1
        bounds = [0, *jumps.tolist(), n]
        chunks: list[Chunk] = []
        for a, b in itertools.pairwise(bounds):
            start = int(idx[a])
            if start > self.next:
                self.stats.gaps.append((self.next, start - self.next))
                self.stats.lost += start - self.next
            elif start < self.next:  # never go back: an index overlap cannot be placed, drop it
                continue
            chunks.append(Chunk(start, frames.samples[a:b]))
            self.next = start + (b - a)
        self.stats.frames += sum(c.samples.shape[0] for c in chunks)
        self.last_arrival = arrival
        return chunks

    def _reconnect_shift(self, natural: int, n: int, arrival: float, restarts: int, counter_ok: bool) -> int:
        """How far to move indices after a reconnect so the gap matches the time the port was away."""
        assert self._resync is not None
        wall = max(round((arrival - self._resync) * self.fs) - n, 0)
        counted = natural - self.next
        restarted = restarts != self._restarts_before  # a restarted counter says nothing of the gap
        if self.modulo is not None and self._counter_continues and counter_ok and not restarted:
            candidate = counted + self.modulo * round((wall - counted) / self.modulo)
            tolerance = min(self.modulo // 4, max(0.25 * self.fs, 10.0))
            if candidate >= 0 and abs(candidate - wall) <= tolerance:
                return candidate - counted
        return wall - counted
