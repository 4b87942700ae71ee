"""XDF from LabRecorder through pyxdf: one stream is the recording, chosen by name or type.

Clocks are synchronized, resets handled and time stamps dejittered by pyxdf; samples are then
taken at the stream's nominal rate, and breaks in the time stamps are reported. String streams
(markers) are kept as annotations, never as data.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence

import numpy as np
import pyxdf

from emgfeedback.errors import RecordingError
from emgfeedback.io.readers.base import Annotation, Channel, Kind, Recording, classify
from emgfeedback.io.readers.textscan import Head

NAME = "xdf"


def sniff(head: Head) -> int:
    return 10 if head.raw[:4] == b"XDF:" else 0


class XdfRecording(Recording):
    data: np.ndarray

    def blocks(self, indices: Sequence[int], samples: int, size: int) -> Iterator[np.ndarray]:
        for start in range(0, samples, size):
            yield self.data[start : min(start + size, samples), list(indices)]


def _first(info: dict, key: str, default: str = "") -> str:
    value = info.get(key, [default])
    return str(value[0] if isinstance(value, list) and value else value or default)


def _channel_desc(info: dict) -> list[dict]:
    try:
        desc = info["desc"][0]
        return list(desc["channels"][0]["channel"])
    except (KeyError, IndexError, TypeError):
        return []


def open(head: Head, stream: str | None = None) -> Recording:
    path = head.path
    quiet = logging.getLogger("pyxdf")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL + 1)  # pyxdf logs a damaged chunk with a traceback
    try:
        streams, _ = pyxdf.load_xdf(str(path), synchronize_clocks=True, handle_clock_resets=True, dejitter_timestamps=True)
    except Exception as exc:  # noqa: BLE001 - pyxdf raises anything on a damaged file; it is one line for the user
        raise RecordingError(f"{path.name}: not a readable XDF file ({type(exc).__name__}: {exc}): check the file") from None
    finally:
        quiet.setLevel(level)
    if not streams:
        raise RecordingError(f"{path.name}: not a readable XDF file (no stream in it): check the file")
    numeric = [s for s in streams if _first(s["info"], "channel_format") != "string"]
    markers = [s for s in streams if _first(s["info"], "channel_format") == "string"]
    if not numeric:
        raise RecordingError(f"{path.name}: holds only marker streams, no signal: record an EMG stream")

    def label(s: dict) -> str:
        i = s["info"]
        return f"{_first(i, 'name')} (type {_first(i, 'type')}, {len(s['time_stamps'])} samples, {_first(i, 'nominal_srate')} Hz)"

    if stream is not None:
        want = stream.strip().lower()
        chosen = [s for s in numeric if _first(s["info"], "name").lower() == want]
        chosen = chosen or [s for s in numeric if _first(s["info"], "type").lower() == want]
        if not chosen:
            raise RecordingError(
                f"{path.name}: no stream named or typed {stream!r}: the streams are {'; '.join(map(label, numeric))}"
            )
    else:
        chosen = [s for s in numeric if _first(s["info"], "type").lower() in ("emg", "exg")] or numeric
    picked = chosen[0]
    info = picked["info"]
    notes = [f"stream {label(picked)}"]
    others = [s for s in numeric if s is not picked]
    if others:
        notes.append(f"other streams (choose with --stream NAME or TYPE): {'; '.join(map(label, others))}")
    nominal = float(_first(info, "nominal_srate", "0") or 0)
    fs = nominal if nominal > 0 else None
    if fs is None:
        notes.append("irregular stream (nominal rate 0): give the rate with --fs")
    effective = float(info.get("effective_srate") or 0)
    if fs and effective and abs(effective - fs) > 0.01 * fs:
        notes.append(
            f"effective rate {effective:.6g} Hz differs from the nominal {fs:g} Hz (gaps or clock resets): using the nominal"
        )
    segments = info.get("segments") or []
    if len(segments) > 1:
        ts = picked["time_stamps"]
        breaks = [f"{ts[b] - ts[a - 1]:.3g} s at sample {b}" for (_, a), (b, _) in itertools.pairwise(segments)]
        notes.append(f"{len(segments)} segments (time stamp breaks: {', '.join(breaks[:3])}): joined at the nominal rate")
    data = np.asarray(picked["time_series"], dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    stype = _first(info, "type")
    descs = _channel_desc(info)
    channels = []
    for k in range(data.shape[1]):
        d = descs[k] if k < len(descs) and isinstance(descs[k], dict) else {}
        name = _first(d, "label") or f"{_first(info, 'name')} {k}"
        units = _first(d, "unit")
        ctype = _first(d, "type") or stype
        kind = classify(ctype if ctype else name, units, Kind.OTHER)
        if kind is Kind.OTHER:
            kind = classify(name, units, Kind.OTHER)
        channels.append(Channel(k, name, units, fs, data.shape[0], kind, (f"stream {_first(info, 'name')}",)))
    t0 = float(picked["time_stamps"][0]) if len(picked["time_stamps"]) else 0.0
    annotations = []
    for s in markers:
        for t, value in zip(s["time_stamps"], s["time_series"], strict=False):
            annotations.append(Annotation(float(t) - t0, 0.0, str(value[0] if len(value) else "")))
    if markers:
        notes.append(f"{len(annotations)} marker(s) from {len(markers)} string stream(s) kept as annotations, not data")
    rec = XdfRecording(path, NAME, tuple(channels), notes, tuple(annotations))
    rec.data = data
    return rec
