"""Replay a recording file as a live source, in real time or as fast as possible."""

from __future__ import annotations

import time
from pathlib import Path

from emgfeedback.config import StreamInfo
from emgfeedback.errors import SettingsError
from emgfeedback.io.files import Recording, load_recording
from emgfeedback.io.sources import Chunk, Source


class ReplaySource(Source):
    """Plays ``path`` (any format :func:`load_recording` reads) chunk by chunk.

    ``fs`` is required when the file does not say its rate (no sidecar, no time column).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fs: float | None = None,
        columns: list[int] | None = None,
        realtime: bool = True,
        chunk_samples: int | None = None,
        loop: bool = False,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.fs_override = fs
        self.columns = columns
        self.realtime = realtime
        self.chunk_samples = chunk_samples
        self.loop = loop
        self.recording: Recording | None = None
        self._pos = 0
        self._index = 0
        self._t0 = 0.0

    def open(self) -> None:
        rec = load_recording(self.path).select(self.columns)
        fs = self.fs_override if self.fs_override is not None else rec.fs
        if fs is None:
            raise SettingsError(f"{self.path.name}: the sample rate is not in the file: give it with --fs")
        self.recording = rec
        units = rec.units[0] if len(set(rec.units)) == 1 else "mixed"
        self._info = StreamInfo(
            fs=float(fs), channels=rec.channels, units=units, channel_names=rec.names, description=f"replay:{self.path.name}"
        )
        self.chunk_samples = self.chunk_samples or max(int(fs // 100), 1)
        self._pos = 0
        self._index = 0
        self._stop.clear()
        self._t0 = time.monotonic()

    def read(self, timeout: float = 0.1) -> Chunk | None:
        if self.recording is None:
            self.open()
        assert self.recording is not None
        data = self.recording.data
        n_total = data.shape[0]
        if self._pos >= n_total:
            if not self.loop:
                raise EOFError(f"{self.path.name}: end of recording")
            self._pos = 0
        n = self.chunk_samples or 1
        if self.realtime:
            due_at = self._t0 + (self._index + n) / self.info.fs
            wait = due_at - time.monotonic()
            if wait > 0 and (wait > timeout or self._stop.wait(wait)):
                return None
        stop = min(self._pos + n, n_total)
        chunk = Chunk(self._index, data[self._pos : stop])
        self._index += stop - self._pos
        self._pos = stop
        self.stats.frames += chunk.samples.shape[0]
        return chunk
