"""The pure index mapper behind SerialSource: absolute indices, gaps, reconnects; no ports, no threads."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emgfeedback.io.index_map import IndexMapper
from emgfeedback.io.protocol import Frames
from emgfeedback.io.sources import Chunk, SourceStats


def _frames(index: list[int] | np.ndarray) -> Frames:
    idx = np.asarray(index, dtype=np.int64)
    return Frames(idx[:, None].astype(np.float64), idx)


def _joined(chunks: list[Chunk]) -> tuple[list[int], list[float]]:
    return (
        [i for c in chunks for i in range(c.start, c.stop)],
        [float(v) for c in chunks for v in c.samples[:, 0]],
    )


def test_first_batch_starts_at_zero_and_jumps_become_gaps() -> None:
    stats = SourceStats()
    m = IndexMapper(stats, fs=1000.0, modulo=256)
    chunks = m.place(_frames([57, 58, 59, 63, 64]), arrival=1.0)
    assert [(c.start, c.stop) for c in chunks] == [(0, 3), (6, 8)]
    assert stats.gaps == [(3, 3)] and stats.lost == 3 and stats.frames == 5
    more = m.place(_frames([65, 70]), arrival=1.01)
    assert [(c.start, c.stop) for c in more] == [(8, 9), (13, 14)] and stats.gaps[-1] == (9, 4)


def test_an_overlap_is_dropped_never_placed_backwards() -> None:
    stats = SourceStats()
    m = IndexMapper(stats, fs=1000.0, modulo=None)
    m.place(_frames([0, 1, 2, 3]), arrival=0.0)
    chunks = m.place(_frames([2, 3, 4, 5]), arrival=0.1)  # a decoder that went back
    assert chunks == [] or all(c.start >= 4 for c in chunks)
    assert m.next == 4 and stats.gaps == []


def test_reconnect_with_a_running_counter_takes_the_counters_exact_gap() -> None:
    stats = SourceStats()
    m = IndexMapper(stats, fs=1000.0, modulo=65536)
    m.place(_frames(np.arange(100)), arrival=10.0)
    m.connection_lost()
    m.resumed(counter_continues=True, restarts=0)
    # back 0.5 s later; the counter says 500 - 1 frames were missed, wall time says about the same
    chunks = m.place(_frames(np.arange(600, 610)), arrival=10.5 + 0.01)
    assert chunks[0].start == 600 and stats.gaps == [(100, 500)]


def test_reconnect_after_a_counter_wrap_uses_wall_time_to_pick_the_period() -> None:
    stats = SourceStats()
    m = IndexMapper(stats, fs=256.0, modulo=256)
    m.place(_frames(np.arange(10)), arrival=0.0)
    m.connection_lost()
    m.resumed(counter_continues=True)
    # away 3 s (768 samples = 3 periods of 256) plus 5: the 8-bit counter alone says 5
    chunks = m.place(_frames([15, 16]), arrival=(768 + 5 + 2) / 256.0)
    assert chunks[0].start == 10 + 768 + 5


def test_a_restarted_counter_or_a_fresh_decoder_gap_comes_from_wall_time() -> None:
    for resumed in ({"counter_continues": True, "restarts": 0}, {"counter_continues": False}):
        stats = SourceStats()
        m = IndexMapper(stats, fs=100.0, modulo=65536)
        m.place(_frames(np.arange(50)), arrival=5.0)
        m.connection_lost()
        m.resumed(**resumed)
        # the device restarted (restarts 0 -> 1) or a fresh decoder numbers from 0: 2 s away = 200 samples
        chunks = m.place(_frames([0, 1, 2, 3]), arrival=7.0 + 0.04, restarts=1)
        assert chunks[0].start == 50 + 200, resumed
        assert stats.gaps == [(50, 200)]


def test_an_untrusted_counter_leaves_the_gap_to_wall_time() -> None:
    stats = SourceStats()
    m = IndexMapper(stats, fs=256.0, modulo=256)
    m.place(_frames(np.arange(10)), arrival=0.0)
    m.connection_lost()
    m.resumed(counter_continues=True)
    # away 1 s (256 samples) plus 30: a counter stuck at one value would say "one period" or nothing
    chunks = m.place(_frames([10, 11]), arrival=(256 + 30 + 2) / 256.0, counter_ok=False)
    assert chunks[0].start == 10 + 256 + 30


def test_reopened_after_close_goes_on_after_the_time_away() -> None:
    stats = SourceStats()
    m = IndexMapper(stats, fs=10.0, modulo=None)
    m.place(_frames(np.arange(20)), arrival=100.0)
    m.reopened()
    chunks = m.place(_frames([0, 1]), arrival=103.0 + 0.2)
    assert chunks[0].start == 20 + 30 and m.started


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 40), min_size=1, max_size=200),
    st.integers(-(2**20), 2**20),
    st.lists(st.integers(0, 200), max_size=20),
)
def test_any_batching_places_the_same_samples_at_the_same_indices(steps: list[int], offset: int, cuts: list[int]) -> None:
    index = offset + np.cumsum(steps)
    whole_stats, split_stats = SourceStats(), SourceStats()
    whole = IndexMapper(whole_stats, fs=500.0, modulo=None).place(_frames(index), arrival=1.0)
    m = IndexMapper(split_stats, fs=500.0, modulo=None)
    bounds = [0, *sorted(c for c in cuts if 0 < c < index.size), index.size]
    split = [c for a, b in itertools.pairwise(bounds) for c in m.place(_frames(index[a:b]), arrival=1.0)]
    assert _joined(whole) == _joined(split)
    assert whole_stats.gaps == split_stats.gaps and whole_stats.lost == split_stats.lost == int(
        index[-1] - index[0] + 1 - index.size
    )
    # every sample sits at its decoder index minus the first one
    got, values = _joined(split)
    assert got == [int(v) - int(index[0]) for v in values]
