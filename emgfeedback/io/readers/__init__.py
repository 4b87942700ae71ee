"""Readers for the recordings other EMG systems write, one small module per format.

``open_recording(path)`` detects the format from the content and yields a :class:`Recording`:
per-channel name, units, rate, sample count, kind and notes. ``select`` then picks channels
for a command (one rate, the span where all have data) and reads them in bounded blocks.
"""

from __future__ import annotations

from pathlib import Path

from emgfeedback.io.readers.base import PLAUSIBLE, Annotation, Channel, Kind, Recording
from emgfeedback.io.readers.detect import FORMATS, NAMES, by_name, detect, head_of
from emgfeedback.io.readers.selection import Selection, parse_columns, select

__all__ = [
    "FORMATS",
    "NAMES",
    "PLAUSIBLE",
    "Annotation",
    "Channel",
    "Kind",
    "Recording",
    "Selection",
    "open_recording",
    "parse_columns",
    "select",
]


def open_recording(path: str | Path, *, format: str | None = None, stream: str | None = None) -> Recording:
    """Open ``path`` with the reader its content calls for (or the one ``format`` names)."""
    path = Path(path)
    head = head_of(path)
    fmt = by_name(format) if format else detect(head)
    if fmt.name == "xdf":
        return fmt.open(head, stream=stream)
    rec = fmt.open(head)
    if stream is not None:
        rec.notes.append(f"--stream {stream} ignored: {fmt.name} files have no streams")
    return rec
