"""Lab Streaming Layer out and in, on this machine only (tests/lsl_loopback.cfg, set by conftest.py)."""

from __future__ import annotations

import json
import signal
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mne_lsl")

import itertools

from lsl_util import TestOutlet, counter_csv, monitor_json, run_cli, start_cli, wait_for

from emgfeedback.errors import SourceError
from emgfeedback.io.lsl_source import IndexFromTimestamps, LslQuery, LslSource
from emgfeedback.io.replay import ReplaySource
from emgfeedback.io.spec import open_source
from emgfeedback.runtime.live import build_acquisition
from emgfeedback.runtime.lsl_out import LslPublisher, SampleClock, source_id

FS = 1000.0


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def inlet(name: str):
    """A plain mne-lsl inlet on the stream ``name`` (what LabRecorder or another tool would open)."""
    import mne_lsl.lsl as lsl

    found = wait_for(lambda: lsl.resolve_streams(timeout=0.5, name=name), 15, f"stream {name}")
    sinfo = found[0]
    inl = lsl.StreamInlet(sinfo, processing_flags=["clocksync"])
    inl.open_stream(timeout=10)
    return inl


def pull_all(inl, until, timeout: float = 20.0):
    """Pull chunks (copied) until ``until(data, stamps)`` holds; returns (data, stamps)."""
    datas, stamps = [], []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d, s = inl.pull_chunk(timeout=0.1)
        if len(s):
            datas.append(np.array(d))
            stamps.append(np.array(s))
            if until(np.concatenate([x.reshape(len(y), -1) for x, y in zip(datas, stamps, strict=True)]), np.concatenate(stamps)):
                break
    assert stamps, "nothing arrived"
    data = np.concatenate([x.reshape(len(y), -1) for x, y in zip(datas, stamps, strict=True)])
    return data, np.concatenate(stamps)


def test_query_parsing() -> None:
    assert LslQuery.parse("ana") == LslQuery(name="ana")
    assert LslQuery.parse("type=EMG") == LslQuery(stype="EMG")
    assert LslQuery.parse("source_id=abc") == LslQuery(source_id="abc")
    with pytest.raises(SourceError, match="lsl:NAME"):
        LslQuery.parse("colour=red")
    with pytest.raises(SourceError, match="lsl:NAME"):
        LslQuery.parse("")


def test_indices_tolerate_jitter_and_record_gaps() -> None:
    rng = np.random.default_rng(1)
    index = IndexFromTimestamps(500.0)
    starts = []
    t = 100.0
    for k in range(200):
        jitter = rng.uniform(-0.015, 0.015)  # chunks stamped at push time: +-15 ms
        starts.append(index.place(t + k * 0.02 + jitter, 10))
    assert [s for s, _ in starts] == list(range(0, 2000, 10))
    assert all(g == 0 for _, g in starts)
    start, gap = index.place(t + 200 * 0.02 + 1.0, 10)  # one second of silence
    assert gap == 500 and start == 2500


def test_source_ids_stable_per_device_and_profile() -> None:
    assert source_id("/dev/ttyACM0", "standard", "emg") == source_id("/dev/ttyACM0", "standard", "emg")
    assert source_id("/dev/ttyACM0", "standard", "emg") != source_id("/dev/ttyACM0", "other", "emg")
    assert source_id("/dev/ttyACM0", "standard", "emg") != source_id("/dev/ttyACM1", "standard", "emg")


def test_sample_clock_takes_the_least_delayed_arrival_and_follows_drift() -> None:
    clock = SampleClock(1000.0, delay_s=0.004, window_s=2.0)
    clock.observe(99, 10.0 + 0.099 + 0.030)  # a late, buffered arrival
    clock.observe(199, 10.0 + 0.199 + 0.002)  # a prompt one
    clock.observe(299, 10.0 + 0.299 + 0.020)
    assert clock.times(0) == pytest.approx(10.0 + 0.002 - 0.004, abs=1e-6)
    # a device clock 0.5 % slow (a ceramic resonator): arrivals drift later, the anchor follows within the window
    for k in range(3, 100):
        clock.observe(k * 100 + 99, 10.0 + (k * 100 + 99) / 1000.0 * 1.005 + 0.002)
    expected = 10.0 + 9999 / 1000.0 * 1.005 + 0.002
    assert abs(float(clock.times(9999)) + 0.004 - expected) < 0.0105  # at most the window's worth of drift


def test_round_trip_every_sample_at_its_index_and_holds_in_the_markers(tmp_path: Path) -> None:
    """Counter -> acquisition -> LslPublisher -> plain inlets: every sample, the right index, hold markers on time."""
    name = unique("rt")
    source = ReplaySource(counter_csv(tmp_path / "counter.csv", 60_000), fs=FS)
    acq = build_acquisition(source)
    publisher = LslPublisher(name, device="counter").attach(acq)
    acq.start()
    try:
        wait_for(lambda: publisher.publishing, 15, "the outlets")
        emg = inlet(name)
        markers = inlet(f"{name}-markers")
        mvc = inlet(f"{name}-mvc")
        assert emg.get_sinfo().get_channel_names() == ["counter0", "counter1"]
        assert emg.get_sinfo().stype == "EMG" and emg.get_sinfo().sfreq == FS
        assert mvc.get_sinfo().get_channel_names()[-1] == "hold_s"
        first, _ = pull_all(emg, lambda d, s: len(s) > 200)  # the inlet is connected and data flows
        acq.start_hold()
        wait_for(lambda: acq.snapshot().hold is not None, 10, "the hold to start")
        wait_for(lambda: acq.snapshot().hold.duration_s > 0.5, 10, "half a second of hold")
        acq.stop_hold()
        holds = wait_for(acq.drain_holds, 10, "the hold summary")
        hold = holds[0]
        data, stamps = pull_all(emg, lambda d, s: d[-1, 0] > hold.stop_index + 200)
        marks, mark_stamps = pull_all(markers, lambda d, s: len(s) >= 2)
        hold_s, _ = pull_all(mvc, lambda d, s: np.isfinite(d[:, -1]).any() and not np.isfinite(d[-1, -1]))
    finally:
        acq.stop()
        publisher.close()
    data = np.concatenate([first, data])
    counter = data[:, 0].astype(np.int64)
    np.testing.assert_array_equal(np.diff(counter), 1)  # every sample, none twice, in order
    np.testing.assert_array_equal(data[:, 1], 2 * data[:, 0])
    # timestamps are the samples' indices at the nominal rate (acquisition time, not push time): within a
    # block exactly 1/fs apart, between blocks only the arrival jitter's floor moves them
    nominal = stamps[0] + (counter[-len(stamps) :] - counter[-len(stamps)]) / FS
    assert np.abs(stamps - nominal).max() < 0.005
    assert np.abs(np.diff(stamps) - 1 / FS).max() < 0.0005
    texts = [m[0] for m in marks.tolist()]
    assert texts[:2] == [f"hold-start {hold.number}", f"hold-stop {hold.number}"]
    at = {int(c): t for c, t in zip(counter[-len(stamps) :], stamps, strict=True)}
    assert abs(mark_stamps[0] - at[hold.start_index]) <= 1 / FS
    assert abs(mark_stamps[1] - at[hold.stop_index]) <= 1 / FS
    running = hold_s[np.isfinite(hold_s[:, -1]), -1]
    assert running.max() == pytest.approx(hold.duration_s - 1 / FS, abs=0.01)


def test_killed_outlet_is_a_gap_and_a_restart_reconnects(tmp_path: Path) -> None:
    """The outlet process (emgfeedback record --lsl) is killed and restarted: a gap, then data again."""
    name = unique("kill")
    csv = counter_csv(tmp_path / "counter.csv", 600_000)
    cmd = ("record", "--source", f"replay:{csv}", "--fs", "1000", "--lsl", "--lsl-name", name, "--status-every", "0")
    proc = start_cli(*cmd)
    source = LslSource(name, resolve_s=20)
    try:
        source.open()
        assert source.info.names == ("counter0", "counter1")
        chunks = []

        def enough() -> bool:
            chunk = source.read(0.1)
            if chunk is not None:
                chunks.append(chunk)
            return sum(c.samples.shape[0] for c in chunks) > 1500

        wait_for(enough, 20, "data")
        offsets = {int(c.samples[0, 0]) - c.start for c in chunks}
        assert len(offsets) == 1  # every sample at its index
        assert 0.0 <= source.device_delay_s < 0.5  # measured: the sender's stamps to arrival here
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        wait_for(lambda: source.read(0.1) is None and not source.connected, 20, "the source to notice the outlet went")
        proc = start_cli(*cmd)
        resumed = wait_for(lambda: source.read(0.2), 30, "data after the restart")
        assert source.stats.reconnects == 1
        assert source.stats.gaps, "the silence must be recorded as a gap"
        gap_start, gap_len = source.stats.gaps[-1]
        assert gap_len > 0.3 * FS and resumed.start == gap_start + gap_len
        assert source.stats.lost == 0
    finally:
        source.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def test_lsl_source_through_monitor_json_and_record(tmp_path: Path, emg_home: Path) -> None:
    """--source lsl:NAME from another program's outlet: lost 0 and the stream's channel names."""
    name = unique("ext")
    outlet = TestOutlet(name, ["biceps_left", "triceps_left"], fs=500.0)
    try:
        summary = monitor_json(f"lsl:{name}", 3)
        assert summary["lost"] == 0 and summary["gaps"] == 0
        assert summary["fs"] == 500.0 and summary["channels"] == 2 and summary["protocol"] == "lsl"
        assert [c["name"] for c in summary["per_channel"]] == ["biceps_left", "triceps_left"]
        assert summary["frames"] > 500
        rec = run_cli("record", "--source", f"lsl:{name}", "--seconds", "2", "--status-every", "0")
        assert rec.returncode == 0, rec.stderr
        assert "0 gaps" in rec.stdout
    finally:
        outlet.close()
    shown = run_cli("show", "1", "--json", timeout=60)
    session = json.loads(shown.stdout)["session"]
    assert session["muscles"] == ["biceps_left", "triceps_left"]
    assert session["fs"] == 500.0 and session["stored_samples"] >= 1000


def test_missing_stream_is_one_line() -> None:
    source = open_source(f"lsl:{unique('absent')}")
    assert isinstance(source, LslSource)
    source.resolve_s = 0.5
    with pytest.raises(SourceError, match="no LSL stream named"):
        source.open()


def test_devices_lists_lsl_streams() -> None:
    name = unique("dev")
    outlet = TestOutlet(name, ["a", "b", "c"], fs=250.0)
    try:

        def listed() -> dict | None:
            out = run_cli("devices", "--lsl", "--json", timeout=60)
            return next((s for s in json.loads(out.stdout or "[]") if s["name"] == name), None)

        stream = wait_for(listed, 60, "the stream in devices --lsl")
    finally:
        outlet.close()
    assert stream["source"] == f"lsl:{name}" and stream["channels"] == 3 and stream["fs"] == 250.0 and stream["type"] == "EMG"


def test_a_sender_without_source_id_is_found_again() -> None:
    """liblsl recovers only streams with a source id; without one the source resolves the name again, and
    indices stay consistent (a new inlet's replayed backlog is not delivered twice)."""
    name = unique("nosid")
    outlet = TestOutlet(name, ["a"], fs=500.0, source_id="")
    source = LslSource(name, resolve_s=20)
    chunks = []

    def read() -> bool:
        chunk = source.read(0.1)
        if chunk is not None:
            chunks.append(chunk)
        return chunk is not None

    try:
        source.open()
        wait_for(read, 20, "data")
        outlet.close()
        wait_for(lambda: not read() and not source.connected, 30, "the sender to go")
        outlet = TestOutlet(name, ["a"], fs=500.0, source_id="")
        wait_for(read, 60, "data from the new sender")
        assert source.stats.reconnects == 1
    finally:
        outlet.close()
        source.close()
    assert all(b.start >= a.stop for a, b in itertools.pairwise(chunks))  # never backwards, never twice


def test_markers_carry_cues_and_overclench_episodes() -> None:
    """The demo scenario (60 s delivered at once): holds, cues and over-clench episodes in the marker stream.

    The source is held back until the marker inlet is connected, so no marker can go out before it."""
    import threading

    from emgfeedback.calibration import demo_profile
    from emgfeedback.io.simulated import SimulatedSource
    from emgfeedback.io.sources import Chunk, Source
    from emgfeedback.runtime.live import LiveOptions

    class Held(Source):
        """One quiet sample (so the outlets open), then the simulated backlog once ``release`` is set."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = SimulatedSource("backbend-hold", backlog_s=60.0)
            self.release = threading.Event()
            self.primed = False

        def open(self) -> None:
            self.inner.open()
            self._info = self.inner.info

        def read(self, timeout: float = 0.1):
            if not self.primed:
                self.primed = True
                return Chunk(0, np.zeros((1, self.info.channels)))
            if not self.release.wait(timeout):
                return None
            chunk = self.inner.read(timeout)
            return None if chunk is None else Chunk(chunk.start + 1, chunk.samples)

    name = unique("mk")
    profile = demo_profile(4)
    source = Held()
    acq = build_acquisition(source, LiveOptions(profile=profile, auto_start=True))
    publisher = LslPublisher(name, device="simulated").attach(acq, profile=profile.name)
    acq.start()
    try:
        wait_for(lambda: publisher.publishing, 30, "the outlets")
        markers = inlet(f"{name}-markers")
        source.release.set()
        wait_for(lambda: acq.samples >= 60_000, 60, "the 60 s backlog")
        texts, stamps = pull_all(markers, lambda d, s: any(str(x[0]).startswith("hold-stop") for x in d), 20)
    finally:
        acq.stop()
        publisher.close()
    words = [str(t[0]) for t in texts]
    assert any(w.startswith("hold-start") for w in words) and any(w.startswith("hold-stop") for w in words)
    assert any(w.startswith("overclench-start glute_max") for w in words)
    assert any(w.startswith("cue over glute_max") for w in words)
    assert np.all(np.diff(stamps) >= 0)  # in time order


def test_a_program_rep_ends_with_a_marker_naming_its_outcome() -> None:
    """Program reps are marked with program, exercise, set, rep and outcome (their step cues go out as cues)."""
    from emgfeedback.feedback import HoldSummary
    from emgfeedback.runtime.lsl_out import rep_marker

    def rep(**tags):
        return HoldSummary(3, 100, 900, 1000.0, [], tags=tags)

    base = {"program": "first-week", "exercise": "glute bridge hold", "set": 1, "rep": 2}
    assert rep_marker(rep(**base, success=True)) == "rep first-week/glute bridge hold set 1 rep 2 success"
    assert rep_marker(rep(**base, success=False)) == "rep first-week/glute bridge hold set 1 rep 2 failed"
    assert rep_marker(rep(**base, success=None, aborted=True)).endswith("rep 2 aborted")
