"""Delsys Trigno / EMGworks CSV: ``Label: ... Sampling frequency: ... Number of points: ... Unit: ...``
lines, then a table in which every signal has its own ``X[s]`` time column before its values.

Each signal has its own rate (EMG ~1259 Hz, ACC/GYRO ~148 Hz); slower signals stop early,
leaving empty cells. The time columns are channels of kind ``time``, checked against the rate.
"""

from __future__ import annotations

import re

from emgfeedback.io.readers.base import Channel, Kind, Recording, classify
from emgfeedback.io.readers.plain import first_data_line, time_rate
from emgfeedback.io.readers.textscan import Head, Layout, guess_delimiter, numeric_fields, open_table, split_fields

NAME = "delsys"
_LABEL = re.compile(
    r"^\s*Label:\s*(?P<label>.*?)\s+Sampling frequency:\s*(?P<fs>\S+)\s+Number of points:\s*(?P<n>\d+)"
    r"(?:\s+start:\s*(?P<start>\S+))?\s+Unit:\s*(?P<unit>.*?)(?:\s+Domain Unit:\s*(?P<domain>\S+))?\s*$",
    re.I,
)


def sniff(head: Head) -> int:
    return 9 if sum(bool(_LABEL.match(ln)) for ln in head.lines[:64]) >= 1 else 0


def open(head: Head) -> Recording:
    labels = {m.group("label").strip(): m for ln in head.lines[:400] if (m := _LABEL.match(ln))}
    start = first_data_line(head)
    delim, comma = guess_delimiter(head.lines[start].strip())
    numeric, _, _width = numeric_fields(head.lines[start], delim, comma)
    header_line = next(ln for ln in reversed(head.lines[:start]) if ln.strip())
    header = split_fields(header_line.strip(), delim)
    notes: list[str] = []
    layout = Layout(start, delim, comma, tuple(numeric))
    channels = []
    last_signal = "?"
    for k, i in enumerate(numeric):
        name = header[i] if i < len(header) else f"col{i}"
        m = labels.get(name)
        if name.lower().startswith("x[") or (m is None and classify(name) is Kind.TIME):
            # the time column belongs to the signal on its right
            owner = header[i + 1] if i + 1 < len(header) else last_signal
            om = labels.get(owner)
            fs = float(om.group("fs")) if om else None
            channels.append(Channel(k, name, "s", fs, 0, Kind.TIME, (f"time of {owner}",)))
            continue
        last_signal = name
        fs = float(m.group("fs")) if m else None
        unit = m.group("unit").strip() if m else "units"
        kind = classify(name, unit, Kind.OTHER)
        ch_notes = []
        if m:
            ch_notes.append(f"header: {int(m.group('n'))} points")
        if k > 0 and channels[k - 1].kind is Kind.TIME and fs:
            spaced = time_rate(head, start, layout, numeric[k - 1])
            if spaced and abs(spaced - fs) > 0.01 * fs:
                notes.append(f"{name}: the header states {fs:g} Hz but its time column gives {spaced:.6g} Hz: using the header")
        channels.append(Channel(k, name, unit, fs, 0, kind, tuple(ch_notes)))
    if fs_none := [c.name for c in channels if c.fs is None and c.kind is not Kind.TIME]:
        notes.append(f"no rate stated for {', '.join(fs_none)}")
    rec = open_table(head.path, head, layout, channels, NAME, notes)
    short = [c for c in rec.channels if (m := labels.get(c.name)) and int(m.group("n")) != c.samples]
    if short:
        c = short[0]
        rec.notes.append(
            f"the header states {int(labels[c.name].group('n'))} points for {c.name} but the file holds {c.samples} "
            f"({len(short)} signal(s) differ: a truncated export)"
        )
    return rec
