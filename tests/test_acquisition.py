"""The reader thread, the ring buffer and the replay source, through their public interfaces."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from emgfeedback.config import FilterSpec, StreamInfo
from emgfeedback.dsp import Pipeline
from emgfeedback.io.replay import ReplaySource
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.io.sources import Chunk, Source
from emgfeedback.io.spec import SourceOptions, describe_spec, open_source
from emgfeedback.runtime.acquisition import Acquisition
from emgfeedback.runtime.blocks import Block
from emgfeedback.runtime.ringbuffer import RingBuffer


def test_ring_buffer_keeps_absolute_indices_and_reports_misses() -> None:
    ring = RingBuffer(100, 2, ("a",))
    assert ring.newest(("a",)) == (-1, {"a": []})  # nothing written yet
    for k in range(25):
        block = np.full((10, 2), float(k))
        ring.write({"a": block})
    assert ring.index == 250
    start, data = ring.latest(30)
    assert start == 220 and data["a"].shape == (30, 2) and data["a"][0, 0] == 22 and data["a"][-1, 0] == 24
    first, missed, data = ring.since(100)
    assert first == 150 and missed == 50 and data["a"].shape[0] == 100
    ring.write({"a": np.ones((5, 2))}, start=260)  # a gap of 10 samples
    assert ring.index == 265
    _, data = ring.latest(15)
    assert np.isnan(data["a"][:10]).all() and (data["a"][10:] == 1).all()
    ring.write({"a": np.array([[7.0, 8.0]])})  # wraps around the end of the buffer
    assert ring.newest(("a",)) == (265, {"a": [7.0, 8.0]})  # what a dashboard frame shows, as plain floats


class _GappySource(Source):
    """Counts samples in channel 0 and skips some, like a device dropping frames."""

    def __init__(self) -> None:
        super().__init__()
        self.pos = 0

    def open(self) -> None:
        self._info = StreamInfo(fs=1000.0, channels=1, description="gappy")

    def read(self, timeout: float = 0.1) -> Chunk | None:
        if self.pos >= 5000:
            raise EOFError("done")
        start = self.pos + (300 if self.pos == 2000 else 0)
        chunk = Chunk(start, np.arange(start, start + 100, dtype=float)[:, None])
        self.pos = chunk.stop
        return chunk


def test_acquisition_records_gaps_and_ends_cleanly() -> None:
    seen: list[Block] = []
    acq = Acquisition(_GappySource(), lambda info: Pipeline(FilterSpec(fs=info.fs)))
    acq.add_listener(seen.append)
    acq.start()
    assert acq.finished.wait(10)
    events = acq.drain_events()
    kinds = [e.kind for e in events]
    assert kinds[0] == "open" and kinds[-1] == "end" and "gap" in kinds
    gap = next(e for e in events if e.kind == "gap")
    assert gap.index == 2000 and gap.length == 300
    raw = np.concatenate([b.raw for b in seen])[:, 0]
    starts = np.concatenate([np.arange(b.start, b.stop) for b in seen])
    np.testing.assert_array_equal(raw, starts)  # every sample at its absolute index
    assert acq.error is None and not acq.running


def test_acquisition_reports_source_errors_as_one_line() -> None:
    class Broken(_GappySource):
        def read(self, timeout: float = 0.1) -> Chunk | None:
            raise OSError("device unplugged")

    acq = Acquisition(Broken(), lambda info: Pipeline(FilterSpec(fs=info.fs)))
    acq.start()
    assert acq.finished.wait(10)
    assert acq.error == "device unplugged"


def test_realtime_simulated_source_streams_at_its_rate() -> None:
    src = SimulatedSource("rest", channels=2)
    acq = Acquisition(src, lambda info: Pipeline(FilterSpec(fs=info.fs)))
    got = threading.Event()
    acq.add_listener(lambda b: got.set() if b.stop >= 300 else None)
    acq.start()
    try:
        assert got.wait(5), "no data within 5 s"
    finally:
        acq.stop()
    assert not acq.running and acq.ring is not None and acq.ring.index >= 300


def test_replay_plays_a_real_recording_as_fast_as_possible(real_data: Path) -> None:
    src = ReplaySource(real_data / "uci_lowerlimb_4Npie_knee_flexion.txt", columns=[1, 3], realtime=False, chunk_samples=500)
    src.open()
    assert src.info.fs == 1000 and src.info.channel_names == ("BF", "ST")
    chunks = []
    with pytest.raises(EOFError):
        while True:
            chunks.append(src.read())
    assert sum(c.samples.shape[0] for c in chunks) == 13820
    assert chunks[1].start == 500


def test_source_specs() -> None:
    assert describe_spec("simulated:rest") == "simulated"
    assert describe_spec("replay:x.txt") == "replay"
    assert describe_spec("/dev/ttyACM0") == "serial" and describe_spec("loop://") == "serial"
    src = open_source("simulated:calibration", SourceOptions(channels=2, realtime=False))
    assert isinstance(src, SimulatedSource) and src.script.name == "calibration" and src.channels == 2
