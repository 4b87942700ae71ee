"""Publish a live run on Lab Streaming Layer: raw EMG, %MVC + band states, and event markers.

Three outlets, named after ``--lsl-name NAME`` (default ``emgfeedback``):

- ``NAME`` (type ``EMG``): the raw samples at the device's rate, channels labelled with the muscles;
- ``NAME-mvc`` (type ``MVC``): %MVC per muscle, the band state per muscle (0 no signal, 1 below,
  2 in band, 3 over-clench) and ``hold_s`` (seconds into the running hold, NaN between holds);
- ``NAME-markers`` (type ``Markers``, irregular): ``hold-start N``, ``hold-stop N``, ``cue KIND [MUSCLE]``
  (program steps too: ``cue get-ready``, ``cue go``, ``cue rest``, ``cue done``), ``rep PROGRAM/EXERCISE set S rep R
  success|failed|aborted``,
  ``overclench-start MUSCLE``, ``overclench-end MUSCLE``, ``gap N`` (samples the device lost) and whatever
  :meth:`LslPublisher.marker` is given (rep and program events from other parts of the program).

Timestamps are acquisition times: the sample index mapped onto the LSL clock through the least-delayed
arrival seen (so buffering and jitter do not shift them), back-dated by the source's device delay.
The publisher is an Acquisition listener: it runs in the reader thread and only pushes (never blocks).
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from emgfeedback.feedback import Cue, CueEvent, HoldSummary, State
from emgfeedback.frontends import PRESETS
from emgfeedback.io import extras
from emgfeedback.runtime.acquisition import Acquisition
from emgfeedback.runtime.blocks import Block

DEFAULT_NAME = "emgfeedback"

#: XDF unit names for the units our sources state.
XDF_UNITS = {"uV": "microvolts", "mV": "millivolts", "V": "volts", "counts": "counts"}


def source_id(device: str, profile: str | None, kind: str) -> str:
    """A source id that stays the same for one device and profile, so LabRecorder and inlets reconnect."""
    digest = hashlib.sha1(f"{device}|{profile or ''}".encode()).hexdigest()[:12]
    return f"emgfeedback-{digest}-{kind}"


class SampleClock:
    """Maps absolute sample indices onto the LSL clock.

    The anchor (the LSL time of sample 0) is the earliest one the arrivals of the last ``window_s`` seconds
    allow: each arrival minus its samples' nominal span. The least-delayed arrival carries no buffering or
    scheduling delay, and the sliding window lets the anchor follow a device clock that runs slower or faster
    than the host's. ``delay_s`` (the device's own delay before its samples reach the wire) is subtracted.
    """

    def __init__(self, fs: float, delay_s: float = 0.0, *, window_s: float = 5.0) -> None:
        self.fs = fs
        self.delay_s = delay_s
        self.window_s = window_s
        self._candidates: deque[tuple[float, float]] = deque()  # (arrival, anchor it allows), anchors increasing

    @property
    def anchor(self) -> float | None:
        return self._candidates[0][1] if self._candidates else None

    def observe(self, last_index: int, now: float) -> None:
        """Sample ``last_index`` has just arrived at LSL time ``now``."""
        candidate = now - last_index / self.fs
        q = self._candidates
        while q and q[-1][1] >= candidate:  # a later arrival that allows an earlier anchor replaces them
            q.pop()
        q.append((now, candidate))
        while len(q) > 1 and q[0][0] < now - self.window_s:
            q.popleft()

    def times(self, indices: np.ndarray | int) -> np.ndarray:
        """LSL timestamps of the samples ``indices``."""
        anchor = self.anchor
        assert anchor is not None, "observe() an arrival first"
        return anchor + np.asarray(indices, dtype=np.float64) / self.fs - self.delay_s


@dataclass(frozen=True)
class StreamLayout:
    """What the outlets are built from: the stream, the muscles, who publishes it."""

    name: str
    device: str
    profile: str | None
    fs: float
    muscles: tuple[str, ...]
    units: str
    uv_per_count: float | None = None
    bands: tuple[tuple[float, float], ...] = ()  # (low, high) %MVC per muscle


def _describe(info: Any, labels: Sequence[str], units: Sequence[str], types: Sequence[str]) -> None:
    """desc/channels/channel/{label, unit, type} (the XDF meta-data layout) and desc/acquisition."""
    channels = info.desc.append_child("channels")
    for label, unit, kind in zip(labels, units, types, strict=True):
        ch = channels.append_child("channel")
        ch.append_child_value("label", label)
        ch.append_child_value("unit", unit)
        ch.append_child_value("type", kind)
    acquisition = info.desc.append_child("acquisition")
    acquisition.append_child_value("manufacturer", "emgfeedback")
    acquisition.append_child_value("model", "emgfeedback live")


def build_outlets(layout: StreamLayout, delay_s: float) -> tuple[Any, Any, Any]:
    """The three outlets (raw, mvc, markers) for ``layout``."""
    lsl = extras.lsl()
    n = len(layout.muscles)
    raw = lsl.StreamInfo(layout.name, "EMG", n, layout.fs, "float32", source_id(layout.device, layout.profile, "emg"))
    unit = XDF_UNITS.get(layout.units, layout.units)
    _describe(raw, layout.muscles, [unit] * n, ["EMG"] * n)
    if layout.uv_per_count is not None and layout.units == "counts":
        channels = raw.desc.child("channels")
        ch = channels.first_child()
        while not ch.empty():
            ch.append_child_value("scaling_factor", f"{layout.uv_per_count:.9g}")  # microvolts per count
            ch = ch.next_sibling()
    raw.desc.child("acquisition").append_child_value("compensated_lag", f"{delay_s:.6f}")
    mvc = lsl.StreamInfo(
        f"{layout.name}-mvc", "MVC", 2 * n + 1, layout.fs, "float32", source_id(layout.device, layout.profile, "mvc")
    )
    labels = [*(f"{m}_pct_mvc" for m in layout.muscles), *(f"{m}_state" for m in layout.muscles), "hold_s"]
    _describe(mvc, labels, ["percent"] * n + ["state"] * n + ["seconds"], ["MVC"] * n + ["State"] * n + ["Timer"])
    states = mvc.desc.append_child("states")
    for state in State:
        states.append_child_value(state.key, str(int(state)))
    mvc.desc.append_child_value("athlete", layout.name)
    bands = mvc.desc.append_child("bands")
    for muscle, (low, high) in zip(layout.muscles, layout.bands, strict=False):
        band = bands.append_child("band")
        band.append_child_value("muscle", muscle)
        band.append_child_value("low", f"{low:g}")
        band.append_child_value("high", f"{high:g}")
    markers = lsl.StreamInfo(
        f"{layout.name}-markers", "Markers", 1, 0.0, "string", source_id(layout.device, layout.profile, "markers")
    )
    _describe(markers, ["event"], ["none"], ["Marker"])
    return lsl.StreamOutlet(raw), lsl.StreamOutlet(mvc), lsl.StreamOutlet(markers)


def cue_marker(cue: CueEvent, hold_number: int) -> str:
    """The marker text of one cue decision."""
    if cue.cue is Cue.HOLD_START:
        return f"hold-start {hold_number}"
    if cue.cue is Cue.HOLD_END:
        return f"hold-stop {hold_number}"
    return f"cue {cue.cue.value}" + (f" {cue.muscle}" if cue.muscle else "")


def rep_marker(hold: HoldSummary) -> str:
    """The marker text of a program rep as it ends: ``rep PROGRAM/EXERCISE set S rep R success|failed|aborted``."""
    t = hold.tags
    outcome = "aborted" if t.get("aborted") else ("success" if t.get("success") else "failed")
    return f"rep {t.get('program', '')}/{t.get('exercise', '')} set {t.get('set', '')} rep {t.get('rep', '')} {outcome}"


class LslPublisher:
    """Publishes every block of the acquisitions it is attached to (one at a time) on three LSL outlets.

    ``device`` names the source (e.g. ``/dev/ttyACM0``) for the stable source ids; the profile's name is
    taken from the acquisition. Outlets are made when the first block arrives (the rate and muscles are
    known then) and kept across re-attachments with the same layout.
    """

    def __init__(self, name: str = DEFAULT_NAME, *, device: str, clock: Callable[[], float] | None = None) -> None:
        extras.lsl()  # refuse now, with the install hint, rather than in the reader thread
        self.name = name
        self.device = device
        self._clock_fn = clock
        self.acq: Acquisition | None = None
        self.profile: str | None = None
        self.frontend: str | None = None
        self.layout: StreamLayout | None = None
        self.outlets: tuple[Any, Any, Any] | None = None
        self.clock: SampleClock | None = None
        self.samples = 0
        self.markers_sent = 0
        self.error: str | None = None
        self._lock = threading.Lock()  # guards the markers outlet (pushed from the reader and other threads)
        self._hold_from: int | None = None
        self._hold_number = 0
        self._over: np.ndarray | None = None
        self._expected: int | None = None

    @property
    def publishing(self) -> bool:
        """True once the outlets exist (the dashboard's "LSL on" indicator)."""
        return self.outlets is not None

    def describe(self) -> str:
        """The streams, for a status line."""
        return (
            f"{self.name} (EMG), {self.name}-mvc (MVC), {self.name}-markers (Markers); visible to every machine on this network"
        )

    def now(self) -> float:
        if self._clock_fn is None:
            self._clock_fn = extras.lsl().local_clock
        return self._clock_fn()

    def attach(self, acq: Acquisition, *, profile: str | None = None, frontend: str | None = None) -> LslPublisher:
        """Publish ``acq`` (detaching from the previous one); ``frontend`` (a sensor-board preset) gives the
        counts->uV scale when the profile does not. Returns self."""
        self.detach()
        self.acq, self.profile, self.frontend = acq, profile, frontend
        self.clock = None
        self._hold_from, self._hold_number, self._over, self._expected = None, 0, None, None
        acq.add_listener(self._on_block)
        return self

    def detach(self) -> None:
        if self.acq is not None:
            self.acq.remove_listener(self._on_block)
            self.acq = None

    def close(self) -> None:
        """Stop publishing and destroy the outlets (inlets see the streams go)."""
        self.detach()
        with self._lock:
            self.outlets = None
            self.layout = None

    def marker(self, text: str, index: int | None = None) -> None:
        """Push one marker (any thread); at sample ``index`` when given, else now."""
        outlets = self.outlets
        if outlets is None:
            return
        clock = self.clock
        stamp = float(clock.times(index)) if index is not None and clock is not None and clock.anchor is not None else self.now()
        with self._lock:
            outlets[2].push_sample([text], stamp)
            self.markers_sent += 1

    # --- the reader thread ---------------------------------------------------------------------------
    def _ensure_outlets(self) -> bool:
        acq = self.acq
        if acq is None or acq.info is None or acq.engine is None:
            return False
        info = acq.info
        bands = tuple((b.low, b.high) for b in acq.engine.classifier.bands)
        names = tuple(acq.engine.names)
        layout = StreamLayout(self.name, self.device, self.profile, info.fs, names, info.units, self._scale(), bands)
        delay = acq.source.device_delay_s
        if self.clock is None:
            self.clock = SampleClock(info.fs, delay)
        if layout != self.layout:
            with self._lock:
                self.outlets = build_outlets(layout, delay)
                self.layout = layout
        return True

    def _scale(self) -> float | None:
        """Microvolts per count: the profile's scale, else the front-end preset's, else unknown."""
        acq = self.acq
        if acq is None or acq.info is None:
            return None
        if acq.pipeline is not None and acq.pipeline.scale is not None:
            return float(acq.pipeline.scale)
        preset = PRESETS.get(self.frontend or "")
        if preset is not None and acq.info.adc_bits:
            return preset.counts_to_uv(acq.info.adc_bits, acq.info.vref_mv or 5000.0)
        return None

    def _on_block(self, block: Block) -> None:
        try:
            self._publish(block)
        except Exception as exc:  # noqa: BLE001 - a failing outlet must not stop the acquisition
            self.error = str(exc) or type(exc).__name__

    def _publish(self, block: Block) -> None:
        if not self._ensure_outlets():
            return
        assert self.clock is not None and self.outlets is not None and self.layout is not None
        raw_out, mvc_out, _ = self.outlets
        n = block.raw.shape[0]
        cues = block.feedback.cues if block.feedback is not None else []
        if n:
            self.clock.delay_s = self.acq.source.device_delay_s if self.acq is not None else 0.0  # measured, may change
            self.clock.observe(block.stop - 1, self.now())
        if self.clock.anchor is None:  # markers before the first sample: nothing to date them by yet
            return
        if n:
            stamps = self.clock.times(np.arange(block.start, block.stop))
            hold = self._hold_seconds(block.start, n, cues)
            mvc = np.hstack([block.percent, block.states.astype(np.float64), hold[:, None]]).astype(np.float32)
            raw = np.ascontiguousarray(block.raw, dtype=np.float32)
            if n == 1:  # one line of a text stream: mne-lsl wants push_sample for a single sample
                raw_out.push_sample(raw[0], float(stamps[0]))
                mvc_out.push_sample(np.ascontiguousarray(mvc[0]), float(stamps[0]))
            else:
                raw_out.push_chunk(raw, stamps)
                mvc_out.push_chunk(np.ascontiguousarray(mvc), stamps)
            self.samples += n
        else:
            self._hold_seconds(block.start, 0, cues)
        events = [(c.index, self._cue_text(c)) for c in cues]
        events += self._overclench(block)
        if block.feedback is not None:  # program reps end with their outcome (their cues go out as cues)
            events += [(h.stop_index, rep_marker(h)) for h in block.feedback.finished_holds if h.tags]
        if n and self._expected is not None and block.start > self._expected:  # samples the device lost
            events.append((self._expected, f"gap {block.start - self._expected}"))
        if n:
            self._expected = block.stop
        for index, text in sorted(events, key=lambda e: e[0]):
            self.marker(text, index)

    def _cue_text(self, cue: CueEvent) -> str:
        if cue.cue is Cue.HOLD_START:
            self._hold_number += 1
        return cue_marker(cue, self._hold_number)

    def _hold_seconds(self, start: int, n: int, cues: list[CueEvent]) -> np.ndarray:
        """Seconds into the running hold at each sample of the block (NaN between holds)."""
        assert self.layout is not None
        idx = np.arange(start, start + n)
        out = np.full(n, np.nan)
        since = self._hold_from
        pos = start
        for cue in cues:
            if cue.cue is Cue.HOLD_END and since is not None:
                mask = (idx >= max(pos, since)) & (idx < cue.index)
                out[mask] = (idx[mask] - since) / self.layout.fs
                since, pos = None, cue.index
            elif cue.cue is Cue.HOLD_START:
                since = cue.index
        if since is not None:
            mask = idx >= since
            out[mask] = (idx[mask] - since) / self.layout.fs
        self._hold_from = since
        return out

    def _overclench(self, block: Block) -> list[tuple[int, str]]:
        """Start and end of each over-clench episode (runs of the OVER state) per muscle."""
        assert self.layout is not None
        states = block.states
        if states.shape[0] == 0:
            return []
        over = states == State.OVER
        if self._over is None:
            self._over = np.zeros(over.shape[1], dtype=bool)
        prev = self._over
        if not over.any() and not prev.any():
            return []
        out: list[tuple[int, str]] = []
        full = np.vstack([prev[None, :], over]).astype(np.int8)
        rows, cols = np.nonzero(np.diff(full, axis=0))
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            kind = "start" if over[r, c] else "end"
            out.append((block.start + r, f"overclench-{kind} {self.layout.muscles[c]}"))
        self._over = over[-1].copy()
        return out
