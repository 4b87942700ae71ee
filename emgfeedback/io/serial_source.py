"""Serial input: a port or pyserial URL, one reader thread, three stream formats, automatic reconnect.

The port opens through ``serial.serial_for_url``, so ``loop://``, a pty and a real port
share one code path. After ``open`` (which detects the format and learns fs and the
channel count, :mod:`~emgfeedback.io.serial_detect`) one reader thread, in the style of
pyserial's ``serial.threaded``, feeds every byte to a decoder and queues chunks at
absolute sample indices (:mod:`~emgfeedback.io.index_map`); ``read`` takes them without
ever blocking longer than its timeout. Lost frames and reconnects become gaps (an index
jump) in ``stats.gaps``; when the port disappears the thread reopens it with backoff and
the stream goes on.
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
import time

import numpy as np
import serial

from emgfeedback.errors import SourceError
from emgfeedback.io.frame_protocol import CMD_INFO, CMD_START
from emgfeedback.io.index_map import IndexMapper
from emgfeedback.io.protocol import Decoder, DeviceInfo, Frames
from emgfeedback.io.serial_detect import (
    COUNTER_MODULO,
    PROTOCOLS,
    Detection,
    bauds_to_try,
    check_protocol,
    detect,
    make_decoder,
    stream_info,
)
from emgfeedback.io.serial_errors import explain_open_error, require_channels
from emgfeedback.io.sources import Chunk, Source

__all__ = ["PROTOCOLS", "SerialSource", "explain_open_error", "make_decoder", "require_channels"]


class SerialSource(Source):
    """sEMG samples from a serial port in our frame format, OpenEEG P2 or text lines.

    ``protocol``: ``auto`` (ask for our info frame, else look for P2 packets, else text
    lines), ``frame``, ``p2`` or ``text``. ``baud`` defaults per format (frame 500000,
    P2 57600, text 115200; auto tries each). ``fs`` is required for text, defaults to
    256 Hz for P2 and comes from the info reply for our frames.
    """

    #: Seconds ``open`` waits for valid data before giving up.
    DATA_TIMEOUT = 2.0
    #: Seconds auto-detection stays at a baud rate that yields bytes but no valid data.
    BAUD_DWELL = 0.5
    #: Seconds without a single byte, once streaming, after which the port is reopened (a stalled
    #: USB adapter, a board that stopped or hung: reopening resets an Arduino and sends start).
    STALL_TIMEOUT = 3.0
    #: Reconnect backoff: first wait, growth factor, longest wait (s).
    BACKOFF = (0.05, 1.5, 0.5)
    #: Shortest time between two decodes (s): bytes gather meanwhile; adds at most this much latency. One
    #: dashboard frame (30 fps): decoding more often shows nothing sooner, and each wake-up of the reader, the
    #: chain and the feedback costs CPU (live at 20 ms: ~12 % of a core, at 33 ms: ~10 %; device-to-gauge
    #: median 15 -> 21 ms, `python -m benchmarks live_cpu latency`).
    READ_INTERVAL = 0.033
    #: The queue keeps at most this many seconds of samples for a consumer that stopped reading.
    QUEUE_SECONDS = 30.0

    def __init__(
        self,
        url: str,
        *,
        protocol: str = "auto",
        baud: int | None = None,
        fs: float | None = None,
        data_timeout: float | None = None,
    ) -> None:
        super().__init__()
        check_protocol(protocol)
        if fs is not None and not fs > 0:
            raise SourceError(f"sample rate {fs:g} Hz is not positive: give a positive --fs")
        self.url = url
        self.protocol = protocol
        self.baud = baud
        self.fs = fs
        self.data_timeout = self.DATA_TIMEOUT if data_timeout is None else data_timeout
        self.stall_timeout = self.STALL_TIMEOUT  # 0 turns the stall reopen off
        self.port: serial.SerialBase | None = None
        self.detected: str | None = None  # the format in use once open
        self.device_info: DeviceInfo | None = None
        self.last_error: str | None = None  # why the port was last lost
        self._decoder: Decoder | None = None
        self._mapper: IndexMapper | None = None
        self._baud_in_use: int | None = None
        self._queue: collections.deque[Chunk] = collections.deque()
        self._queued = 0
        self._cond = threading.Condition()
        self._closing = threading.Event()
        self._interrupted = threading.Event()
        self._connected = threading.Event()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._fatal: str | None = None
        self._ended = False
        self._rejected_before = 0  # rejected counts of decoders replaced by reconnects and reopens
        self._cpu = 0.0

    # --- Source interface --------------------------------------------------------------------
    def open(self) -> None:
        """Open the port, detect the format and rate, start the reader thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        if self.protocol == "text" and self.fs is None:
            raise SourceError(f"{self.url}: text lines do not state the sample rate: give it with --fs")
        self._closing.clear()
        self._interrupted.clear()
        self._stop.clear()
        with self._cond:
            self._ended, self._fatal = False, None
        bauds = bauds_to_try(self.protocol, self.baud)
        port = self._open_port(bauds[0])
        how = Detection(self.url, self.protocol, self.data_timeout, self.BAUD_DWELL, self._cancelled, self._write)
        try:
            winner, baud = detect(port, bauds, how)
            self._info, self.device_info = stream_info(winner, baud, self.url, self.fs)
        except BaseException:
            self._close_port(port)
            self.port = None
            raise
        self.detected, self._baud_in_use = winner.name, baud
        if self._decoder is not None:  # opened again after a close
            self._rejected_before = self.stats.rejected
        self._decoder = winner.decoder
        if self._mapper is None:
            self._mapper = IndexMapper(self.stats, self._info.fs, COUNTER_MODULO.get(winner.name))
        else:  # indices go on, across a gap measured in wall time
            self._mapper.fs, self._mapper.modulo = self._info.fs, COUNTER_MODULO.get(winner.name)
            self._mapper.reopened()
        self._connected.set()
        for arrival, frames in winner.frames:
            self._deliver(frames, arrival)
        self._thread = threading.Thread(target=self._run, name=f"emgfeedback-serial {self.url}", daemon=True)
        self._thread.start()

    def read(self, timeout: float = 0.1) -> Chunk | None:
        """The queued samples up to the next gap, or None after ``timeout`` (never longer)."""
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._cond:
            while not self._queue:
                if self._fatal is not None:
                    raise SourceError(self._fatal)
                if self._interrupted.is_set():
                    self._interrupted.clear()
                    return None
                if self._ended or self._info is None:
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            parts = [self._queue.popleft()]
            while self._queue and self._queue[0].start == parts[-1].stop:
                parts.append(self._queue.popleft())
            self._queued -= sum(p.samples.shape[0] for p in parts)
        if len(parts) == 1:
            return parts[0]
        return Chunk(parts[0].start, np.concatenate([p.samples for p in parts]))

    def close(self) -> None:
        """Stop the reader thread and release the port; fast, and safe to call twice."""
        self._closing.set()
        self._stop.set()
        port = self.port
        if port is not None:
            with contextlib.suppress(AttributeError, OSError, serial.SerialException):
                port.cancel_read()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)
        if port is not None and (thread is None or not thread.is_alive()):
            self._close_port(port)
            self.port = None
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def interrupt(self) -> None:
        """Make a blocked ``read`` (or a detection in ``open``) return soon; thread-safe."""
        self._interrupted.set()
        with self._cond:
            self._cond.notify_all()

    # --- status ------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """Whether the port is open right now (False while reconnecting)."""
        return self._connected.is_set()

    @property
    def decoder(self) -> Decoder | None:
        """The decoder in use (its stats hold garbage bytes and device overruns)."""
        return self._decoder

    @property
    def format_name(self) -> str:
        return self.detected or "serial"

    @property
    def reader_cpu_seconds(self) -> float:
        """CPU time the reader thread has used so far."""
        return self._cpu

    @property
    def baud_in_use(self) -> int | None:
        return self._baud_in_use

    # --- the port --------------------------------------------------------------------------------
    def _cancelled(self) -> bool:
        return self._interrupted.is_set() or self._closing.is_set()

    def _raw_open(self, baud: int) -> serial.SerialBase:
        kwargs: dict[str, object] = {"baudrate": baud, "timeout": 0.05, "write_timeout": 0.5}
        if os.name == "posix" and "://" not in self.url:
            kwargs["exclusive"] = True  # a port another program holds is reported as busy
        return serial.serial_for_url(self.url, **kwargs)

    def _open_port(self, baud: int) -> serial.SerialBase:
        try:
            port = self._raw_open(baud)
        except (serial.SerialException, OSError) as exc:
            raise SourceError(explain_open_error(self.url, exc)) from None
        except ValueError as exc:
            raise SourceError(f"{self.url}: {exc}: check the port name and --baud") from None
        self.port = port
        return port

    def _write(self, port: serial.SerialBase, data: bytes) -> None:
        # a dead port is noticed by the reader; a command that did not go out is sent again
        with self._write_lock, contextlib.suppress(serial.SerialException, OSError):
            port.write(data)

    @staticmethod
    def _close_port(port: serial.SerialBase) -> None:
        with contextlib.suppress(serial.SerialException, OSError):
            port.close()

    # --- the reader thread ---------------------------------------------------------------------
    def _run(self) -> None:
        """Read, decode, queue; on a lost port reopen with backoff; any other error ends the thread."""
        port = self.port
        last_byte = time.monotonic()
        try:
            while not self._closing.is_set() and port is not None:
                try:
                    data = port.read(port.in_waiting or 1)  # blocks (up to the port timeout) for the first byte
                    silent = time.monotonic() - last_byte
                    if not data and self.stall_timeout > 0 and silent > self.stall_timeout:
                        raise serial.SerialException(f"no data for {silent:.1f} s, port reopened")
                except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                    if self._closing.is_set():
                        break
                    port = self._reconnect(port, exc)
                    last_byte = time.monotonic()
                    continue
                if data and self._decoder is not None:
                    woke = last_byte = time.monotonic()
                    self._deliver(self._decoder.feed(data), woke)
                    # let bytes gather: one decode per READ_INTERVAL costs far less CPU than one per USB packet. A
                    # plain sleep is one system call where an Event's timed wait is a Python lock dance; a close
                    # meanwhile is seen at the top of the loop, at most READ_INTERVAL later
                    self._cpu = time.thread_time()
                    time.sleep(max(self.READ_INTERVAL - (time.monotonic() - woke), 0.0))
                self._cpu = time.thread_time()
        except SourceError as exc:
            self._fatal = str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug must end the thread with a message, not hang the reader
            self._fatal = f"{self.url}: serial reader failed: {type(exc).__name__}: {exc}"
        finally:
            self._cpu = time.thread_time()
            self._connected.clear()
            if port is not None:
                self._close_port(port)
            self.port = None
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def _reconnect(self, port: serial.SerialBase, exc: BaseException) -> serial.SerialBase | None:
        """Close the lost port and reopen it with backoff; None once closing."""
        self._connected.clear()
        self.last_error = str(exc) or type(exc).__name__
        self._close_port(port)
        self.port = None
        mapper, decoder = self._mapper, self._decoder
        assert mapper is not None and decoder is not None
        self._deliver(decoder.flush(), mapper.last_arrival)  # frames the decoder held back belong before the gap
        mapper.connection_lost()
        delay, growth, longest = self.BACKOFF
        while not self._closing.wait(delay):
            delay = min(delay * growth, longest)
            try:
                new = self._raw_open(self._baud_in_use or bauds_to_try(self.protocol, self.baud)[0])
            except (serial.SerialException, OSError, ValueError):
                continue
            self.port = new
            if self._closing.is_set():
                return new
            self.stats.reconnects += 1
            if self.detected == "text":  # a line cut by the break is garbage: start on a fresh line
                self._rejected_before += decoder.stats.rejected
                self._decoder = make_decoder("text", self._info.channels if self._info else None)
                mapper.resumed(counter_continues=False)
            else:
                mapper.resumed(counter_continues=True, restarts=decoder.restarts)
                if self.detected == "frame":  # a board reset by the reconnect boots streaming; one told to stop must restart
                    self._write(new, CMD_INFO + CMD_START)
            self._connected.set()
            return new
        return None

    def _deliver(self, frames: Frames, arrival: float) -> None:
        """Check the batch against the stream's settings, place it at absolute indices, queue the chunks."""
        dec, mapper, info = self._decoder, self._mapper, self._info
        if dec is None or mapper is None or info is None:
            return
        self.stats.rejected = self._rejected_before + dec.stats.rejected
        self.stats.overruns = dec.stats.overruns
        self.stats.counter_ok = dec.stats.counter_ok
        if len(frames) == 0:
            return
        reply = dec.info
        if reply is not None and reply is not self.device_info:
            if reply.fs != info.fs or reply.channels != info.channels:
                raise SourceError(
                    f"{self.url}: the device now runs {reply.channels} channels at {reply.fs:g} Hz instead of "
                    f"{info.channels} at {info.fs:g} Hz: restart the command"
                )
            self.device_info = reply
        if frames.samples.shape[1] != info.channels:
            raise SourceError(
                f"{self.url}: the device now sends {frames.samples.shape[1]} channels instead of {info.channels}: "
                "restart the command"
            )
        self._push(mapper.place(frames, arrival, dec.restarts, dec.stats.counter_ok))

    def _push(self, chunks: list[Chunk]) -> None:
        if not chunks:
            return
        limit = max(int(self.QUEUE_SECONDS * (self._info.fs if self._info else 1000.0)), 1)
        with self._cond:
            for c in chunks:
                self._queue.append(c)
                self._queued += c.samples.shape[0]
            while self._queued > limit and len(self._queue) > 1:
                dropped = self._queue.popleft()
                self._queued -= dropped.samples.shape[0]
                self.overflow += dropped.samples.shape[0]
            self._cond.notify_all()
