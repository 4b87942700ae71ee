"""Arduino serial logs: one integer per line, each followed by a separator (``76,``), no header.

What a sketch's ``Serial.print(value); Serial.print(",")`` and a terminal or Processing logger
leave behind. The rate is the sketch's, never in the file: it must be given with ``--fs``.
"""

from __future__ import annotations

import re

from emgfeedback.io.readers.base import Channel, Kind, Recording
from emgfeedback.io.readers.textscan import Head, Layout, open_table

NAME = "arduino"
_LINE = re.compile(r"^\s*-?\d+\s*[,;]\s*$")


def sniff(head: Head) -> int:
    lines = [ln for ln in head.lines[:200] if ln.strip()]
    return 5 if len(lines) >= 3 and all(_LINE.match(ln) for ln in lines) else 0


def open(head: Head) -> Recording:
    delim = ";" if ";" in head.lines[0] else ","
    channel = Channel(0, "value", "counts", None, 0, Kind.EMG, ("raw ADC reading as the sketch printed it",))
    notes = ["one value per line with a trailing separator", "the sample rate is not in the file: give it with --fs"]
    first = next(i for i, ln in enumerate(head.lines) if ln.strip())
    return open_table(head.path, head, Layout(first, delim, False, (0,)), [channel], NAME, notes)
