"""SerialSource over loop:// and ptys: the three formats, auto-detection, gaps, reconnects and the error messages."""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import serial
from conftest import wait_until as wait_for

from emgfeedback.config import StreamInfo
from emgfeedback.errors import SourceError
from emgfeedback.io import serial_source
from emgfeedback.io.frame_protocol import encode_frames, encode_info
from emgfeedback.io.p2_protocol import encode_packets
from emgfeedback.io.protocol import DeviceInfo
from emgfeedback.io.serial_source import SerialSource, require_channels
from emgfeedback.io.sources import Chunk
from emgfeedback.io.spec import SourceOptions, open_source
from emgfeedback.io.virtual_device import COUNTER, VirtualDevice


def collect(src: SerialSource, n: int, timeout: float = 5.0) -> list[Chunk]:
    """Read chunks until ``n`` samples arrived."""
    chunks: list[Chunk] = []
    deadline = time.monotonic() + timeout
    while sum(c.samples.shape[0] for c in chunks) < n:
        if time.monotonic() > deadline:
            pytest.fail(f"only {sum(c.samples.shape[0] for c in chunks)} of {n} samples within {timeout} s")
        chunk = src.read(0.1)
        if chunk is not None:
            chunks.append(chunk)
    return chunks


def joined(chunks: list[Chunk]) -> tuple[np.ndarray, np.ndarray]:
    """(absolute indices, samples) of a list of chunks."""
    index = np.concatenate([np.arange(c.start, c.stop) for c in chunks])
    return index, np.concatenate([c.samples for c in chunks])


def feed_loop(src: SerialSource, data: bytes) -> threading.Thread:
    """Write ``data`` into the source's loop:// port as soon as it is open (loop:// echoes it back)."""

    def writer() -> None:
        deadline = time.monotonic() + 5.0
        while src.port is None and time.monotonic() < deadline:
            threading.Event().wait(0.002)
        port = src.port
        for i in range(0, len(data), 256):  # loop:// refuses a write longer than its write timeout at the baud rate
            if port is not None:
                port.write(data[i : i + 256])

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    return thread


INFO = DeviceInfo("emgfeedback-test", 1000.0, 3, 10, 5000.0)


def _values(n: int, ch: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 1024, (n, ch))


def _text(x: np.ndarray) -> bytes:
    return b"".join(b"\t".join(b"%d" % v for v in row) + b"\r\n" for row in x.tolist())


# --- loop:// ----------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", ["frame", "auto"])
def test_loop_frame_stream_with_a_drop(protocol: str) -> None:
    x = _values(600, 3)
    data = encode_info(INFO, seq=0, start=True) + encode_frames(0, x[:300]) + encode_frames(310, x[310:])
    src = SerialSource("loop://", protocol=protocol)
    feed_loop(src, data)
    with src:
        assert src.detected == "frame" and src.info.fs == 1000 and src.info.channels == 3
        assert src.info.adc_bits == 10 and src.info.firmware == "emgfeedback-test"
        index, samples = joined(collect(src, 590))
    np.testing.assert_array_equal(samples, np.concatenate([x[:300], x[310:]]))
    np.testing.assert_array_equal(index, np.r_[0:300, 310:600])
    assert src.stats.gaps == [(300, 10)] and src.stats.lost == 10 and src.stats.frames == 590


def test_loop_device_overruns_reach_the_source_stats() -> None:
    x = _values(400, 3, seed=3)
    late = np.zeros(400, dtype=bool)
    late[[50, 51, 300]] = True
    src = SerialSource("loop://", protocol="frame")
    feed_loop(src, encode_info(INFO, seq=0, start=True) + encode_frames(0, x, late))
    with src:
        _, samples = joined(collect(src, 400))
    np.testing.assert_array_equal(samples, x)
    assert src.stats.overruns == 3 and src.stats.lost == 0


@pytest.mark.parametrize("protocol", ["p2", "auto"])
def test_loop_p2_stream(protocol: str) -> None:
    x = _values(400, 6, seed=1)
    src = SerialSource("loop://", protocol=protocol, fs=250)
    feed_loop(src, encode_packets(7, x))
    with src:
        assert src.detected == "p2" and src.info.fs == 250 and src.info.channels == 6
        index, samples = joined(collect(src, 399))  # the newest packet waits for a successor
    np.testing.assert_array_equal(samples, x[:399])
    np.testing.assert_array_equal(index, np.arange(399))
    assert src.stats.lost == 0 and src.stats.gaps == []


@pytest.mark.parametrize("protocol", ["text", "auto"])
def test_loop_text_stream(protocol: str) -> None:
    x = _values(300, 2, seed=2)
    src = SerialSource("loop://", protocol=protocol, fs=500)
    feed_loop(src, b"header,line\r\n" + _text(x))
    with src:
        assert src.detected == "text" and src.info.fs == 500 and src.info.channels == 2
        _, samples = joined(collect(src, 300))
    np.testing.assert_array_equal(samples, x)
    assert src.stats.lost == 0


def test_p2_defaults_to_256_hz() -> None:
    src = SerialSource("loop://", protocol="p2")
    feed_loop(src, encode_packets(0, _values(50, 6)))
    with src:
        assert src.info.fs == 256


def test_open_source_builds_a_serial_source() -> None:
    src = open_source("loop://", SourceOptions(protocol="text", baud=9600, fs=100))
    assert isinstance(src, SerialSource) and src.protocol == "text" and src.baud == 9600 and src.fs == 100


# --- ptys ----------------------------------------------------------------------------------------
@pytest.fixture
def device_factory() -> Iterator[Callable[..., VirtualDevice]]:
    devices: list[VirtualDevice] = []

    def make(protocol: str = "frame", **kw: object) -> VirtualDevice:
        dev = VirtualDevice(protocol, **kw)  # type: ignore[arg-type]
        dev.start()
        devices.append(dev)
        return dev

    yield make
    for dev in devices:
        dev.stop()


def _check_counter(index: np.ndarray, samples: np.ndarray, channels: int) -> None:
    """The counter scenario: channel c = (device sample + 100 c) mod 1024, so index -> value is fixed."""
    k0 = samples[0, 0] - index[0]
    expected = (k0 + index[:, None] + 100 * np.arange(channels)[None, :]) % 1024
    np.testing.assert_array_equal(samples[:, :channels], expected)


@pytest.mark.parametrize(
    ("device_protocol", "protocol", "fs", "channels"),
    [
        ("frame", "auto", 1000, 4),
        ("frame", "frame", 2000, 2),
        ("p2", "auto", 256, 3),
        ("p2", "p2", 250, 1),
        ("text", "auto", 500, 2),
        ("text", "text", 1000, 4),
    ],
)
def test_pty_streams_each_protocol(
    device_factory: Callable[..., VirtualDevice], device_protocol: str, protocol: str, fs: float, channels: int
) -> None:
    dev = device_factory(device_protocol, scenario=COUNTER, fs=fs, channels=channels)
    src = SerialSource(dev.path, protocol=protocol, fs=None if device_protocol == "frame" else fs)
    with src:
        assert src.detected == device_protocol
        assert src.info.fs == fs
        assert src.info.channels == (6 if device_protocol == "p2" else channels)
        index, samples = joined(collect(src, int(0.4 * fs)))
    np.testing.assert_array_equal(index, np.arange(index.size))
    _check_counter(index, samples, channels)
    assert src.stats.lost == 0 and src.stats.rejected == 0 and src.stats.gaps == []


def test_auto_detect_finds_a_stopped_board(device_factory: Callable[..., VirtualDevice]) -> None:
    dev = device_factory("frame", scenario=COUNTER, fs=500, channels=1)
    with serial.serial_for_url(dev.path) as port:
        port.write(b"X")
        wait_for(lambda: not dev._streaming, 2.0, "the device to stop")
    with SerialSource(dev.path) as src:
        assert src.detected == "frame" and src.info.fs == 500
        index, samples = joined(collect(src, 100))
    _check_counter(index, samples, 1)


def test_reconnect_keeps_counting_when_the_device_counter_runs_on(
    device_factory: Callable[..., VirtualDevice], tmp_path: Path
) -> None:
    link = tmp_path / "board"
    dev = device_factory("frame", scenario=COUNTER, fs=1000, channels=2, link=link)
    with SerialSource(str(link)) as src:
        chunks = collect(src, 300)
        dev.unplug()
        wait_for(lambda: not src.connected, 2.0, "the source to notice the lost port")
        away = dev.dropped
        wait_for(lambda: dev.dropped >= away + 400, 3.0, "400 ms without a port")
        dev.plug()
        plugged = time.monotonic()
        wait_for(lambda: src.connected, 2.0, "the reconnect")
        assert time.monotonic() - plugged < 2.0
        chunks += collect(src, 500)
    index, samples = joined(chunks)
    _check_counter(index, samples, 2)  # every sample after the gap sits at its true index
    assert src.stats.reconnects == 1
    assert len(src.stats.gaps) == 1
    start, length = src.stats.gaps[0]
    assert 400 <= length <= 2000 and src.stats.lost == length
    assert np.count_nonzero(np.diff(index) != 1) == 1 and index[np.argmax(np.diff(index)) + 1] == start + length


def test_reconnect_after_a_reboot_estimates_the_gap_from_wall_time(
    device_factory: Callable[..., VirtualDevice], tmp_path: Path
) -> None:
    link = tmp_path / "board"
    dev = device_factory("frame", scenario=COUNTER, fs=1000, channels=1, link=link, reboot_on_plug=True)
    with SerialSource(str(link)) as src:
        chunks = collect(src, 200)
        t0_old = dev.stream_t0
        k0 = int(chunks[0].samples[0, 0]) - chunks[0].start  # device sample number of index 0 (< 1024 here)
        dev.unplug()
        wait_for(lambda: not src.connected, 2.0, "the source to notice the lost port")
        away = dev.dropped
        wait_for(lambda: dev.dropped >= away + 300, 3.0, "300 ms without a port")
        dev.plug()
        wait_for(lambda: src.connected, 2.0, "the reconnect")
        chunks += collect(src, sum(c.samples.shape[0] for c in chunks) + 100)
        t0_new = dev.stream_t0
    assert src.stats.reconnects == 1 and len(src.stats.gaps) == 1
    start, length = src.stats.gaps[0]
    after = next(c for c in chunks if c.start == start + length)
    old_last = t0_old + (k0 + start - 1) / 1000.0  # when the device made the last sample before the gap
    new_first = t0_new + after.samples[0, 0] / 1000.0  # and the first one after (its counter restarted)
    true_gap = round((new_first - old_last) * 1000.0) - 1
    print(f"reported gap {length}, true gap {true_gap}")
    assert abs(length - true_gap) <= 60, (length, true_gap)


def test_reconnect_restarts_a_board_that_comes_back_stopped(device_factory: Callable[..., VirtualDevice], tmp_path: Path) -> None:
    link = tmp_path / "board"
    dev = device_factory("frame", scenario=COUNTER, fs=1000, channels=1, link=link)
    with SerialSource(str(link)) as src:
        chunks = collect(src, 200)
        dev.unplug()
        wait_for(lambda: not src.connected, 2.0, "the source to notice the lost port")
        dev.halt()
        dev.plug()
        wait_for(lambda: src.connected, 2.0, "the reconnect")
        wait_for(lambda: dev.streaming, 2.0, "the host to restart the stream")
        chunks += collect(src, 300)  # fails unless samples flow again after the reconnect
    index, _ = joined(chunks)
    assert np.all(np.diff(index) > 0)
    assert src.stats.reconnects == 1 and len(src.stats.gaps) == 1


def test_a_port_that_goes_silent_is_reopened_and_the_board_restarted(device_factory: Callable[..., VirtualDevice]) -> None:
    dev = device_factory("frame", scenario=COUNTER, fs=1000, channels=1)
    src = SerialSource(dev.path)
    src.stall_timeout = 0.5
    with src:
        chunks = collect(src, 200)
        dev.halt()  # the port stays open, the board sends nothing more
        wait_for(lambda: src.stats.reconnects == 1, 3.0, "the silent port to be reopened")
        wait_for(lambda: dev.streaming, 2.0, "the host to restart the stream")
        chunks += collect(src, 300)
    index, _ = joined(chunks)
    assert np.all(np.diff(index) > 0)
    assert len(src.stats.gaps) == 1 and src.stats.gaps[0][1] >= 400  # the silence is a gap, not glued over
    assert src.last_error is not None and "no data for" in src.last_error


def test_read_never_blocks_longer_than_its_timeout_and_interrupt_wakes_it(
    device_factory: Callable[..., VirtualDevice],
) -> None:
    dev = device_factory("frame", scenario=COUNTER, fs=500, channels=1)
    src = SerialSource(dev.path)
    src.open()
    try:
        dev.unplug()
        wait_for(lambda: not src.connected, 2.0, "the lost port")
        while src.read(0.0) is not None:  # drain
            pass
        for timeout in (0.0, 0.05, 0.2):
            t = time.monotonic()
            assert src.read(timeout) is None
            assert time.monotonic() - t < timeout + 1.0  # returns by its timeout (a margin no loaded machine misses)
        result: list[object] = []
        reader = threading.Thread(target=lambda: result.append(src.read(10.0)))
        t = time.monotonic()
        reader.start()
        src.interrupt()
        reader.join(2.0)
        assert result == [None] and time.monotonic() - t < 3.0  # not the 10 s of the read
    finally:
        t = time.monotonic()
        src.close()
        assert time.monotonic() - t < 3.0  # not a wait for a read timeout
    src.close()  # twice is fine
    assert src.read(0.01) is None


def test_close_is_fast_while_streaming(device_factory: Callable[..., VirtualDevice]) -> None:
    dev = device_factory("text", scenario=COUNTER, fs=1000, channels=1)
    src = SerialSource(dev.path, protocol="text", fs=1000)
    src.open()
    collect(src, 50)
    t = time.monotonic()
    src.close()
    assert time.monotonic() - t < 3.0  # not a wait for a read timeout
    assert src._thread is not None and not src._thread.is_alive() and src.port is None


# --- errors ----------------------------------------------------------------------------------
def _one_line_error(src: SerialSource, *needles: str) -> str:
    with pytest.raises(SourceError) as info:
        src.open()
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
    return message


def test_missing_port_names_the_devices_command(tmp_path: Path) -> None:
    _one_line_error(SerialSource(str(tmp_path / "ttyACM9")), "no such serial port", "emgfeedback devices")


def test_directory_is_not_a_port(tmp_path: Path) -> None:
    _one_line_error(SerialSource(str(tmp_path)), "is a directory", "emgfeedback devices")


def test_regular_file_is_not_a_port(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    _one_line_error(SerialSource(str(f)), "not a serial port")


def test_permission_denied_names_the_dialout_group(monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(url: str, *args: object, **kwargs: object) -> serial.SerialBase:
        raise serial.SerialException(errno.EACCES, f"could not open port {url}: [Errno 13] Permission denied: '{url}'")

    monkeypatch.setattr(serial_source.serial, "serial_for_url", denied)
    _one_line_error(SerialSource("/dev/ttyACM0"), "permission denied", "sudo usermod -aG dialout $USER", "log out")


@pytest.mark.parametrize("code", [errno.EBUSY, errno.EAGAIN])
def test_busy_port_from_the_os(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    def busy(url: str, *args: object, **kwargs: object) -> serial.SerialBase:
        raise serial.SerialException(code, f"could not open port {url}: [Errno {code}] {os.strerror(code)}")

    monkeypatch.setattr(serial_source.serial, "serial_for_url", busy)
    _one_line_error(SerialSource("/dev/ttyUSB0"), "port busy", "another program holds it (the Arduino IDE's serial monitor")


def test_busy_port_held_by_another_reader(device_factory: Callable[..., VirtualDevice]) -> None:
    dev = device_factory("frame", scenario=COUNTER, fs=500, channels=1)
    with SerialSource(dev.path):
        _one_line_error(SerialSource(dev.path), "port busy", "another program holds it (the Arduino IDE's serial monitor")


def test_text_needs_a_sample_rate() -> None:
    _one_line_error(SerialSource("loop://", protocol="text"), "--fs")


def test_auto_detected_text_needs_a_sample_rate() -> None:
    src = SerialSource("loop://")
    feed_loop(src, _text(_values(20, 2)))
    _one_line_error(src, "text lines", "--fs")


def test_unknown_protocol() -> None:
    with pytest.raises(SourceError, match="auto, frame, text or p2"):
        SerialSource("loop://", protocol="modbus")


class _Pty:
    """A bare pty whose master writes ``chunk`` every 10 ms until closed (a board at the wrong baud)."""

    def __init__(self, chunk: bytes) -> None:
        self.master, slave = os.openpty()
        self.path = os.ttyname(slave)
        os.close(slave)
        self.chunk = chunk
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.01):
            if self.chunk:
                with contextlib.suppress(OSError):  # nobody reading yet
                    os.write(self.master, self.chunk)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(1.0)
        os.close(self.master)


def test_no_valid_data_within_2_s_names_baud_and_firmware() -> None:
    pty = _Pty(bytes(np.random.default_rng(3).integers(0, 256, 64, dtype=np.uint8)))
    try:
        src = SerialSource(pty.path)
        t = time.monotonic()
        _one_line_error(src, "no valid data within 2 s", "baud", "firmware")
        assert 1.5 <= time.monotonic() - t < 3.5
    finally:
        pty.close()


def test_silent_port_names_baud_and_firmware() -> None:
    pty = _Pty(b"")
    try:
        src = SerialSource(pty.path, protocol="p2")
        t = time.monotonic()
        _one_line_error(src, "no data within 2 s", "57600 baud", "sketch")
        assert 1.5 <= time.monotonic() - t < 3.0
    finally:
        pty.close()


def test_frames_without_an_info_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    src = SerialSource("loop://", protocol="frame", data_timeout=0.5)
    feed_loop(src, encode_frames(0, _values(100, 2)))
    _one_line_error(src, "never answered the info request", "firmware")


def test_require_channels() -> None:
    info = StreamInfo(fs=1000.0, channels=2, description="/dev/ttyACM0 (frame at 500000 baud)")
    require_channels(info, 2)
    with pytest.raises(SourceError, match="sends 2 channels but 4 are needed") as exc:
        require_channels(info, 4)
    assert "\n" not in str(exc.value)
    with pytest.raises(SourceError, match="the device sends 1 channel but 2"):
        require_channels(DeviceInfo("fw", 1000.0, 1, 10, 5000.0), 2)


def test_open_again_after_close_continues_the_indices(device_factory: Callable[..., VirtualDevice]) -> None:
    dev = device_factory("frame", scenario=COUNTER, fs=1000, channels=1)
    src = SerialSource(dev.path)
    src.open()
    first = collect(src, 100)
    src.close()
    dropped = dev.dropped  # bytes already in flight may still count as sent: wait on what the device drops
    wait_for(lambda: dev.dropped > dropped + 200, 3.0, "200 ms with the port closed")
    src.open()
    try:
        second = collect(src, 100)
    finally:
        src.close()
    index, _ = joined(first + second)
    assert np.all(np.diff(index) > 0) and len(src.stats.gaps) == 1
    start, length = src.stats.gaps[0]
    assert start == first[-1].stop and second[0].start == start + length
    true_gap = (int(second[0].samples[0, 0]) - int(first[-1].samples[-1, 0]) - 1) % 1024  # from the device counter
    assert true_gap >= 200 and abs(length - true_gap) <= 60, (length, true_gap)


def test_acquisition_runs_on_a_serial_source_and_sees_the_reconnect_gap(
    device_factory: Callable[..., VirtualDevice], tmp_path: Path
) -> None:
    from emgfeedback.config import FilterSpec
    from emgfeedback.dsp import Pipeline
    from emgfeedback.runtime.acquisition import Acquisition

    link = tmp_path / "board"
    dev = device_factory("frame", fs=1000, channels=4, link=link)
    acq = Acquisition(SerialSource(str(link)), lambda info: Pipeline(FilterSpec(fs=info.fs)))
    acq.start()
    try:
        assert acq.opened.wait(5.0) and acq.error is None and acq.info is not None and acq.info.channels == 4
        wait_for(lambda: acq.samples >= 300, 3.0, "300 processed samples")
        dev.unplug()
        wait_for(lambda: not acq.source.connected, 2.0, "the lost port")  # type: ignore[attr-defined]
        dev.plug()
        wait_for(lambda: acq.stats.reconnects == 1 and len(acq.stats.gaps) == 1, 3.0, "the reconnect")
        seen = acq.samples
        wait_for(lambda: acq.samples >= seen + 200, 3.0, "samples after the reconnect")
        events = acq.drain_events()
        assert [e.kind for e in events] == ["open", "gap"] and events[1].length == acq.stats.gaps[0][1]
    finally:
        t = time.monotonic()
        acq.stop()
        assert time.monotonic() - t < 3.0 and acq.finished.is_set()
