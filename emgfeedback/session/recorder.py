"""Record a live acquisition into the session store from a dedicated writer thread.

The acquisition's reader thread only puts blocks on a bounded queue (never blocks; a
full queue counts an overflow and the lost span is stored as a gap); the writer thread
packs them into chunk rows and commits every ``commit_interval`` seconds, so a crash or
``kill -9`` loses at most that much. The dashboard uses the same object::

    recorder = SessionRecorder(meta=SessionMeta(profile=profile.name)).attach(acquisition)
    recorder.event("marker", data={"text": "cue changed"})   # from the UI thread
    session_id = recorder.stop()                              # marks it complete
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emgfeedback.errors import StoreError
from emgfeedback.frontends import PRESETS
from emgfeedback.runtime.acquisition import Acquisition
from emgfeedback.runtime.blocks import Block
from emgfeedback.runtime.live import ProfileLike
from emgfeedback.session.store import SessionStore
from emgfeedback.session.writer import SessionWriter, WriterStats

_STOP = object()


@dataclass
class SessionMeta:
    """What the caller knows about a recording beyond the stream: who, which profile, which sensor board."""

    source: str = ""
    profile: str | None = None
    person: str | None = None
    frontend: str | None = None  # a front-end preset name, so raw counts can be exported in uV
    uv_per_count: float | None = None
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def describe_acquisition(acq: Acquisition, meta: SessionMeta) -> dict[str, Any]:
    """The stored ``meta`` JSON: stream info, firmware, the filter chain and bands actually used, units."""
    info = acq.info
    out: dict[str, Any] = {"source": meta.source, "note": meta.note, **meta.extra}
    scale = None
    if info is not None:
        out["stream"] = {
            "fs": info.fs,
            "channels": info.channels,
            "units": info.units,
            "channel_names": list(info.names),
            "adc_bits": info.adc_bits,
            "vref_mv": info.vref_mv,
            "description": info.description,
        }
        out["firmware"] = info.firmware
    if acq.pipeline is not None:
        out["filters"] = acq.pipeline.spec.to_dict()
        out["envelope_delay_ms"] = acq.pipeline.delay_ms
        out["cue_latency_ms"] = acq.pipeline.cue_latency_ms
        scale = acq.pipeline.scale
    if acq.engine is not None:
        bands = acq.engine.classifier.bands
        out["bands"] = {
            name: {"low": b.low, "high": b.high, "hysteresis": b.hysteresis, "dwell_ms": b.dwell_ms}
            for name, b in zip(acq.engine.names, bands, strict=True)
        }
        out["auto_hold"] = acq.engine.auto_start
    frontend = meta.frontend or ("simulated" if info is not None and info.firmware == "simulated" else None)
    uv = meta.uv_per_count
    if uv is None and scale is not None:
        uv = scale
    if uv is None and frontend in PRESETS and info is not None and info.adc_bits and info.units == "counts":
        uv = PRESETS[frontend].counts_to_uv(info.adc_bits, info.vref_mv or 5000.0)
    out["frontend"] = frontend
    out["raw_units"] = info.units if info is not None else "counts"
    out["uv_per_count"] = uv if out["raw_units"] == "counts" else None
    out["envelope_units"] = "uV" if scale is not None else out["raw_units"]
    return out


class SessionRecorder:
    """Writes the blocks of one acquisition (and UI events) to the store; see the module docstring."""

    def __init__(
        self,
        store_path: Path | str | None = None,
        meta: SessionMeta | None = None,
        *,
        commit_interval: float = 0.2,
        chunk_seconds: float = 0.25,
        queue_blocks: int = 4096,
        store_cues: bool = True,
    ) -> None:
        self.store_path = store_path
        self.meta = meta or SessionMeta()
        self.commit_interval = commit_interval
        self.chunk_seconds = chunk_seconds
        self.store_cues = store_cues
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=queue_blocks)
        self.acquisition: Acquisition | None = None
        self.writer: SessionWriter | None = None
        self.error: BaseException | None = None
        self.overflows = 0
        self.cpu_seconds = 0.0
        self.started = threading.Event()  # set once the session row exists
        self.finished = threading.Event()
        self._store: SessionStore | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._last_index = 0
        self.last_block: Block | None = None  # for status displays; never copied
        self._early_events: list[tuple[Any, ...]] = []
        self._dropped: list[tuple[int, int]] = []  # spans the queue had no room for (list.append is atomic)
        self._status = "complete"

    # --- control ---------------------------------------------------------------------------
    def attach(self, acquisition: Acquisition) -> SessionRecorder:
        """Record ``acquisition`` from now on (it may already be running); opens the store here,
        so a store error (newer schema, unwritable) raises in the caller."""
        self.acquisition = acquisition
        self._store = SessionStore(self.store_path)
        if acquisition.opened.is_set() and acquisition.info is not None:
            self._begin()
        acquisition.add_listener(self.on_block)
        self._thread = threading.Thread(target=self._run, name="emgfeedback-session-writer", daemon=True)
        self._thread.start()
        return self

    def on_block(self, block: Block) -> None:
        """The acquisition listener: hand the block over, never block."""
        if self._closed:
            return
        self._last_index = block.stop
        self.last_block = block
        try:
            self.queue.put_nowait(block)
        except queue.Full:
            self.overflows += 1
            self._dropped.append((block.start, block.stop))

    def event(self, kind: str, index: int | None = None, data: dict[str, Any] | None = None) -> None:
        """Store a UI event (marker, note, ...) at sample ``index`` (default: the latest sample); thread-safe."""
        if self._closed:
            return
        at = self._last_index if index is None else int(index)
        try:
            self.queue.put_nowait(("event", kind, at, dict(data or {}), time.time()))
        except queue.Full:
            self.overflows += 1

    def stop(self, status: str = "complete", timeout: float = 10.0) -> int | None:
        """Stop recording, commit what is queued and mark the session ``status``; returns its id."""
        if self._thread is None:
            return self.session_id
        if self.acquisition is not None:
            self.acquisition.remove_listener(self.on_block)
        self._closed = True
        self._status = status
        with contextlib.suppress(queue.Full):
            self.queue.put(_STOP, timeout=timeout)
        self._thread.join(timeout)
        return self.session_id

    # --- state -----------------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        """The store file, once attached."""
        return self._store.path if self._store is not None else None

    @property
    def session_id(self) -> int | None:
        return self.writer.session_id if self.writer is not None else None

    @property
    def stats(self) -> WriterStats:
        return self.writer.stats if self.writer is not None else WriterStats()

    @property
    def committed_index(self) -> int | None:
        return self.writer.committed_index if self.writer is not None else None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def status_text(self) -> str:
        """One short line for a status bar: session, recorded time, problems."""
        if self.error is not None:
            return f"stopped: {self.error}"
        w = self.writer
        if w is None or w.session_id is None:
            return "waiting for data"  # the session is stored with its first samples
        seconds = (w.committed_index or w.first_index or 0) - (w.first_index or 0)
        seconds = int(seconds / w.fs)
        text = f"session {w.session_id} {seconds // 60}:{seconds % 60:02d}"
        if w.stats.gaps:
            text += f", {w.stats.gaps} gaps"
        if self.overflows:
            text += f", {self.overflows} blocks dropped"
        return text

    def summary_line(self) -> str | None:
        """One line for the terminal once stopped, e.g. "session 12 recorded: 3 holds, 4 min 10 s"; None if nothing was."""
        w = self.writer
        if w is None or w.session_id is None:
            return None
        seconds = round(((w.committed_index or w.first_index or 0) - (w.first_index or 0)) / w.fs)
        length = f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
        gaps = f", {w.stats.gaps} gaps" if w.stats.gaps else ""
        return f"session {w.session_id} recorded: {w.holds} hold{'' if w.holds == 1 else 's'}, {length}{gaps}"

    # --- the writer thread -----------------------------------------------------------------
    def _begin(self) -> None:
        acq, store = self.acquisition, self._store
        assert acq is not None and acq.info is not None and store is not None
        names = acq.engine.names if acq.engine is not None else list(acq.info.names)
        stats = acq.source.stats
        self.writer = SessionWriter(
            store,
            fs=acq.info.fs,
            muscles=names,
            profile=self.meta.profile,
            person=self.meta.person,
            meta=describe_acquisition(acq, self.meta),
            chunk_seconds=self.chunk_seconds,
            store_cues=self.store_cues,
            gap_context=lambda: {"reconnects": stats.reconnects},
        )
        self.writer.overflow_ranges = self._dropped
        for _, kind, index, data, wall in self._early_events:
            self.writer.add_event(kind, index, data, wall)
        self._early_events.clear()
        self.started.set()

    def _handle(self, item: Any) -> None:
        if isinstance(item, Block):
            if self.writer is None:
                self._begin()
            assert self.writer is not None
            self.writer.add_block(item)
        elif self.writer is None:  # an event before the first block: keep it for the session
            self._early_events.append(item)
        else:
            _, kind, index, data, wall = item
            self.writer.add_event(kind, index, data, wall)

    def _run(self) -> None:
        deadline = time.monotonic() + self.commit_interval
        stopping = False
        try:
            while not stopping:
                timeout = max(deadline - time.monotonic(), 0.0)
                try:
                    item = self.queue.get(timeout=timeout)
                except queue.Empty:
                    item = None
                while item is not None:
                    if item is _STOP:
                        stopping = True
                        break
                    self._handle(item)
                    try:
                        item = self.queue.get_nowait()
                    except queue.Empty:
                        item = None
                if time.monotonic() >= deadline or stopping:
                    if self.writer is not None:
                        self.writer.commit(force=False)
                    deadline = time.monotonic() + self.commit_interval
                self.cpu_seconds = time.thread_time()
            if self.writer is not None:
                self.writer.finish(self._status)
        except (StoreError, Exception) as exc:  # noqa: BLE001 - reported through .error; the thread ends cleanly
            self.error = exc
            self._closed = True
            if self.writer is not None and self.writer.session_id is not None:
                with contextlib.suppress(Exception):
                    self._store.set_status(self.writer.session_id, "interrupted")  # type: ignore[union-attr]
        finally:
            self.cpu_seconds = time.thread_time()
            if self._store is not None:
                with contextlib.suppress(Exception):
                    self._store.close()
            self.started.set()
            self.finished.set()


def dashboard_recorder_factory(
    profile: ProfileLike | None = None, store_path: Path | str | None = None
) -> Callable[[Acquisition], SessionRecorder]:
    """What the dashboard calls when recording is switched on: ``factory(acquisition) -> recorder``."""
    name = profile.name if profile is not None else None

    def factory(acquisition: Acquisition) -> SessionRecorder:
        meta = SessionMeta(source=acquisition.source.description, profile=name)
        return SessionRecorder(store_path, meta).attach(acquisition)

    return factory
