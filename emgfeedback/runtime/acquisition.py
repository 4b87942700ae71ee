"""One reader thread: source -> pipeline -> feedback -> ring buffer, listeners and snapshots.

The thread never waits on its consumers: the UI pulls from the ring buffer and the latest
snapshot on a timer, listeners (the session recorder) must not block, and other threads
steer it only through :meth:`Acquisition.send`. See :mod:`emgfeedback.runtime` for the
whole thread contract.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import threading
from collections.abc import Callable

import numpy as np

from emgfeedback.config import StreamInfo
from emgfeedback.dsp.pipeline import Pipeline
from emgfeedback.dsp.quality import QualityMonitor, QualityReport
from emgfeedback.feedback import CueEvent, FeedbackEngine, HoldSummary
from emgfeedback.io.sources import Chunk, Source, SourceStats
from emgfeedback.runtime.blocks import Block, Event, HoldView, LiveSnapshot
from emgfeedback.runtime.commands import (
    Command,
    PauseProgram,
    SetAutoStart,
    StartHold,
    StartProgram,
    StopHold,
    StopProgram,
    ToggleHold,
)
from emgfeedback.runtime.program import ProgramDriver, slices, split_points
from emgfeedback.runtime.ringbuffer import RingBuffer

FIELDS = ("raw", "filtered", "envelope", "percent", "state")
#: Events kept for ``drain_events`` (the oldest go first when nobody drains them).
MAX_EVENTS = 10_000


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
        batch_s: float = 0.0,
    ) -> None:
        self.source = source
        self.batch_s = batch_s  # chunks are gathered up to this much signal before processing (0: each at once)
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
        self._listeners_lock = threading.Lock()
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._snapshot = LiveSnapshot()
        self._events: collections.deque[Event] = collections.deque(maxlen=MAX_EVENTS)  # nobody may drain them
        self._events_lock = threading.Lock()
        self._quality_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._expected = 0
        self.samples = 0
        self.program: ProgramDriver | None = None  # reader thread only; the screen reads snapshot().program
        self.held = 0  # implausible input values replaced by the channel's last plausible one

    # --- control -------------------------------------------------------------------------
    def add_listener(self, callback: Callable[[Block], None]) -> None:
        """Call ``callback(block)`` in the reader thread for every block; it must not block."""
        with self._listeners_lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[Block], None]) -> None:
        """Stop calling ``callback`` (a no-op if it is not registered)."""
        with self._listeners_lock, contextlib.suppress(ValueError):
            self._listeners.remove(callback)

    def send(self, command: Command) -> None:
        """Queue a command for the reader thread, which applies it before the next chunk (any thread)."""
        self._commands.put(command)

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
            out = list(self._events)
            self._events.clear()
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
        """Start a backbend hold at the next sample processed (queued: safe from any thread)."""
        self.send(StartHold())

    def stop_hold(self) -> None:
        """End the running hold at the next sample processed (queued: safe from any thread)."""
        self.send(StopHold())

    def toggle_hold(self) -> None:
        """Start or stop a hold, decided in the reader thread so a toggle is never lost or doubled."""
        self.send(ToggleHold())

    def snapshot(self) -> LiveSnapshot:
        """The reader's state after its latest chunk (immutable; any thread)."""
        return self._snapshot

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
            self.setup(info)
            self.opened.set()
            self._event("open", info.description)
            batch = round(self.batch_s * info.fs)
            pending: list[Chunk] = []
            try:
                while not self._stop.is_set():
                    chunk = self.source.read(0.05)
                    if chunk is not None and chunk.samples.shape[0]:
                        if pending and chunk.start != pending[-1].start + pending[-1].samples.shape[0]:
                            self._handle_all(pending)  # a gap: what came before is processed on its own
                        pending.append(chunk)
                        if sum(c.samples.shape[0] for c in pending) < batch:
                            continue  # batch work: one pass of the chain, feedback and store per batch
                    self._handle_all(pending)
            finally:
                self._handle_all(pending)
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

    def setup(self, info: StreamInfo) -> None:
        """Build the chain, feedback, ring buffer and quality monitor for an opened stream (reader thread)."""
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

    def process_chunk(self, start: int, raw: np.ndarray) -> None:
        """Process one chunk as the reader thread does (for offline runs without the thread)."""
        self._handle(start, raw)

    def _handle_all(self, pending: list[Chunk]) -> None:
        """Process the gathered contiguous chunks as one block, and empty the list."""
        if not pending:
            return
        start = pending[0].start
        raw = pending[0].samples if len(pending) == 1 else np.concatenate([c.samples for c in pending])
        pending.clear()
        self._handle(start, raw)

    def _apply_commands(self, at: int) -> None:
        """Apply every queued command in order; a pending hold change is flushed before the next one."""
        engine = self.engine
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            if engine is None:
                continue
            if isinstance(command, SetAutoStart):
                engine.auto_start = command.on
                continue
            if isinstance(command, StartProgram | PauseProgram | StopProgram):
                self._program_command(command, at)
                continue
            if self.program is not None and not self.program.done:
                continue  # the program owns the holds while it runs
            want = not engine.hold_requested if isinstance(command, ToggleHold) else isinstance(command, StartHold)
            if want == engine.hold_requested:
                continue
            if engine.has_pending:  # e.g. start then stop then start between two chunks: keep each one
                self._flush_feedback(at)
            if want:
                engine.start_hold(at)
            else:
                engine.stop_hold(at)

    def _program_command(self, command: StartProgram | PauseProgram | StopProgram, at: int) -> None:
        engine = self.engine
        assert engine is not None
        if isinstance(command, StartProgram):
            if self.program is not None and not self.program.done:
                self.program.stop(at)
            self.program = ProgramDriver(command.program, engine)
        elif self.program is not None and not self.program.done:
            if isinstance(command, PauseProgram):
                self.program.toggle_pause(at)
            else:
                self.program.stop(at)
                self._flush_feedback(at)
                self.program = None

    def _flush_feedback(self, at: int) -> None:
        """Apply pending hold changes with an empty block, handed on like any other."""
        assert self.engine is not None and self.pipeline is not None
        channels = self.info.channels if self.info is not None else 0
        empty = np.empty((0, channels))
        update = self.engine.process(at, empty, empty)
        if self.program is not None:
            self.program.after_block(update)
        self._collect(update.cues, update.finished_holds)
        self._dispatch(Block(at, empty, empty, empty, empty, update))

    def _collect(self, cues: list[CueEvent], holds: list[HoldSummary]) -> None:
        if cues or holds:
            with self._events_lock:
                self._cues.extend(cues)
                self._holds.extend(holds)

    def _dispatch(self, block: Block) -> None:
        with self._listeners_lock:
            listeners = tuple(self._listeners)
        for listener in listeners:
            listener(block)

    def _publish(self, index: int) -> None:
        engine = self.engine
        if engine is None:
            self._snapshot = LiveSnapshot(index=index)
            return
        view = None
        if engine.hold is not None:
            s = engine.hold.summary
            spectra = engine.hold.spectra
            latest = spectra.latest_mdf if spectra is not None else None
            change = spectra.mdf_change_pct() if spectra is not None else None
            view = HoldView(
                number=s.number,
                start_index=s.start_index,
                duration_s=s.duration_s,
                auto=engine.hold_auto,
                in_band_pct=tuple(100.0 * m.in_band / m.samples if m.samples else None for m in s.muscles),
                synergy_pct=s.synergy_pct,
                overclench_episodes=sum(m.overclench_episodes for m in s.muscles),
                mdf_hz=_floats(latest),
                mdf_change_pct=_floats(change),
            )
        program = self.program.view() if self.program is not None else None
        self._snapshot = LiveSnapshot(
            index=index, auto_start=engine.auto_start, hold=view, holds_done=len(engine.holds), program=program
        )

    def _handle(self, start: int, raw: np.ndarray) -> None:
        assert self.pipeline is not None and self.ring is not None and self.quality is not None
        self._apply_commands(max(start, self._expected))
        if start > self._expected:
            gap = start - self._expected
            self._event("gap", f"{gap} samples missing", gap)
            if gap >= self.pipeline.spec.window_samples:
                self.pipeline.reset()
        out = self.pipeline.process(raw)
        raw = out.raw  # implausible values held, so the store and the screen never get inf either
        if out.held:
            self.held += out.held
            self._event("held", f"{out.held} implausible values held at the channel's last value", out.held)
        with self._quality_lock:
            self.quality.update(raw)
        program = self.program if self.program is not None and not self.program.done else None
        spread = out.spread
        if program is None:
            self._emit(start, raw, out.filtered, out.envelope, out.percent, spread=spread)
        else:  # cut the block where the program changes step, so each rep begins on its own sample
            transitions = program.transitions(start, raw.shape[0])
            cuts = split_points(start, raw.shape[0], transitions)
            parts = zip(*(slices(a, cuts) for a in (raw, out.filtered, out.envelope, out.percent)), strict=True)
            spreads = slices(spread, cuts) if spread is not None else [None] * (len(cuts) - 1)
            for offset, (r, f, e, p), sp in zip(cuts[:-1], parts, spreads, strict=True):
                for tr in transitions:
                    if min(max(tr.index - start, 0), raw.shape[0]) == offset:
                        program.apply(tr)
                self._emit(start + offset, r, f, e, p, spread=sp)
        self._publish(self._expected)

    def _emit(
        self,
        start: int,
        raw: np.ndarray,
        filtered: np.ndarray,
        envelope: np.ndarray,
        percent: np.ndarray,
        *,
        spread: np.ndarray | None = None,
    ) -> None:
        """Feedback for one piece of a chunk, then the ring buffer and the listeners."""
        assert self.ring is not None
        update = None
        if self.engine is not None:
            update = self.engine.process(start, percent, filtered, spread)
            if self.program is not None:
                self.program.after_block(update)
            self._collect(update.cues, update.finished_holds)
        block = Block(start, raw, filtered, envelope, percent, update)
        fields = {"raw": raw, "filtered": filtered, "envelope": envelope, "percent": percent}
        self.ring.write({**fields, "state": block.states}, start=start)
        self._expected = block.stop
        self.samples += raw.shape[0]
        self._dispatch(block)


def _floats(values: np.ndarray | None) -> tuple[float | None, ...]:
    """A per-muscle array as a tuple, NaN as None (for snapshots)."""
    if values is None:
        return ()
    return tuple(float(v) if np.isfinite(v) else None for v in values)
