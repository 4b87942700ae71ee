"""PLUX OpenSignals (r)evolution text: ``# OpenSignals Text File Format``, a one-line JSON header
keyed by device, ``# EndOfHeader``, then tab-separated raw ADC counts.

Each device states its own rate, resolution per channel and the sensor on each channel; with
several devices their columns follow one another in device order. ``nSeq`` is a counter and the
digital lines (``DI``, ``I1``, ``O1``...) are digital, never EMG.
"""

from __future__ import annotations

import json
import re

from emgfeedback.errors import RecordingError
from emgfeedback.io.readers.base import Channel, Kind, Recording
from emgfeedback.io.readers.plain import first_data_line
from emgfeedback.io.readers.textscan import Head, Layout, guess_delimiter, numeric_fields, open_table

NAME = "opensignals"
_DIGITAL = re.compile(r"^(DI|DO|I\d|O\d|DIN|DOUT)$", re.I)
_MOTION = {"XYZ", "ACC", "ACCBITREV", "ACCMEMS", "GONIO", "FLEX", "FSR_ANGLE"}


def sniff(head: Head) -> int:
    return 9 if head.lines and head.lines[0].strip().lower().startswith("# opensignals text file format") else 0


def _header(head: Head) -> dict:
    for line in head.lines[1:6]:
        text = line.strip().lstrip("#").strip()
        if text.startswith("{"):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise RecordingError(
                    f"{head.path.name}: the OpenSignals header is not valid JSON ({exc.msg}): re-export the file"
                ) from None
    raise RecordingError(f"{head.path.name}: no OpenSignals JSON header on line 2: re-export the file from OpenSignals")


def _kind(column: str, sensor: str) -> Kind:
    if column.lower() == "nseq":
        return Kind.COUNTER
    if _DIGITAL.match(column):
        return Kind.DIGITAL
    if sensor.upper() == "EMG":
        return Kind.EMG
    if sensor.upper() in _MOTION:
        return Kind.MOTION
    return Kind.OTHER


def open(head: Head) -> Recording:
    devices = _header(head)
    ordered = sorted(devices.items(), key=lambda kv: kv[1].get("position", 0))
    channels: list[Channel] = []
    notes = []
    for mac, dev in ordered:
        fs = float(dev["sampling rate"]) if dev.get("sampling rate") else None
        columns = list(dev.get("column", []))
        labels = list(dev.get("label", []))
        sensors = list(dev.get("sensor", []))
        resolution = list(dev.get("resolution", []))
        notes.append(
            f"device {dev.get('device name', mac)} ({dev.get('device', 'PLUX')}): {fs:g} Hz, "
            f"resolution {'/'.join(map(str, resolution)) or '?'} bit"
            + (f", comments: {dev['comments']}" if dev.get("comments") else "")
        )
        for col in columns:
            if col in labels:
                j = labels.index(col)
                sensor = sensors[j] if j < len(sensors) else ""
                bits = resolution[j] if j < len(resolution) else None
                ch_notes = [f"raw {bits}-bit ADC counts" if bits else "raw ADC counts", f"sensor {sensor or '?'}"]
            else:
                sensor, ch_notes = "", []
            if len(ordered) > 1:
                ch_notes.append(f"device {dev.get('device name', mac)}")
            kind = _kind(col, sensor)
            channels.append(
                Channel(len(channels), col, "counts" if kind is not Kind.COUNTER else "", fs, 0, kind, tuple(ch_notes))
            )
    start = first_data_line(head)
    delim, comma = guess_delimiter(head.lines[start].strip())
    numeric, _, width = numeric_fields(head.lines[start], delim, comma)
    if len(numeric) < len(channels):
        raise RecordingError(
            f"{head.path.name}: the header names {len(channels)} columns but line {start + 1} has {len(numeric)}: "
            "re-export the file"
        )
    if width < len(head.lines[start].rstrip("\r\n").split(delim or " ")):
        notes.append("rows end with a separator: the empty last field is not a column")
    layout = Layout(start, delim, comma, tuple(numeric[: len(channels)]))
    return open_table(head.path, head, layout, channels, NAME, notes)
