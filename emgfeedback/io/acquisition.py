"""One reader thread: source -> pipeline -> ring buffer, with status and events for the UI.

The thread never waits on its consumers: the UI pulls from the ring buffer on a
timer, and listeners (the session recorder) must not block (they get a queue).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from emgfeedback.config import StreamInfo
from emgfeedback.dsp.pipeline import Pipeline
from emgfeedback.dsp.quality import QualityMonitor, QualityReport
from emgfeedback.feedback import CueEvent, FeedbackEngine, FeedbackUpdate, HoldSummary
from emgfeedback.io.ringbuffer import RingBuffer
from emgfeedback.io.sources import Source, SourceStats

FIELDS = ("raw", "filtered", "envelope", "percent", "state")


@dataclass(frozen=True)
class Block:
    """One processed chunk, as handed to listeners; ``feedback`` is None without a feedback engine."""

    start: int
    raw: np.ndarray
    filtered: np.ndarray
    envelope: np.ndarray
    percent: np.ndarray
    feedback: FeedbackUpdate | None = None

    @property
    def states(self) -> np.ndarray:
        """Band state per sample (int8 :class:`~emgfeedback.feedback.State` values)."""
        if self.feedback is None:
            return np.zeros(self.percent.shape, dtype=np.int8)
        return self.feedback.states

    @property
    def stop(self) -> int:
        return self.start + int(self.raw.shape[0])


@dataclass(frozen=True)
class Event:
    """Something that happened in the stream: ``gap``, ``error``, ``end``, ``open``."""

    kind: str
    index: int
    message: str = ""
    length: int = 0
    wall_time: float = field(default_factory=time.time)


PipelineFactory = Callable[[StreamInfo], Pipeline]
FeedbackFactory = Callable[[StreamInfo], FeedbackEngine]


class Acquisition:
    """Runs ``source`` in a thread, processing every chunk with the pipeline ``factory`` builds
    and, when ``feedback`` is given, the feedback engine it builds (states, holds, cues)."""

    def __init__(
        self,
        source: Source,
        factory: PipelineFactory,
        *,
        feedback: FeedbackFactory | None = None,
        ring_seconds: float = 60.0,
        mains_hz: float | None = 50.0,
    ) -> None:
        self.source = source
        self.factory = factory
        self.feedback_factory = feedback
        self.engine: FeedbackEngine | None = None
        self._cues: list[CueEvent] = []
        self._holds: list[HoldSummary] = []
        self.ring_seconds = ring_seconds
        self.mains_hz = mains_hz
        self.ring: RingBuffer | None = None
        self.pipeline: Pipeline | None = None
        self.quality: QualityMonitor | None = None
        self.info: StreamInfo | None = None
        self.error: str | None = None
        self.finished = threading.Event()
        self.opened = threading.Event()
        self._listeners: list[Callable[[Block], None]] = []
        self._events: list[Event] = []
        self._events_lock = threading.Lock()
        self._quality_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._expected = 0
        self.samples = 0

    # --- control -------------------------------------------------------------------------
    def add_listener(self, callback: Callable[[Block], None]) -> None:
        """Call ``callback(block)`` in the reader thread for every block; it must not block."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[Block], None]) -> None:
        """Stop calling ``callback`` (a no-op if it is not registered)."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(callback)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="emgfeedback-acquisition", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close the source; returns once both are done (or on timeout)."""
        self._stop.set()
        self.source.interrupt()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- what the UI reads ------------------------------------------------------------------
    @property
    def stats(self) -> SourceStats:
        return self.source.stats

    def drain_events(self) -> list[Event]:
        with self._events_lock:
            out, self._events = self._events, []
        return out

    def drain_cues(self) -> list[CueEvent]:
        """Cue decisions since the last call (the UI plays them)."""
        with self._events_lock:
            out, self._cues = self._cues, []
        return out

    def drain_holds(self) -> list[HoldSummary]:
        """Holds finished since the last call."""
        with self._events_lock:
            out, self._holds = self._holds, []
        return out

    def start_hold(self) -> None:
        """Start a backbend hold at the next sample processed (thread-safe)."""
        if self.engine is not None:
            self.engine.start_hold()

    def stop_hold(self) -> None:
        """End the running hold at the next sample processed (thread-safe)."""
        if self.engine is not None:
            self.engine.stop_hold()

    def quality_report(self) -> QualityReport | None:
        if self.quality is None:
            return None
        with self._quality_lock:
            return self.quality.report()

    # --- the thread ----------------------------------------------------------------------------
    def _event(self, kind: str, message: str = "", length: int = 0) -> None:
        with self._events_lock:
            self._events.append(Event(kind, self._expected, message, length))

    def _run(self) -> None:
        try:
            self.source.open()
            info = self.source.info
            self.info = info
            self.pipeline = self.factory(info)
            if self.feedback_factory is not None:
                self.engine = self.feedback_factory(info)
            self.ring = RingBuffer(max(int(self.ring_seconds * info.fs), 1), info.channels, FIELDS)
            self.quality = QualityMonitor(
                info.fs,
                info.channels,
                adc_max=info.adc_max,
                mains_hz=self.mains_hz if self.mains_hz and self.mains_hz < info.fs / 2 else None,
            )
            self.opened.set()
            self._event("open", info.description)
            while not self._stop.is_set():
                chunk = self.source.read(0.05)
                if chunk is None or chunk.samples.shape[0] == 0:
                    continue
                self._handle(chunk.start, chunk.samples)
        except EOFError as exc:
            self._event("end", str(exc))
        except Exception as exc:  # noqa: BLE001 - any failure ends the thread cleanly and is reported
            self.error = str(exc) or type(exc).__name__
            self._event("error", self.error)
        finally:
            try:
                self.source.close()
            finally:
                self.opened.set()
                self.finished.set()

    def _handle(self, start: int, raw: np.ndarray) -> None:
        assert self.pipeline is not None and self.ring is not None and self.quality is not None
        if start > self._expected:
            gap = start - self._expected
            self._event("gap", f"{gap} samples missing", gap)
            if gap >= self.pipeline.spec.window_samples:
                self.pipeline.reset()
        out = self.pipeline.process(raw)
        update = None
        if self.engine is not None:
            update = self.engine.process(start, out.percent)
            if update.cues or update.finished_holds:
                with self._events_lock:
                    self._cues.extend(update.cues)
                    self._holds.extend(update.finished_holds)
        block = Block(start, raw, out.filtered, out.envelope, out.percent, update)
        fields = {"raw": raw, "filtered": out.filtered, "envelope": out.envelope, "percent": out.percent}
        self.ring.write({**fields, "state": block.states}, start=start)
        with self._quality_lock:
            self.quality.update(raw)
        self._expected = block.stop
        self.samples += raw.shape[0]
        for listener in self._listeners:
            listener(block)
