"""A recording's chosen channels loaded whole: a thin layer over :mod:`emgfeedback.io.readers`.

For what needs the whole span at once (offline calibration, tests); commands that stream use
``readers.open_recording`` + ``readers.select`` directly and read in blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emgfeedback.io.readers import Selection, open_recording, parse_columns, select

__all__ = ["Recording", "load_recording", "parse_columns"]


@dataclass(frozen=True)
class Recording:
    """Samples (n, channels) of the chosen channels, with what the file says about them."""

    path: Path
    data: np.ndarray
    fs: float | None
    names: tuple[str, ...]
    units: tuple[str, ...]
    selection: Selection

    @property
    def channels(self) -> int:
        return int(self.data.shape[1])

    @property
    def messages(self) -> tuple[str, ...]:
        """What was cut, assumed or warned about (one line each)."""
        return self.selection.messages


def load_recording(
    path: str | Path,
    columns: Sequence[int | str] | None = None,
    *,
    fs: float | None = None,
    format: str | None = None,
    stream: str | None = None,
) -> Recording:
    """Open ``path`` (any format the readers know), choose channels (default: the EMG ones) and read them."""
    rec = open_recording(path, format=format, stream=stream)
    try:
        sel = select(rec, columns, fs=fs)
        data = sel.read()
    finally:
        rec.close()
    units = tuple(c.units or "units" for c in sel.channels)
    return Recording(Path(path), np.ascontiguousarray(data), sel.fs, sel.names, units, sel)
