"""Common types for the pure byte-stream decoders (no I/O, no threads, no Qt).

Every decoder is fed byte chunks of any size through ``feed`` and returns the
complete frames found so far as one :class:`Frames` batch. Each frame carries an
absolute, ever-increasing frame index: a jump in ``index`` is a gap (frames lost
on the wire, or rejected ones that still took their sample period), never silently closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class DeviceInfo:
    """What a device says about itself (our firmware's info reply), so the host never guesses."""

    firmware: str
    fs: float
    channels: int
    adc_bits: int
    vref_mv: float
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class DecoderStats:
    """Running counters of one decoder; ``lost`` counts sample periods missing from the sequence.

    ``counter_ok`` is False while the stream's frame counter cannot be trusted (it repeats or
    stands still), so lost frames cannot be counted from it; formats without a counter keep True.
    """

    frames: int = 0
    lost: int = 0
    rejected: int = 0
    garbage_bytes: int = 0
    overruns: int = 0
    counter_ok: bool = True


@dataclass(frozen=True)
class Frames:
    """A batch of decoded frames: ``samples`` is (n, channels) float64, ``index`` (n,) int64."""

    samples: np.ndarray
    index: np.ndarray

    @classmethod
    def empty(cls, channels: int) -> Frames:
        return cls(np.empty((0, channels), dtype=np.float64), np.empty(0, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.index.shape[0])


class Decoder(Protocol):
    """A pure decoder: bytes in, frames out, with counters.

    Decoders subclass this protocol to inherit the defaults: no info reply, no stream
    restarts, nothing held back at the end of a stream.
    """

    name: str
    stats: DecoderStats
    #: The device's own description of the stream (our firmware's info reply), once received.
    info: DeviceInfo | None = None
    #: Times the device announced a new stream (its counter began again): a gap across one is not countable.
    restarts: int = 0

    @property
    def channels(self) -> int | None:
        """Channel count, once known (None until the first valid frame for self-describing formats)."""
        ...

    def feed(self, data: bytes) -> Frames:
        """Consume ``data`` and return every complete, valid frame it finished."""
        ...

    def flush(self) -> Frames:
        """End of a stream or connection: release what is held back; drop incomplete bytes."""
        return Frames.empty(self.channels or 1)
