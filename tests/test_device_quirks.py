"""What real boards and real streams do: stuck P2 counters, rejected text lines, absurd values.

Over real ptys and through the real CLI: every whole packet kept at its true position, loss counted
only from a counter that proves it, rejected lines kept as gaps, and a chain no value can poison.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import wait_until as wait_for

from emgfeedback.cli import main
from emgfeedback.config import FilterSpec, StreamInfo
from emgfeedback.dsp import Pipeline
from emgfeedback.io.p2_protocol import CHANNELS, PACKET, encode_packets
from emgfeedback.io.serial_source import SerialSource
from emgfeedback.io.sources import Chunk, Source
from emgfeedback.runtime.acquisition import Acquisition
from emgfeedback.runtime.blocks import Block
from emgfeedback.session.store import SessionStore

pytestmark = pytest.mark.skipif(os.name != "posix", reason="ptys are POSIX")


class Board:
    """A pty whose master side plays scripted bytes, paced like a board at its baud rate.

    Like a real board, it streams once a host has the port open (pyserial flushes the input when
    it opens a port, so the first few bytes may still be lost: tests place samples relative to
    the first one received, which names its own position).
    """

    def __init__(self) -> None:
        import tty

        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        os.close(slave)  # the master sees a hang-up until a host opens the port
        self._parts: list[tuple[bytes, threading.Event | None]] = []
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def play(self, data: bytes, *, after: threading.Event | None = None) -> None:
        """Queue ``data``, to be written once ``after`` is set (at once if None)."""
        self._parts.append((data, after))

    def start(self, pace: int = 256, period: float = 0.005) -> None:
        """Once a host has the port open, write the queued parts, ``pace`` bytes every ``period`` seconds."""
        import select

        def host_present() -> bool:
            poller = select.poll()
            poller.register(self.master, select.POLLOUT)
            return not any(ev & select.POLLHUP for _, ev in poller.poll(0))

        def run() -> None:
            while not host_present():
                if self._closed.wait(0.005):
                    return
            for data, after in self._parts:
                while after is not None and not after.wait(0.01):
                    if self._closed.is_set():
                        return
                for i in range(0, len(data), pace):
                    if self._closed.wait(period):
                        return
                    view = memoryview(data[i : i + pace])
                    while view:
                        try:
                            written = os.write(self.master, view)
                        except OSError:  # the host closed the port
                            return
                        view = view[written:]

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(2.0)
        with contextlib.suppress(OSError):
            os.close(self.master)


@pytest.fixture
def board() -> Iterator[Board]:
    b = Board()
    yield b
    b.close()


# --- OpenEEG P2: a counter stuck at 0, then counting with drops ---------------------------------------
def test_p2_counter_stuck_at_zero_then_counting_with_10_drops_over_a_pty(board: Board) -> None:
    stuck, counting = 400, 400
    n = stuck + counting
    x = np.random.default_rng(8).integers(0, 1024, (n, CHANNELS))
    x[:, 0] = np.arange(n)  # channel 0 names the packet
    counters = np.r_[np.zeros(stuck, dtype=np.int64), 1 + np.arange(counting)]  # 0 0 0 ... 0 1 2 3 ...
    raw = encode_packets(0, x, counters=counters)
    packets = [raw[i * PACKET : (i + 1) * PACKET] for i in range(n)]
    dropped = set(range(stuck + 150, stuck + 160))  # 10 packets in a row lost on the wire
    kept = [i for i in range(n) if i not in dropped]
    go_on = threading.Event()
    board.play(b"".join(packets[:stuck]))
    board.play(b"".join(packets[i] for i in kept if i >= stuck), after=go_on)
    board.start()

    with SerialSource(board.path, protocol="p2", fs=250) as src:
        first: list[Chunk] = []
        wait_for(lambda: _take(src, first) >= stuck - 1, 20.0, "the stuck stretch")  # the newest waits for its successor
        assert not src.stats.counter_ok  # the stuck stretch: not trusted, nothing counted lost
        assert src.stats.lost == 0 and src.stats.gaps == []
        go_on.set()
        origin0 = int(first[0].samples[0, 0])  # the packet the host saw first (pyserial flushes on open)
        assert origin0 < 50
        expected = [i for i in kept if i >= origin0]
        chunks = first
        wait_for(lambda: _take(src, chunks) >= len(expected) - 1, 20.0, "the counting stretch")
        stats = src.stats
    index = np.concatenate([np.arange(c.start, c.stop) for c in chunks])
    samples = np.concatenate([c.samples for c in chunks])
    origin = samples[:, 0].astype(int)
    np.testing.assert_array_equal(origin, expected[: origin.size])  # every whole packet kept
    np.testing.assert_array_equal(index, origin - origin0)  # at its true position
    np.testing.assert_array_equal(samples, x[origin])
    assert stats.lost == 10 and stats.gaps == [(stuck + 150 - origin0, 10)] and stats.rejected == 0
    assert stats.counter_ok  # counting again


def _take(src: SerialSource, into: list[Chunk]) -> int:
    """Read what is queued into ``into``; the samples taken so far."""
    chunk = src.read(0.05)
    if chunk is not None:
        into.append(chunk)
    return sum(c.samples.shape[0] for c in into)


def test_monitor_json_says_counter_ok(board: Board, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    x = np.random.default_rng(1).integers(0, 1024, (2000, CHANNELS))
    board.play(encode_packets(0, x, counters=np.zeros(2000, dtype=np.int64)))
    board.start(pace=68, period=0.004)  # 4 packets every 4 ms: about 1 kHz, for 2 s
    assert main(["monitor", "--source", board.path, "--protocol", "p2", "--fs", "250", "--seconds", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["counter_ok"] is False and summary["lost"] == 0 and summary["frames"] > 100


# --- text lines: rejected lines and huge values through `record` ------------------------------------
def test_text_stream_with_rejected_lines_and_huge_values_records_true_positions(board: Board) -> None:
    fs, n = 500, 1500
    rng = np.random.default_rng(3)
    where = rng.choice(np.arange(100, n - 400), 30, replace=False).tolist()
    bad = dict(zip(where, [b"1e308,5", b"99999999,5", b"nan,5", b"xx,5", b"1,2,3"] * 6, strict=True))
    lines = [bad.get(i, b"%d,%d" % (i, 500 + (i * 37) % 200)) + b"\r\n" for i in range(n)]
    board.play(b"".join(lines))
    board.start(pace=64, period=0.004)
    seconds = (n - 300) / fs  # stop before the end: the host may miss the first lines (pyserial flushes on open)
    # a bound: if the stream stalled, SIGTERM ends the recording (cleanly) and the checks below fail
    watchdog = threading.Timer(60.0, os.kill, (os.getpid(), signal.SIGTERM))
    watchdog.start()
    try:
        code = main(["record", "--source", board.path, "--protocol", "text", "--fs", str(fs), "--seconds", str(seconds)])
    finally:
        watchdog.cancel()
    assert code == 0
    with SessionStore() as store:
        (info,) = store.sessions()
        assert info.status == "complete"
        index, raw = store.read(info.id, "raw", 0, n + 10)
        _, envelope = store.read(info.id, "envelope", 0, n + 10)
    line = raw[:, 0].astype(int)  # channel 0 names the line
    first, last = int(line[0]), int(line[-1])
    assert first < 100 and last > max(bad)
    np.testing.assert_array_equal(index, line - first)  # every stored sample sits at its line's position
    assert sorted(set(range(first, last + 1)) - set(line.tolist())) == sorted(bad)  # a gap for each bad line
    assert np.isfinite(raw).all() and np.isfinite(envelope).all()


# --- the chain cannot be poisoned -------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan, 1e308, 99999999.0])
def test_a_huge_value_is_held_and_the_envelope_is_finite_within_one_window(bad: float) -> None:
    spec = FilterSpec(fs=1000.0)
    pipe = Pipeline(spec)
    x = 100.0 * np.sin(np.arange(3000)[:, None] * 0.3) + 512.0
    x = np.repeat(x, 2, axis=1)
    x[1000, 0] = bad
    out = pipe.process(x[:1001])
    after = pipe.process(x[1001 : 1001 + spec.window_samples])
    assert out.held == 1 and out.raw[1000, 0] == out.raw[999, 0]
    assert np.isfinite(out.envelope).all() and np.isfinite(after.envelope).all()
    clean = Pipeline(spec).process(np.repeat(x[:, 1:], 2, axis=1)[: 1001 + spec.window_samples]).envelope
    # channel 1 never saw the bad value: untouched
    np.testing.assert_allclose(np.r_[out.envelope, after.envelope][:, 1], clean[:, 1])


class _PoisonSource(Source):
    """A file-like source whose channel 0 carries one inf and one 1e308 among plain values."""

    def __init__(self) -> None:
        super().__init__()
        self.pos = 0

    def open(self) -> None:
        self._info = StreamInfo(fs=1000.0, channels=2, description="poison")

    def read(self, timeout: float = 0.1) -> Chunk | None:
        if self.pos >= 4000:
            raise EOFError("done")
        t = np.arange(self.pos, self.pos + 100)
        x = np.c_[50 * np.sin(0.3 * t), 50 * np.cos(0.3 * t)]
        if self.pos == 1000:
            x[10, 0] = np.inf
        if self.pos == 2000:
            x[0, 0] = 1e308
        chunk = Chunk(self.pos, x)
        self.pos = chunk.stop
        return chunk


def test_acquisition_stores_no_inf_and_recovers_within_one_window() -> None:
    seen: list[Block] = []
    spec = FilterSpec(fs=1000.0)
    acq = Acquisition(_PoisonSource(), lambda info: Pipeline(spec))
    acq.add_listener(seen.append)
    acq.start()
    assert acq.finished.wait(20.0)
    assert acq.error is None and acq.held == 2
    raw = np.concatenate([b.raw for b in seen])
    env = np.concatenate([b.envelope for b in seen])
    assert raw.shape == (4000, 2) and np.isfinite(raw).all() and np.isfinite(env).all()
    w = spec.window_samples
    assert env[2000 + w :, 0].max() < 10 * env[500:1000, 0].max()  # back to the signal's own level


def test_the_dashboard_status_bar_says_the_counter_is_unreliable(board: Board, qtbot) -> None:
    from emgfeedback.config import Band
    from emgfeedback.runtime.live import build_acquisition
    from emgfeedback.ui.main_window import Dashboard, DashboardConfig

    x = np.random.default_rng(6).integers(400, 600, (3000, CHANNELS))
    board.play(encode_packets(0, x, counters=np.zeros(3000, dtype=np.int64)))
    board.start(pace=4 * PACKET, period=0.016)  # 250 packets a second, for 12 s
    acq = build_acquisition(SerialSource(board.path, protocol="p2", fs=250))
    window = Dashboard(acq, DashboardConfig(Band(), {}, board.path, theme="dark"))
    qtbot.addWidget(window)
    window.show()  # starts the acquisition
    qtbot.waitUntil(lambda: "counter unreliable" in window.status_rate.text(), timeout=20000)
    assert "lost" not in window.status_rate.text() and "cannot be counted" in window.status_rate.toolTip()
    window.close()
    assert not acq.running
