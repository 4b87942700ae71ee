"""Biometrics DataLOG text export: a ``File Name:`` line, one ``Channel N: 'NAME', COUNT values,
engineering units: U, ...`` line per channel, a blank line, then tab-separated columns.

The rate appears where a slow channel was "extrapolated from 50 to 1000 samples per second";
that channel's values are held copies (stair steps) of its real, slower samples.
"""

from __future__ import annotations

import re

from emgfeedback.io.readers.base import Channel, Kind, Recording, classify
from emgfeedback.io.readers.plain import first_data_line
from emgfeedback.io.readers.textscan import Head, Layout, guess_delimiter, numeric_fields, open_table

NAME = "datalog"
_CHANNEL = re.compile(r"^\s*Channel\s+(\d+):\s*'([^']*)',\s*(\d+)\s+values?,\s*engineering units:\s*([^,]*)(.*)$", re.I)
_EXTRA = re.compile(r"from\s+([0-9.]+)\s+to\s+([0-9.]+)\s+samples per second", re.I)


def sniff(head: Head) -> int:
    has_name = bool(head.lines) and head.lines[0].strip().lower().startswith("file name:")
    return 8 if has_name and any(_CHANNEL.match(ln) for ln in head.lines[:64]) else 0


def open(head: Head) -> Recording:
    start = first_data_line(head)
    delim, comma = guess_delimiter(head.lines[start].strip())
    numeric, _, _ = numeric_fields(head.lines[start], delim, comma)
    specs = [m for ln in head.lines[:start] if (m := _CHANNEL.match(ln))]
    rate = None
    for m in specs:
        extra = _EXTRA.search(m.group(5))
        if extra:
            rate = float(extra.group(2))
    notes = [f"file name in header: {head.lines[0].split(':', 1)[1].strip()}"]
    if rate is None:
        notes.append("the sample rate is not in the file: give it with --fs")
    channels = []
    for k, m in enumerate(specs[: len(numeric)]):
        label, count, units, rest = m.group(2).strip(), int(m.group(3)), m.group(4).strip(), m.group(5)
        kind = Kind.MOTION if units.lower() in {"deg", "degrees", "g"} else classify(label, units, Kind.EMG)
        ch_notes = [f"header: {count} values"]
        if "no filters" in rest.lower():
            ch_notes.append("raw, no filters")
        extra = _EXTRA.search(rest)
        if extra:
            ch_notes.append(f"recorded at {float(extra.group(1)):g} Hz, held to {float(extra.group(2)):g} Hz (stair steps)")
        channels.append(Channel(k, label, units, rate, 0, kind, tuple(ch_notes)))
    for k in range(len(specs), len(numeric)):
        channels.append(Channel(k, f"col{k}", "units", rate, 0, Kind.OTHER, ("not described in the header",)))
    layout = Layout(start, delim, comma, tuple(numeric[: len(channels)]))
    return open_table(head.path, head, layout, channels, NAME, notes)
