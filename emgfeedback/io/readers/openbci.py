"""OpenBCI GUI text (the old GUI, v5 and v6) and BrainFlow's CSV layout.

GUI files start with ``%`` lines (``%OpenBCI Raw EEG Data`` or ``... EXG Data``,
``%Sample Rate = 250 Hz``); v5/v6 then name the columns (``Sample Index, EXG Channel 0, ...``),
the old GUI does not (index, channels, three aux values, a clock time). BrainFlow's
``write_file`` writes a board's rows as tab-separated columns with no header: the board
is told by the column count and its rate by the unix-second time stamp column.
"""

from __future__ import annotations

import re

import numpy as np

from emgfeedback.io.readers.base import Channel, Kind, Recording, classify
from emgfeedback.io.readers.plain import first_data_line, stated_rate
from emgfeedback.io.readers.textscan import Head, Layout, guess_delimiter, numeric_fields, open_table, split_fields, to_number

NAME = "openbci"
BRAINFLOW = "brainflow"
_CHANNELS = re.compile(r"number of channels\s*=\s*(\d+)", re.I)


def sniff(head: Head) -> int:
    return 9 if head.lines and head.lines[0].strip().lower().startswith("%openbci raw") else 0


def _units(kind: Kind, name: str) -> str:
    if kind is Kind.EMG:
        return "uV"
    if kind is Kind.MOTION:
        return "g"
    if kind is Kind.TIME:
        return "ms" if "timestamp" in name.lower() else "s"
    return ""


def open(head: Head) -> Recording:
    start = first_data_line(head)
    before = head.lines[:start]
    delim, comma = guess_delimiter(head.lines[start].strip())
    numeric, text_fields, width = numeric_fields(head.lines[start], delim, comma)
    rate = stated_rate(before)
    n_exg = next((int(m.group(1)) for ln in before if (m := _CHANNELS.search(ln))), 8)
    header = [ln for ln in before if ln.strip() and not ln.lstrip().startswith("%")]
    notes = [ln.strip().lstrip("%").strip() for ln in before if ln.lstrip().startswith("%")][:1]
    if header:
        fields = split_fields(header[-1].strip(), delim)
        names = [fields[i] if i < len(fields) else f"col{i}" for i in range(width)]
        version = "v5/v6 GUI"
    else:
        names = ["Sample Index", *[f"EXG Channel {i}" for i in range(n_exg)], "Aux 0", "Aux 1", "Aux 2"]
        names += [f"col{i}" for i in range(len(names), width)]
        version = "old GUI"
    notes.append(f"{version} layout, {n_exg} EXG channels")
    if text_fields:
        notes.append(f"text columns ignored: {', '.join(names[i] for i in text_fields)}")
    if rate is None:
        notes.append("the sample rate is not in the file: give it with --fs")
    channels = []
    for k, i in enumerate(numeric):
        kind = Kind.OTHER if names[i].lower().startswith("aux") else classify(names[i], "", Kind.OTHER)
        ch_notes = ("wraps 0..255",) if kind is Kind.COUNTER else ()
        channels.append(Channel(k, names[i], _units(kind, names[i]), rate, 0, kind, ch_notes))
    dupes = sorted({c.name for c in channels if [d.name for d in channels].count(c.name) > 1})
    if dupes:
        notes.append(f"names used twice (pick those by index): {', '.join(dupes)}")
    return open_table(head.path, head, Layout(start, delim, comma, tuple(numeric)), channels, NAME, notes)


# --- BrainFlow's CSV: rows of board channels, no header -------------------------------------------------
#: column count -> (board, rate, EXG columns, accel columns, package column, timestamp column, marker column)
_BOARDS = {
    24: ("Cyton", 250.0, range(1, 9), range(9, 12), 0, 22, 23),
    32: ("Cyton+Daisy", 125.0, range(1, 17), range(17, 20), 0, 30, 31),
    15: ("Ganglion", 200.0, range(1, 5), range(5, 8), 0, 13, 14),
}


def _rows(head: Head, start: int, delim: str | None) -> np.ndarray:
    rows = []
    for line in head.lines[start : start + 2000]:
        vals = [to_number(f, False) for f in split_fields(line.strip(), delim)]
        if vals and all(v is not None for v in vals):
            rows.append(vals)
    width = len(rows[0]) if rows else 0
    return np.array([r for r in rows if len(r) == width], dtype=np.float64)


def sniff_brainflow(head: Head) -> int:
    lines = [ln for ln in head.lines[:50] if ln.strip()]
    if not lines or "\t" not in lines[0] or not all(ln[:1].isdigit() or ln[:1] == "-" for ln in lines):
        return 0
    rows = _rows(head, 0, "\t")
    if rows.ndim != 2 or rows.shape[1] not in _BOARDS or rows.shape[0] < 2:
        return 0
    _, _, _, _, package, stamp, _ = _BOARDS[rows.shape[1]]
    stamps = rows[:, stamp]
    looks = np.all((stamps > 1e9) & (stamps < 1e11)) and np.all((rows[:, package] >= 0) & (rows[:, package] <= 255))
    return 7 if looks else 0


def open_brainflow(head: Head) -> Recording:
    start = first_data_line(head)
    rows = _rows(head, start, "\t")
    board, nominal, exg, accel, package, stamp, marker = _BOARDS[rows.shape[1]]
    if board == "Cyton+Daisy":  # the synthetic board has the same layout at 250 Hz: the time stamps tell
        span = rows[-1, stamp] - rows[0, stamp]
        if span > 0 and (rows.shape[0] - 1) / span > 190:
            board, nominal = "Synthetic", 250.0
    notes = [f"BrainFlow CSV layout of the {board} board ({rows.shape[1]} columns, {nominal:g} Hz)"]
    channels = []
    for i in range(rows.shape[1]):
        if i in exg:
            ch = Channel(i, f"EXG Channel {i - exg[0]}", "uV", nominal, 0, Kind.EMG)
        elif i in accel:
            ch = Channel(i, f"Accel Channel {i - accel[0]}", "g", nominal, 0, Kind.MOTION)
        elif i == package:
            ch = Channel(i, "Package Num", "", nominal, 0, Kind.COUNTER, ("wraps 0..255",))
        elif i == stamp:
            ch = Channel(i, "Timestamp", "s", nominal, 0, Kind.TIME, ("unix seconds",))
        elif i == marker:
            ch = Channel(i, "Marker", "", nominal, 0, Kind.DIGITAL)
        else:
            ch = Channel(i, f"Other {i}", "", nominal, 0, Kind.OTHER)
        channels.append(ch)
    layout = Layout(start, "\t", False, tuple(range(rows.shape[1])))
    return open_table(head.path, head, layout, channels, BRAINFLOW, notes)
