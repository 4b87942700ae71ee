"""EDF+C export through edfio, streamed: raw and envelope channels, holds, over-clench episodes and gaps as annotations.

edfio builds every header field and the annotation signal (``Edf`` from zero-stride
placeholder signals, so nothing is allocated); the data records are then written here
in batches of one minute, so a 2-hour session never sits in memory (edfio's own
``write`` would hold the digital signals and a copy of all data records). Physical
ranges come from a first pass over the data, so every value survives within the
16-bit quantization step. Raw is in uV when the front end's gain is known, else in
ADC counts. EDF+C is continuous: a gap (lost samples) is filled with the last value
and annotated; the tail of the last 1 s record is padded the same way.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from edfio import Edf, EdfAnnotation, EdfSignal, Recording

from emgfeedback.errors import ExportError
from emgfeedback.muscles import muscle_kind, muscle_side
from emgfeedback.session.outputs import atomic_output, file_name
from emgfeedback.session.store import SessionStore
from emgfeedback.session.summary import SessionSummary

DIGITAL = (-32768, 32767)
#: EDF asks for data records under 61440 bytes; the record is shortened from 1 s when needed.
MAX_RECORD_BYTES = 61440
RECORDS_PER_BATCH = 60
_SHORT = {"glute_max": "GluteMax", "hamstring": "Hamstring"}

Advance = Callable[[int], None]


def short_label(name: str) -> str:
    """``glute_max_left`` -> ``GluteMax L`` (EDF labels have 16 characters)."""
    kind, side = muscle_kind(name), muscle_side(name)
    base = _SHORT.get(kind, kind.replace("_", ""))
    return f"{base} {side[:1].upper()}" if side else base


def ascii_text(text: str) -> str:
    """EDF header fields are printable ASCII: anything else becomes ``?``."""
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)


def labels(prefix: str, muscles: Sequence[str]) -> list[str]:
    """Unique EDF labels of at most 16 ASCII characters."""
    out: list[str] = []
    for i, m in enumerate(muscles):
        label = ascii_text(f"{prefix} {short_label(m)}")[:16]
        if label in out:
            label = f"{label[:13]} {i}"
        out.append(label)
    return out


def record_layout(fs: float, signals: int) -> tuple[float, int]:
    """(data record duration in s, samples per record): 1 s when it fits, shorter otherwise."""
    for duration in (Fraction(1), Fraction(1, 2), Fraction(1, 4), Fraction(1, 5), Fraction(1, 10)):
        spr = Fraction(fs).limit_denominator(10**6) * duration
        if spr.denominator == 1 and spr.numerator * 2 * signals <= MAX_RECORD_BYTES:
            return float(duration), int(spr)
    for duration in range(1, 11):
        spr = Fraction(fs).limit_denominator(10**6) * duration
        if spr.denominator == 1:
            return float(duration), int(spr)
    raise ExportError(f"sample rate {fs:g} Hz has no whole number of samples per EDF record: export CSV instead")


@dataclass
class _Plan:
    """The signals' layout and ranges, from the first pass."""

    scale: np.ndarray  # physical = stored * scale, per signal
    lo: np.ndarray
    hi: np.ndarray


def _ranges(store: SessionStore, session_id: int, raw_scale: float, stop: int) -> _Plan:
    """Per-signal physical min and max over the whole session (first pass)."""
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    for start, a in store.iter_aligned(session_id, ("raw", "envelope"), stop=stop):
        x = np.hstack([a["raw"].astype(np.float64) * raw_scale, a["envelope"].astype(np.float64)])[: stop - start]
        x_lo, x_hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
        lo = x_lo if lo is None else np.fmin(lo, x_lo)
        hi = x_hi if hi is None else np.fmax(hi, x_hi)
    if lo is None or hi is None:
        raise ExportError(f"session {session_id} has no samples: there is nothing to export to EDF")
    lo = np.where(np.isfinite(lo), lo, 0.0)
    hi = np.where(np.isfinite(hi), hi, 1.0)
    hi = np.where(hi > lo, hi, lo + 1.0)
    n_raw = store.session(session_id).channels
    scale = np.concatenate([np.full(n_raw, raw_scale), np.ones(lo.size - n_raw)])
    return _Plan(scale, lo, hi)


def annotations(summary: SessionSummary) -> list[EdfAnnotation]:
    """Holds, over-clench episodes, gaps and markers, in seconds from the first sample."""
    info = summary.info
    first, fs = info.first_index or 0, info.fs
    out: list[EdfAnnotation] = []

    def t(index: Any) -> float:
        return max((int(index) - first) / fs, 0.0)

    for h in summary.holds:
        extra = " (open at end)" if h.get("open_at_end") else ""
        tags = h.get("program")
        if tags:  # a program rep: which one, and how it went
            verdict = {True: "ok", False: "failed", None: "abandoned"}[tags.get("success")]
            extra += f" {tags.get('program')} set {tags.get('set')} rep {tags.get('rep')} {verdict}"
        out.append(EdfAnnotation(t(h["start_index"]), float(h["duration_s"]), f"hold {h['hold']}{extra}"))
    for e in summary.overclench:
        out.append(EdfAnnotation(t(e["start_index"]), float(e["duration_s"]), f"over-clench {e['muscle']}"))
    for g in summary.gaps:
        out.append(EdfAnnotation(t(g["index"]), float(g["length_s"]), f"gap: {g['length']} samples lost, filled"))
    for m in summary.markers:
        if m.get("index") is not None:
            out.append(EdfAnnotation(t(m["index"]), None, str(m.get("text") or m["kind"])))
    return sorted(out)


def _prefilter(meta: dict[str, Any]) -> str:
    f = meta.get("filters") or {}
    if not f:
        return ""
    mains = f.get("mains", "off")
    notch = f"N:{mains}Hz" if mains != "off" else "N:off"
    if f.get("input_mode") == "pre-rectified":
        return f"pre-rectified input; moving mean {f.get('window_ms'):g}ms; {notch}"
    return f"HP:{f.get('band_low_hz'):g}Hz LP:{f.get('band_high_hz'):g}Hz {notch} RMS:{f.get('window_ms'):g}ms"


def _template(summary: SessionSummary, plan: _Plan, *, raw_units: str, duration: float, spr: int, n_records: int) -> Edf:
    """The Edf whose header and annotation signal edfio computes; its data signals are zero-stride placeholders."""
    info = summary.info
    meta = info.meta
    env_units = meta.get("envelope_units") or raw_units
    zeros = np.broadcast_to(np.int16(0), (n_records * spr,))
    fs = spr / duration
    signals = []
    names = [*labels("EMG", info.muscles), *labels("ENV", info.muscles)]
    for i, label in enumerate(names):
        raw = i < info.channels
        muscle = info.muscles[i % info.channels]
        signals.append(
            EdfSignal.from_digital(
                zeros,
                fs,
                label=label,
                transducer_type=ascii_text(f"sEMG surface electrodes {muscle}")[:80],
                physical_dimension=ascii_text(raw_units if raw else env_units)[:8],
                physical_range=(float(plan.lo[i]), float(plan.hi[i])),
                digital_range=DIGITAL,
                prefiltering="none" if raw else ascii_text(_prefilter(meta))[:80],
            )
        )
    start = info.started
    recording = Recording(startdate=start.date(), equipment_code="emgfeedback", additional=(f"session-{info.id}",))
    return Edf(
        signals,
        recording=recording,
        starttime=datetime.time(start.hour, start.minute, start.second),
        data_record_duration=duration,
        annotations=annotations(summary),
    )


def _header_and_annotation_records(edf: Edf, spr: int, n_records: int) -> tuple[bytes, np.ndarray]:
    """edfio's header bytes (laid out as its ``Edf.write`` does) and the annotation signal's bytes per record."""
    # edfio has no public header-only writer: these private names are pinned by the EDF tests
    signals = edf._signals
    for s in signals[:-1]:
        s._set_samples_per_data_record(spr)
    fields = [getattr(edf, "_" + name) for name, _ in Edf._header_fields]
    fields += [getattr(s, "_" + name) for name, _ in EdfSignal._header_fields for s in signals]
    header = b"".join(fields)
    if len(header) != 256 * (len(signals) + 1):
        raise ExportError(f"the installed edfio ({len(header)}-byte header) is not supported: install edfio 0.4.16-0.4.x")
    annot = np.asarray(signals[-1].digital).view(np.uint8).reshape(n_records, -1)
    return header, annot


class _RecordWriter:
    """Physical samples in, whole EDF data records out (digital signals interleaved with the annotation bytes)."""

    def __init__(self, f: Any, annot: np.ndarray, spr: int, gain: np.ndarray, offset: np.ndarray) -> None:
        self.f, self.annot, self.spr, self.gain, self.offset = f, annot, spr, gain, offset
        self.batch = RECORDS_PER_BATCH * spr
        self.buf = np.empty((self.batch, gain.size), dtype=np.float64)
        self.fill = 0
        self.records = 0

    def put(self, x: np.ndarray) -> None:
        while x.shape[0]:
            take = min(self.batch - self.fill, x.shape[0])
            self.buf[self.fill : self.fill + take] = x[:take]
            self.fill += take
            x = x[take:]
            if self.fill == self.batch:
                self.flush()

    def flush(self) -> None:
        """Write the buffered records; a partial last record is padded with its last value."""
        k = -(-self.fill // self.spr)
        if k == 0:
            return
        end = k * self.spr
        self.buf[self.fill : end] = self.buf[self.fill - 1]
        dig = np.clip(np.round(self.buf[:end] / self.gain - self.offset), *DIGITAL).astype("<i2")
        nsig = self.gain.size
        rec = dig.reshape(k, self.spr, nsig).transpose(0, 2, 1).reshape(k, nsig * self.spr)
        self.f.write(np.hstack([rec.view(np.uint8), self.annot[self.records : self.records + k]]).tobytes())
        self.records += k
        self.fill = 0


def export_edf(
    store: SessionStore, session_id: int, out_dir: Path, summary: SessionSummary, advance: Advance | None = None
) -> Path:
    """Write ``session-ID.edf`` (EDF+C) into ``out_dir``; returns its path."""
    info = summary.info
    total = info.samples
    if total <= 0:
        raise ExportError(f"session {session_id} has no samples: there is nothing to export to EDF")
    uv = info.meta.get("uv_per_count")
    in_counts = (info.meta.get("raw_units") or "counts") == "counts"
    raw_scale = float(uv) if uv and in_counts else 1.0
    raw_units = "uV" if uv and in_counts else (info.meta.get("raw_units") or "counts")
    first = info.first_index or 0
    stop = first + total  # a session still recording grows; export what the summary saw
    plan = _ranges(store, session_id, raw_scale, stop)
    duration, spr = record_layout(info.fs, plan.lo.size)
    n_records = -(-total // spr)
    edf = _template(summary, plan, raw_units=raw_units, duration=duration, spr=spr, n_records=n_records)
    header, annot = _header_and_annotation_records(edf, spr, n_records)
    lo = np.array([s.physical_min for s in edf.signals])
    hi = np.array([s.physical_max for s in edf.signals])
    gain = (hi - lo) / (DIGITAL[1] - DIGITAL[0])
    offset = hi / gain - DIGITAL[1]
    path = out_dir / file_name(session_id, ".edf")
    with atomic_output(path, binary=True) as f:
        f.write(header)
        out = _RecordWriter(f, annot, spr, gain, offset)
        cursor, last = 0, None
        for start, a in store.iter_aligned(session_id, ("raw", "envelope"), stop=stop):
            x = np.hstack([a["raw"].astype(np.float64), a["envelope"].astype(np.float64)]) * plan.scale
            np.nan_to_num(x, copy=False, nan=0.0)
            rel = start - first
            x = x[: total - rel]
            while cursor < rel:  # a gap: hold the last value
                n = min(rel - cursor, out.batch)
                out.put(np.repeat(x[:1] if last is None else last, n, axis=0))
                cursor += n
            out.put(x)
            last, cursor = x[-1:], rel + x.shape[0]
            if advance is not None:
                advance(x.shape[0])
        out.flush()
        if out.records != n_records:
            raise ExportError(
                f"session {session_id}: {out.records} EDF records written, {n_records} expected: the store is damaged"
            )
    return path
