"""A recording made offline, as fast as the CPU allows: the simulated sensor through the live chain into the store.

Test and benchmark support only (not part of the package): it builds sessions of known content for the
store, export, progress and damage tests, and for the sessions benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emgfeedback.config import FilterSpec, StreamInfo
from emgfeedback.dsp.normalize import MvcNormalizer
from emgfeedback.feedback import FeedbackEngine, HoldSummary
from emgfeedback.io.simulated import MUSCLES, MVC_UV, NOISE_UV, UV_PER_COUNT
from emgfeedback.io.sources import Source
from emgfeedback.muscles import muscle_kind
from emgfeedback.runtime.live import LiveOptions, build_acquisition
from emgfeedback.session.recorder import SessionMeta, describe_acquisition
from emgfeedback.session.store import SessionStore
from emgfeedback.session.writer import SessionWriter


class SimulatedProfile:
    """A calibration for the simulated sensor from its known MVC and noise levels (a duck-typed
    :class:`~emgfeedback.runtime.live.ProfileLike`), so tests and benchmarks get %MVC without the calibration package."""

    def __init__(self, channels: int = 4, name: str = "simulated") -> None:
        self.name = name
        self.muscles = {m: i for i, m in enumerate(MUSCLES[:channels])}

    def check_compatible(self, spec: FilterSpec, info: StreamInfo) -> None:
        """Any chain fits: the simulated levels are exact."""

    def normalizer(self, names: Sequence[str] | None = None) -> MvcNormalizer:
        names = list(names or self.muscles)
        mvc = [MVC_UV[muscle_kind(n)] / UV_PER_COUNT for n in names]
        return MvcNormalizer(mvc, [NOISE_UV / UV_PER_COUNT] * len(names))


@dataclass
class OfflineResult:
    """The stored session's id and the engine's in-memory hold statistics, for comparison."""

    session_id: int
    samples: int
    holds: list[HoldSummary] = field(default_factory=list)
    engine: FeedbackEngine | None = None


def record_offline(
    source: Source,
    *,
    store_path: Path | str | None = None,
    options: LiveOptions | None = None,
    meta: SessionMeta | None = None,
    holds: Sequence[tuple[int, int]] = (),
    max_samples: int | None = None,
    created: float | None = None,
    commit_every: int = 80,
) -> OfflineResult:
    """Run ``source`` (not real time) through the live chain into a new session.

    ``holds`` are (start, stop) sample indices where a hold is started and stopped, as a
    user pressing the key would; ``max_samples`` ends a looping source.
    """
    acq = build_acquisition(source, options)
    meta = meta or SessionMeta()
    source.open()
    try:
        info = source.info
        acq.setup(info)
        engine = acq.engine
        assert engine is not None
        with SessionStore(store_path) as store:
            writer = SessionWriter(
                store,
                fs=info.fs,
                muscles=engine.names,
                profile=meta.profile,
                person=meta.person,
                meta=describe_acquisition(acq, meta),
                created=created,
            )
            acq.add_listener(writer.add_block)  # the same blocks, cut at program steps, as a live recording
            total = 0
            while max_samples is None or total < max_samples:
                try:
                    chunk = source.read(0.0)
                except EOFError:
                    break
                if chunk is None:
                    continue
                raw = chunk.samples
                if max_samples is not None:
                    raw = raw[: max_samples - total]
                start, stop = chunk.start, chunk.start + raw.shape[0]
                for a, b in holds:
                    if start <= a < stop:
                        engine.start_hold(a)
                    if start < b <= stop:
                        engine.stop_hold(b)
                acq.process_chunk(start, raw)
                if writer.pending_rows >= commit_every:
                    writer.commit()
                total += raw.shape[0]
                view = acq.snapshot().program
                if view is not None and view.done:
                    break
            writer.finish("complete")
            return OfflineResult(writer.session_id, total, list(engine.holds), engine)
    finally:
        source.close()
