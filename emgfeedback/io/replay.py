"""Replay a recording file as a live source, in real time or as fast as possible.

Any format :mod:`emgfeedback.io.readers` reads; the file is streamed in bounded blocks, so an
hours-long recording never sits in memory. Channels are chosen as ``process`` chooses them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from emgfeedback.config import StreamInfo
from emgfeedback.errors import SettingsError
from emgfeedback.io.readers import Recording, Selection, open_recording, select
from emgfeedback.io.sources import Chunk, Source


class ReplaySource(Source):
    """Plays ``path`` chunk by chunk.

    ``fs`` is required when the file does not say its rate; ``columns`` are indices or names
    (default: the file's EMG channels).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fs: float | None = None,
        columns: Sequence[int | str] | None = None,
        realtime: bool = True,
        chunk_samples: int | None = None,
        loop: bool = False,
        format: str | None = None,
        stream: str | None = None,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.fs_override = fs
        self.columns = columns
        self.realtime = realtime
        self.chunk_samples = chunk_samples
        self.loop = loop
        self.format = format
        self.stream = stream
        self.recording: Recording | None = None
        self.selection: Selection | None = None
        self._blocks: Iterator[np.ndarray] | None = None
        self._buffer = np.empty((0, 0))
        self._index = 0
        self._t0 = 0.0

    def open(self) -> None:
        rec = open_recording(self.path, format=self.format, stream=self.stream)
        sel = select(rec, self.columns, fs=self.fs_override)
        if sel.fs is None:
            rec.close()
            raise SettingsError(f"{self.path.name}: the sample rate is not in the file: give it with --fs")
        for line in sel.messages:
            print(line, file=sys.stderr)
        self.recording, self.selection = rec, sel
        self._info = StreamInfo(
            fs=float(sel.fs),
            channels=len(sel.channels),
            units=sel.units,
            channel_names=sel.names,
            description=f"replay:{self.path.name}",
        )
        self.chunk_samples = self.chunk_samples or max(int(sel.fs // 100), 1)
        self._restart()
        self._index = 0
        self._stop.clear()
        self._t0 = time.monotonic()

    def _restart(self) -> None:
        assert self.selection is not None
        self._blocks = self.selection.blocks()
        self._buffer = np.empty((0, len(self.selection.channels)))

    def _take(self, n: int) -> np.ndarray:
        """Up to ``n`` next samples; empty at the end of the file."""
        assert self._blocks is not None
        while self._buffer.shape[0] < n:
            block = next(self._blocks, None)
            if block is None:
                break
            self._buffer = np.concatenate([self._buffer, block]) if self._buffer.size else block
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def read(self, timeout: float = 0.1) -> Chunk | None:
        if self.selection is None:
            self.open()
        n = self.chunk_samples or 1
        if self.realtime:
            due_at = self._t0 + (self._index + n) / self.info.fs
            wait = due_at - time.monotonic()
            if wait > 0 and (wait > timeout or self._stop.wait(wait)):
                return None
        samples = self._take(n)
        if samples.shape[0] == 0:
            if not self.loop:
                raise EOFError(f"{self.path.name}: end of recording")
            self._restart()
            samples = self._take(n)
        chunk = Chunk(self._index, samples)
        self._index += samples.shape[0]
        self.stats.frames += samples.shape[0]
        return chunk

    def close(self) -> None:
        if self.recording is not None:
            self.recording.close()
        super().close()
