"""Plain text and CSV: columns of numbers, with or without a header row and ``#``/``%`` comment lines.

Comment lines may state the rate (``# Sampling Rate (Hz):= 1000``, ``% fs = 2000``), the labels
and the ADC resolution; a header row names the columns; a first column named like time gives the
rate by its spacing. Text columns are ignored, a trailing separator is not a column.
"""

from __future__ import annotations

import re

import numpy as np

from emgfeedback.errors import RecordingError
from emgfeedback.io.readers.base import Channel, Kind, Recording, classify
from emgfeedback.io.readers.textscan import (
    COMMENTS,
    Head,
    Layout,
    guess_delimiter,
    is_data_line,
    numeric_fields,
    open_table,
    split_fields,
    to_number,
)

NAME = "text"
_RATE = re.compile(
    r"(?:sampling|sample)[ _]?(?:rate|frequency|freq)\s*(?:\(hz\)|\[hz\])?\s*[:=]+\s*([0-9][0-9.eE+-]*)"
    r"|\bfs\s*[:=]+\s*([0-9][0-9.eE+-]*)",
    re.I,
)
_LABELS = re.compile(r"\b(?:labels?|channels? names?)\s*:?=\s*(.+)$", re.I)
_RESOLUTION = re.compile(r"\bresolution\s*:?=\s*(\d+)", re.I)
_UNITS = re.compile(r"\bunits?\s*:?=\s*(.+)$", re.I)


def sniff(head: Head) -> int:
    """Any file with a row of numbers is plain text, the weakest claim of all."""
    return 1 if any(is_data_line(line) for line in head.lines) else 0


def first_data_line(head: Head) -> int:
    for i, line in enumerate(head.lines):
        if is_data_line(line):
            return i
    raise RecordingError(f"{head.path.name}: no rows of numbers found: give a text file with one sample per line")


def stated_rate(lines: list[str]) -> float | None:
    """A sampling rate stated in header/comment lines, if any."""
    for line in lines:
        m = _RATE.search(line)
        if m:
            text = (m.group(1) or m.group(2)).rstrip(".")
            try:
                value = float(text)
            except ValueError:
                continue
            if value > 0:
                return value
    return None


def time_rate(head: Head, start: int, layout: Layout, position: int) -> float | None:
    """The rate a time column's spacing gives, from the rows in the head (None if not increasing)."""
    values = []
    for line in head.lines[start : start + 2000]:
        if not line.strip() or line.lstrip().startswith(COMMENTS):
            continue
        fields = split_fields(line.strip(), layout.delimiter)
        if position < len(fields):
            v = to_number(fields[position], layout.decimal_comma)
            if v is not None and np.isfinite(v):
                values.append(v)
    dt = np.diff(np.asarray(values))
    if dt.size < 2 or not np.all(dt > 0):
        return None
    return float(1.0 / np.median(dt))


def open_plain(head: Head, fmt: str = NAME) -> Recording:
    """Open a plain table; ``fmt`` lets a format that is plain text underneath (Arduino logs) name itself."""
    start = first_data_line(head)
    delim, comma = guess_delimiter(head.lines[start].strip())
    numeric, text_fields, width = numeric_fields(head.lines[start], delim, comma)
    before = head.lines[:start]
    comments = [ln.lstrip("#% \t") for ln in before if ln.strip().startswith(COMMENTS)]
    plain_lines = [ln for ln in before if ln.strip() and not ln.strip().startswith(COMMENTS)]
    header: list[str] | None = None
    candidates = [*plain_lines[-1:], *[c for c in comments[-1:] if not _RATE.search(c)]]
    for cand in candidates:
        fields = split_fields(cand.strip(), delim)
        while fields and fields[-1] == "":
            fields.pop()
        if len(fields) == width:
            header = fields
            break
    notes: list[str] = []
    labels = next((m.group(1) for c in comments if (m := _LABELS.search(c))), None)
    names = [header[i] if header else f"col{k}" for k, i in enumerate(numeric)]
    if header is None and labels:
        given = [t for t in re.split(r"[,;\t ]+", labels.strip()) if t]
        if len(given) == len(numeric):
            names = given
    resolution = next((int(m.group(1)) for c in comments if (m := _RESOLUTION.search(c))), None)
    unit_text = next((m.group(1).strip() for c in comments if (m := _UNITS.search(c))), None)
    units = "counts" if resolution else (unit_text or "units")
    rate = stated_rate(comments + plain_lines)
    trailing = width < len(split_fields(head.lines[start].strip(), delim))
    layout = Layout(start, delim, comma, tuple(numeric), 0 if trailing else width)
    kinds = [classify(n, units, Kind.EMG) for n in names]
    channel_notes: list[tuple[str, ...]] = [() for _ in names]
    if resolution:
        channel_notes = [(f"{resolution}-bit ADC counts",) for _ in names]
    if kinds and kinds[0] is Kind.TIME:
        from_time = time_rate(head, start, layout, numeric[0])
        if from_time is not None:
            if rate is not None and abs(from_time - rate) > 0.01 * rate:
                notes.append(
                    f"the header states {rate:g} Hz but the time column spacing gives {from_time:.6g} Hz: using the header"
                )
            elif rate is None:
                rate = from_time
                notes.append(f"rate {from_time:.6g} Hz from the spacing of the time column {names[0]}")
    if rate is None:
        notes.append("the sample rate is not in the file: give it with --fs")
    if text_fields:
        shown = [header[i] if header and i < len(header) else f"field {i + 1}" for i in text_fields]
        notes.append(f"text columns ignored: {', '.join(shown)}")
    if trailing:
        notes.append("rows end with a separator: the empty last field is not a column")
    if start:
        notes.append(f"{start} header line(s) before the first row of numbers")
    channels = [
        Channel(k, names[k], "s" if kinds[k] is Kind.TIME else units, rate, 0, kinds[k], channel_notes[k])
        for k in range(len(names))
    ]
    return open_table(head.path, head, layout, channels, fmt, notes)


def open(head: Head) -> Recording:
    return open_plain(head)
