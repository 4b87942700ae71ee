"""Read any Lab Streaming Layer stream as a source: ``lsl:NAME``, ``lsl:type=EMG`` or ``lsl:source_id=ID``.

Channel names and units come from the stream's description (desc/channels/channel/label, unit). Sample
indices are absolute, derived from the timestamps and the nominal rate: a jump in the timestamps becomes a
gap, while jitter (chunked pushes stamped at push time) is tolerated. When the outlet goes and comes back
(liblsl reconnects it by its source id; a sender without one is looked for again by the same query), the
silence is recorded as a gap and a reconnect.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from emgfeedback.config import StreamInfo
from emgfeedback.errors import SourceError
from emgfeedback.io import extras
from emgfeedback.io.sources import Chunk, LeastDelay, Source

#: XDF unit names -> the units our StreamInfo states.
#: How long a look for a lost stream listens for answers: liblsl needs about 0.5 s, so shorter looks miss it.
REOPEN_RESOLVE_S = 1.0

UNITS = {"microvolts": "uV", "microvolt": "uV", "uv": "uV", "millivolts": "mV", "mv": "mV", "volts": "V", "v": "V"}


@dataclass(frozen=True)
class LslQuery:
    """Which stream an ``lsl:`` spec asks for (exactly one key is set)."""

    name: str | None = None
    stype: str | None = None
    source_id: str | None = None

    @classmethod
    def parse(cls, text: str) -> LslQuery:
        """``NAME``, ``name=NAME``, ``type=TYPE`` or ``source_id=ID``."""
        if not text:
            raise SourceError("lsl: needs a stream: use lsl:NAME, lsl:type=EMG or lsl:source_id=ID")
        key, sep, value = text.partition("=")
        if not sep:
            return cls(name=text)
        keys = {"name": "name", "type": "stype", "source_id": "source_id"}
        if key not in keys or not value:
            raise SourceError(f"lsl:{text} is not a stream query: use lsl:NAME, lsl:type=EMG or lsl:source_id=ID")
        return cls(**{keys[key]: value})

    def __str__(self) -> str:
        if self.name is not None:
            return f"named {self.name!r}"
        if self.stype is not None:
            return f"of type {self.stype!r}"
        return f"with source id {self.source_id!r}"


def list_streams(timeout: float = 2.0) -> list[dict[str, Any]]:
    """Every LSL stream found within ``timeout`` seconds: name, type, channels, rate, host, source id."""
    lsl = extras.lsl()
    found = lsl.resolve_streams(timeout=timeout)
    rows = [
        {
            "name": i.name,
            "type": i.stype,
            "channels": i.n_channels,
            "fs": i.sfreq,
            "host": i.hostname,
            "source_id": i.source_id,
            "source": f"lsl:{i.name}",
        }
        for i in found
    ]
    return sorted(rows, key=lambda r: (r["type"] not in ("EMG", "EXG", "EEG"), r["name"]))


def channel_labels(info: Any) -> tuple[list[str], list[str]]:
    """(labels, units) from an LSL stream description; empty strings where the stream says nothing."""
    n = info.n_channels
    names = info.get_channel_names() or []
    units = info.get_channel_units() or []
    labels = [str(x) if x else "" for x in names][:n]
    unit_list = [str(x) if x else "" for x in units][:n]
    return labels + [""] * (n - len(labels)), unit_list + [""] * (n - len(unit_list))


class IndexFromTimestamps:
    """Absolute sample indices from LSL timestamps at a nominal rate.

    A chunk continues the stream unless its first timestamp is more than ``gap_s`` later than the next
    expected sample, in which case the missing span is a gap. The time anchor follows slow drift.
    """

    def __init__(self, fs: float, gap_s: float = 0.05) -> None:
        self.fs = fs
        self.tolerance = max(gap_s * fs, 2.0)
        self.anchor: float | None = None  # LSL time of index 0
        self.next = 0

    def already_seen(self, stamps: np.ndarray) -> int:
        """How many leading samples of a chunk lie before the stream's end so far (more than the tolerance):
        an outlet replays its backlog to a new inlet, and those samples were delivered already."""
        if self.anchor is None:
            return 0
        late = (stamps - self.anchor) * self.fs < self.next - self.tolerance
        return int(np.argmin(late)) if not late.all() else int(late.size)

    def place(self, first_stamp: float, n: int) -> tuple[int, int]:
        """(start index, gap length) of a chunk of ``n`` samples whose first timestamp is ``first_stamp``."""
        if self.anchor is None:
            self.anchor = first_stamp
        ahead = (first_stamp - self.anchor) * self.fs - self.next
        gap = round(ahead) if ahead > self.tolerance else 0
        start = self.next + gap
        residual = (first_stamp - self.anchor) * self.fs - start
        self.anchor += 0.05 * residual / self.fs  # follow drift and clock corrections slowly
        self.next = start + n
        return start, gap


class LslSource(Source):
    """An LSL inlet on the first stream matching ``query`` (resolved within ``resolve_s``)."""

    #: Seconds without samples after which the outlet counts as gone (the next data is a reconnect).
    SILENT_S = 1.0

    def __init__(self, query: str, *, resolve_s: float = 10.0, fs: float | None = None) -> None:
        super().__init__()
        self.query = LslQuery.parse(query)
        self.spec = f"lsl:{query}"
        self.resolve_s = resolve_s
        self.fs_override = fs
        self.inlet: Any = None
        self._connected = False
        self._index: IndexFromTimestamps | None = None
        self._last_data = 0.0
        self._delay = LeastDelay()
        self._clock: Any = None
        self._recoverable = True  # liblsl reconnects by itself only to a stream with a source id
        self._next_look = 0.0

    def open(self) -> None:
        lsl = extras.lsl()
        q = self.query
        found = lsl.resolve_streams(timeout=self.resolve_s, name=q.name, stype=q.stype, source_id=q.source_id, minimum=1)
        if not found:
            raise SourceError(
                f"no LSL stream {q} found within {self.resolve_s:g} s: start the sender (e.g. emgfeedback live --lsl) "
                "or list the streams with emgfeedback devices --lsl"
            )
        inlet = lsl.StreamInlet(found[0], max_buffered=60, recover=True, processing_flags=["clocksync"])
        inlet.open_stream(timeout=self.resolve_s)
        self.inlet = inlet  # closed by close() if the stream is refused below
        sinfo = inlet.get_sinfo(timeout=self.resolve_s)  # the full description (a resolve result has none)
        self._recoverable = bool(sinfo.source_id)
        fs = self.fs_override or sinfo.sfreq
        if not fs:
            raise SourceError(f"LSL stream {sinfo.name!r} has an irregular rate (a marker stream): pick a signal stream")
        if sinfo.dtype is str:
            raise SourceError(f"LSL stream {sinfo.name!r} carries text, not samples: pick a signal stream")
        labels, units = channel_labels(sinfo)
        names = tuple(label or f"ch{i}" for i, label in enumerate(labels))
        known = {UNITS.get(u.lower(), u) for u in units if u}
        unit = known.pop() if len(known) == 1 else ("mixed" if known else "counts")
        if len(set(names)) != len(names):
            names = tuple(f"{n}_{i}" for i, n in enumerate(names))
        self._info = StreamInfo(
            fs=float(fs),
            channels=sinfo.n_channels,
            units=unit,
            channel_names=names,
            description=f"lsl:{sinfo.name} ({sinfo.stype}, {sinfo.hostname or 'this machine'})",
        )
        self._index = IndexFromTimestamps(float(fs))
        self._clock = lsl.local_clock
        self._stop.clear()
        self._connected = True
        self._last_data = time.monotonic()

    @property
    def connected(self) -> bool:
        """Whether the outlet delivers right now (False while it is gone and being looked for)."""
        return self._connected

    @property
    def format_name(self) -> str:
        return "lsl"

    def read(self, timeout: float = 0.1) -> Chunk | None:
        if self._info is None:
            self.open()
        assert self._index is not None
        if self._stop.is_set():
            return None
        if self.inlet is None:  # the stream was lost: look for it again (the same query)
            self._reopen(timeout)
            return None
        try:
            samples, stamps = self._pull(timeout)
        except Exception:  # noqa: BLE001 - liblsl's "stream lost" (a sender without a source id went away)
            self._drop_inlet()
            return None
        now = time.monotonic()
        if samples is None:
            if self._connected and now - self._last_data > self.SILENT_S:
                self._connected = False
            if not self._connected and not self._recoverable and now >= self._next_look:
                self._next_look = now + self.SILENT_S  # without a source id, look for the sender again ourselves
                self._drop_inlet()
            return None
        resumed = not self._connected
        if resumed:
            self._connected = True
            self.stats.reconnects += 1
        self._last_data = now
        self._delay.add(now, float(self._clock()) - float(stamps[-1]))  # the sender's stamp to our arrival
        seen = self._index.already_seen(stamps)
        if seen:
            samples, stamps = samples[seen:], stamps[seen:]
            if not len(stamps):
                return None
        start, gap = self._index.place(float(stamps[0]), samples.shape[0])
        if gap:
            self.stats.gaps.append((start - gap, gap))
            if not resumed:  # samples missing from a running stream (a silent outlet's span is a reconnect gap)
                self.stats.lost += gap
        self.stats.frames += samples.shape[0]
        return Chunk(start, samples)

    @property
    def device_delay_s(self) -> float:
        """Measured: the least delay from the sender's timestamps to arrival here over the last seconds."""
        return self._delay.value

    def _drop_inlet(self) -> None:
        inlet, self.inlet = self.inlet, None
        self._connected = False
        if inlet is not None:
            with contextlib.suppress(Exception):
                inlet.close_stream()

    def _reopen(self, timeout: float) -> None:
        """Resolve the query again (for at most ``timeout`` s); the same rate and channel count, or an error."""
        lsl = extras.lsl()
        q = self.query
        wait = max(timeout, REOPEN_RESOLVE_S)
        found = lsl.resolve_streams(timeout=wait, name=q.name, stype=q.stype, source_id=q.source_id, minimum=1)
        if not found:
            return
        info = self.info
        sinfo = found[0]
        if sinfo.n_channels != info.channels or (self.fs_override is None and sinfo.sfreq != info.fs):
            raise SourceError(
                f"{self.spec} came back with {sinfo.n_channels} channels at {sinfo.sfreq:g} Hz instead of "
                f"{info.channels} at {info.fs:g} Hz: restart emgfeedback for the new stream"
            )
        inlet = lsl.StreamInlet(sinfo, max_buffered=60, recover=True, processing_flags=["clocksync"])
        inlet.open_stream(timeout=self.resolve_s)
        self._recoverable = bool(sinfo.source_id)
        self.inlet = inlet  # data after this counts as a reconnect

    def _pull(self, timeout: float) -> tuple[np.ndarray | None, np.ndarray]:
        """Whatever has arrived, waiting up to ``timeout`` only for the first sample (a chunk pull with a timeout
        would wait for a full buffer and add its timeout to the latency)."""
        inlet = self.inlet
        data, stamps = inlet.pull_chunk(timeout=0.0, max_samples=4096)
        if len(stamps):
            return np.array(data, dtype=np.float64), np.array(stamps, dtype=np.float64)  # copies: mne-lsl reuses buffers
        sample, stamp = inlet.pull_sample(timeout=max(timeout, 0.0))
        if stamp is None or sample is None or len(sample) == 0:
            return None, np.empty(0)
        first = np.array(sample, dtype=np.float64)[None, :]
        data, stamps = inlet.pull_chunk(timeout=0.0, max_samples=4096)
        if len(stamps):
            rest = np.array(data, dtype=np.float64).reshape(len(stamps), -1)
            return np.vstack([first, rest]), np.concatenate([[float(stamp)], np.asarray(stamps, dtype=np.float64)])
        return first, np.array([float(stamp)])

    def close(self) -> None:
        super().close()
        inlet, self.inlet = self.inlet, None
        if inlet is not None:
            inlet.close_stream()
            del inlet
