"""The thread contract: hold commands from another thread reach the reader in order, none lost or doubled."""

from __future__ import annotations

import itertools
import queue
import threading

import numpy as np
from conftest import wait_until
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emgfeedback.config import Band, StreamInfo
from emgfeedback.io.sources import Chunk, Source
from emgfeedback.runtime.commands import SetAutoStart
from emgfeedback.runtime.live import LiveOptions, build_acquisition

FS = 1000.0
TOGGLES = 1000


class GatedSource(Source):
    """A source that hands out a chunk only when the test pushes one, so the test picks the interleaving."""

    def __init__(self, channels: int = 2) -> None:
        super().__init__()
        self.channels = channels
        self._chunks: queue.Queue[Chunk] = queue.Queue()
        self._next = 0
        self._lock = threading.Lock()

    def open(self) -> None:
        self._info = StreamInfo(fs=FS, channels=self.channels, channel_names=["hamstring_left", "glute_max_left"])

    def push(self, n: int) -> int:
        """Queue ``n`` samples at 40 %MVC-ish level; returns the index after them."""
        with self._lock:
            start, self._next = self._next, self._next + n
        self._chunks.put(Chunk(start, np.full((n, self.channels), 0.4)))
        return start + n

    def read(self, timeout: float = 0.1) -> Chunk | None:
        try:
            return self._chunks.get(timeout=min(timeout, 0.05))
        except queue.Empty:
            return None


def _started(source: GatedSource):
    acq = build_acquisition(source, LiveOptions(band=Band()))
    acq.start()
    assert acq.opened.wait(10)
    return acq


def _check_holds(acq, toggles: int) -> None:
    holds = acq.drain_holds()
    assert len(holds) == toggles // 2
    assert [h.number for h in holds] == list(range(1, toggles // 2 + 1))
    for before, after in itertools.pairwise(holds):
        assert before.start_index <= before.stop_index <= after.start_index
    assert acq.snapshot().hold is None


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    releases=st.lists(st.tuples(st.integers(0, TOGGLES), st.integers(1, 40), st.booleans()), max_size=60),
)
def test_a_thousand_toggles_in_any_interleaving_give_every_hold_once(releases: list[tuple[int, int, bool]]) -> None:
    """Toggles sent from this thread while the reader runs; chunks released between them where hypothesis says,
    sometimes waiting for the reader, sometimes racing it."""
    source = GatedSource()
    acq = _started(source)
    try:
        after: dict[int, list[tuple[int, bool]]] = {}
        for position, n, wait in releases:
            after.setdefault(position, []).append((n, wait))
        for i in range(TOGGLES + 1):
            for n, wait in after.get(i, []):
                end = source.push(n)
                if wait:
                    wait_until(lambda end=end: acq.snapshot().index >= end, timeout=10)
            if i < TOGGLES:
                acq.toggle_hold()
        end = source.push(1)  # every command sent so far is applied before this chunk
        wait_until(lambda: acq.snapshot().index >= end, timeout=10)
        _check_holds(acq, TOGGLES)
    finally:
        acq.stop()


def test_toggles_racing_a_free_running_reader_are_all_applied() -> None:
    """No gate: the reader processes chunks as they come while 1000 toggles arrive from another thread."""
    source = GatedSource()
    acq = _started(source)
    stop = threading.Event()

    def feed() -> None:
        while not stop.is_set():
            source.push(7)
            wait_until(lambda: acq.snapshot().index >= source._next or stop.is_set(), timeout=10)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        for _ in range(TOGGLES):
            acq.toggle_hold()
        acq.send(SetAutoStart(False))
    finally:
        stop.set()
        feeder.join(10)
    end = source.push(1)
    wait_until(lambda: acq.snapshot().index >= end, timeout=10)
    _check_holds(acq, TOGGLES)
    acq.stop()


def test_listeners_added_and_removed_while_blocks_flow() -> None:
    """The listener list is copied before each call round: changing it from another thread never raises."""
    source = GatedSource()
    acq = _started(source)
    seen: list[int] = []

    def listener(block) -> None:
        seen.append(block.start)

    for _ in range(200):
        acq.add_listener(listener)
        source.push(3)
        acq.remove_listener(listener)
    end = source.push(1)
    wait_until(lambda: acq.snapshot().index >= end, timeout=10)
    assert acq.error is None
    acq.stop()
