"""The Source interface every input implements, and the chunks it yields."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType

import numpy as np

from emgfeedback.config import StreamInfo
from emgfeedback.errors import SourceError
from emgfeedback.io.protocol import Decoder


@dataclass(frozen=True)
class Chunk:
    """Consecutive samples (n, channels) starting at the absolute sample index ``start``.

    Indices only grow; a chunk that starts after the previous one ended marks a gap.
    """

    start: int
    samples: np.ndarray

    @property
    def stop(self) -> int:
        return self.start + int(self.samples.shape[0])


@dataclass
class SourceStats:
    """Counters a source keeps for the status bar and ``monitor --json``."""

    frames: int = 0
    lost: int = 0
    rejected: int = 0
    reconnects: int = 0
    overruns: int = 0  # frames the device itself flagged as late (its ADC chain overran the sample period)
    counter_ok: bool = True  # False while the device's frame counter repeats or stands still (loss not countable)
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (start index, length in samples)


class LeastDelay:
    """The smallest delay seen over the last ``window_s`` seconds (arrival minus the device's own timestamp):
    the part of the delay that is the device's and the link's, without the jitter of buffering."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._seen: deque[tuple[float, float]] = deque()  # (when, delay), delays increasing

    def add(self, now: float, delay: float) -> None:
        q = self._seen
        while q and q[-1][1] >= delay:
            q.pop()
        q.append((now, delay))
        while len(q) > 1 and q[0][0] < now - self.window_s:
            q.popleft()

    @property
    def value(self) -> float:
        """Seconds (0 before any measurement, never negative)."""
        return max(self._seen[0][1], 0.0) if self._seen else 0.0


class Source(ABC):
    """Open, then ``read`` chunks until done, then close. ``info`` is valid once open."""

    def __init__(self) -> None:
        self.stats = SourceStats()
        self.overflow = 0  # samples dropped because the consumer stopped reading (queued sources)
        self._info: StreamInfo | None = None
        self._stop = threading.Event()

    @property
    def info(self) -> StreamInfo:
        if self._info is None:
            raise SourceError("source is not open: open it before asking for its stream info")
        return self._info

    @abstractmethod
    def open(self) -> None:
        """Connect and learn the stream's settings (sets ``info``)."""

    @abstractmethod
    def read(self, timeout: float = 0.1) -> Chunk | None:
        """The next chunk, or None if none arrived within ``timeout`` seconds.

        Raises EOFError when a finite source is exhausted and SourceError on failure.
        """

    def close(self) -> None:
        """Release the device; safe to call twice."""
        self._stop.set()

    def interrupt(self) -> None:
        """Ask a blocked ``read`` (or a reconnect wait) to return soon; thread-safe."""
        self._stop.set()

    @property
    def connected(self) -> bool:
        """Whether the device is there right now (False while a serial port is being reopened)."""
        return True

    @property
    def decoder(self) -> Decoder | None:
        """The byte-stream decoder in use, for sources that decode bytes (its stats hold garbage bytes)."""
        return None

    @property
    def format_name(self) -> str:
        """The stream format in use: ``frame``, ``p2``, ``text`` for serial, else the kind of source."""
        return type(self).__name__.removesuffix("Source").lower()

    @property
    def device_delay_s(self) -> float:
        """Seconds from a sample's acquisition on the device to its arrival here, beyond the buffering the
        arrival times show (0 when unknown); LSL back-dates timestamps by it."""
        return 0.0

    @property
    def description(self) -> str:
        return self._info.description if self._info else type(self).__name__

    def __enter__(self) -> Source:
        self.open()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
