"""EDF, EDF+, BDF and BDF+ through pyedflib: per-signal rates, annotations kept as annotations.

The prefilter field is read: an EMG signal already rectified or low-passed (an envelope, as in
sleep PSG chin EMG "HP:16Hz Rectification LP:0.7Hz") is flagged, since the chain expects raw EMG.
Values are read per signal in bounded blocks, never the whole file at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import numpy as np
import pyedflib

from emgfeedback.errors import RecordingError
from emgfeedback.io.readers.base import Annotation, Channel, Kind, Recording, classify
from emgfeedback.io.readers.textscan import Head

NAME = "edf"
_TYPES = {
    pyedflib.FILETYPE_EDF: "edf",
    pyedflib.FILETYPE_EDFPLUS: "edf+",
    pyedflib.FILETYPE_BDF: "bdf",
    pyedflib.FILETYPE_BDFPLUS: "bdf+",
}
_LOWPASS = re.compile(r"LP\s*:?\s*([0-9.]+)\s*Hz", re.I)


def sniff(head: Head) -> int:
    raw = head.raw
    return 10 if raw[:8] in (b"0       ", b"\xffBIOSEMI") and len(raw) >= 256 else 0


def is_envelope(prefilter: str) -> bool:
    """Rectified, RMS'd or low-passed under 20 Hz: an envelope, not raw EMG."""
    text = prefilter.lower()
    if "rect" in text or "rms" in text or "envelope" in text:
        return True
    m = _LOWPASS.search(prefilter)
    return bool(m) and float(m.group(1)) < 20.0


class EdfRecording(Recording):
    reader: pyedflib.EdfReader

    def blocks(self, indices: Sequence[int], samples: int, size: int) -> Iterator[np.ndarray]:
        for start in range(0, samples, size):
            n = min(size, samples - start)
            yield np.column_stack([self.reader.readSignal(i, start, n) for i in indices]).astype(np.float64)

    def close(self) -> None:
        self.reader.close()


def open(head: Head) -> Recording:
    path = head.path
    try:
        reader = pyedflib.EdfReader(str(path))
    except OSError as exc:
        reason = str(exc).split(":", 1)[-1].strip().rstrip(".") or "not EDF/BDF compliant"
        raise RecordingError(f"{path.name}: not a readable EDF/BDF file ({reason}): check the file or give --format") from None
    fmt = _TYPES.get(reader.filetype, "edf")
    fs_all = reader.getSampleFrequencies()
    counts = reader.getNSamples()
    channels = []
    for i in range(reader.signals_in_file):
        label = reader.getLabel(i).strip()
        units = reader.getPhysicalDimension(i).strip()
        prefilter = reader.getPrefilter(i).strip()
        kind = classify(label, units, Kind.OTHER)
        envelope = kind is Kind.EMG and is_envelope(prefilter)
        notes = []
        if prefilter:
            notes.append(f"prefilter {prefilter}")
        if envelope:
            notes.append("already an envelope (rectified/low-passed), not raw EMG")
        transducer = reader.getTransducer(i).strip()
        if transducer:
            notes.append(f"transducer {transducer}")
        channels.append(Channel(i, label, units, float(fs_all[i]), int(counts[i]), kind, tuple(notes), prefilter, envelope))
    onsets, durations, texts = reader.readAnnotations()
    annotations = tuple(Annotation(float(o), float(d), str(t)) for o, d, t in zip(onsets, durations, texts, strict=True))
    notes = [f"{fmt.upper()}, start {reader.getStartdatetime():%Y-%m-%d %H:%M:%S}, {reader.datarecords_in_file} data records"]
    if annotations:
        notes.append(f"{len(annotations)} annotation(s) kept as annotations, not data")
    rates = sorted({c.fs for c in channels if c.fs})
    if len(rates) > 1:
        notes.append(f"signals at different rates: {', '.join(f'{r:g}' for r in rates)} Hz")
    rec = EdfRecording(path, fmt, tuple(channels), notes, annotations)
    rec.reader = reader
    return rec
