"""Serial input: a port or pyserial URL, one reader thread, three stream formats, automatic reconnect.

The port opens through ``serial.serial_for_url``, so ``loop://``, a pty and a real port
share one code path. After ``open`` (which detects the format and learns fs and the
channel count) one reader thread, in the style of pyserial's ``serial.threaded``, feeds
every byte to a decoder and queues chunks with absolute sample indices; ``read`` takes
them without ever blocking longer than its timeout. Lost frames and reconnects become
gaps (an index jump) in ``stats.gaps``; when the port disappears the thread reopens it
with backoff and the stream goes on.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import itertools
import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import serial

from emgfeedback.config import StreamInfo
from emgfeedback.errors import SourceError
from emgfeedback.io.frame_protocol import CMD_INFO, CMD_START, FrameDecoder
from emgfeedback.io.p2_protocol import DEFAULT_FS as P2_DEFAULT_FS
from emgfeedback.io.p2_protocol import P2Decoder
from emgfeedback.io.protocol import Decoder, DeviceInfo, Frames
from emgfeedback.io.sources import Chunk, Source
from emgfeedback.io.text_protocol import TextDecoder

PROTOCOLS = ("frame", "p2", "text")
DEFAULT_BAUD = {"frame": 500000, "p2": 57600, "text": 115200}
#: Baud rates auto-detection tries, in order, when none is given (every format is looked for at each).
AUTO_BAUDS = (500000, 57600, 115200, 9600)
#: Counter period of each format (None: no counter, gaps come from wall time alone).
COUNTER_MODULO: dict[str, int | None] = {"frame": 65536, "p2": 256, "text": None}
#: Frames (or lines) of one format that prove the format during detection.
PROOF_FRAMES = 3


def require_channels(info: StreamInfo | DeviceInfo, needed: int) -> None:
    """Raise a one-line SourceError when the stream has fewer channels than the muscles mapped to it."""
    if info.channels < needed:
        what = getattr(info, "description", "") or "the device"
        raise SourceError(
            f"{what} sends {info.channels} channel{'s' if info.channels != 1 else ''} but {needed} are needed: "
            "connect more sensors and set the firmware's channel count, or map fewer muscles"
        )


def explain_open_error(url: str, exc: BaseException) -> str:
    """One line naming why ``url`` could not be opened and what to do about it."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code is None and isinstance(exc.__context__, OSError):
        code = exc.__context__.errno
    if code == errno.ENOENT or "FileNotFoundError" in text:
        return f"{url}: no such serial port: is the board plugged in? run `emgfeedback devices` to list the ports"
    if code == errno.EISDIR:
        return f"{url}: is a directory, not a serial port: run `emgfeedback devices` to list the ports"
    if code in (errno.EACCES, errno.EPERM) or "PermissionError" in text:
        if os.name == "nt":  # Windows reports a port another program holds as access denied
            return f"{url}: port busy: another program has it open (close the Arduino IDE serial monitor) and try again"
        return (
            f"{url}: permission denied: add yourself to the dialout group "
            "(sudo usermod -aG dialout $USER), then log out and in again"
        )
    if code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "exclusively lock" in text:
        return f"{url}: port busy: another program has it open (close the Arduino IDE serial monitor) and try again"
    if code in (errno.ENXIO, errno.ENODEV):
        return f"{url}: the device is not responding (unplugged?): plug it in again or run `emgfeedback devices`"
    if code == errno.ENOTTY or "Could not configure port" in text:
        return f"{url}: not a serial port: run `emgfeedback devices` to list the ports"
    return f"{url}: cannot open the serial port ({text.strip() or type(exc).__name__}): run `emgfeedback devices`"


def make_decoder(protocol: str, channels: int | None = None) -> Decoder:
    """A fresh decoder for a format name (``frame``, ``p2`` or ``text``)."""
    if protocol == "frame":
        return FrameDecoder()
    if protocol == "p2":
        return P2Decoder()
    if protocol == "text":
        return TextDecoder(channels, partial_first_line=True)
    raise SourceError(f"unknown serial protocol {protocol!r}: use auto, frame, text or p2")


@dataclass
class _Candidate:
    """One format being tried during detection, with what it decoded so far."""

    name: str
    decoder: Decoder
    frames: list[tuple[float, Frames]] = field(default_factory=list)

    @property
    def proven(self) -> bool:
        """Enough valid frames that this is the format (our frames also need the info reply)."""
        st = self.decoder.stats
        if self.name == "text":
            return self.decoder.channels is not None and st.frames >= PROOF_FRAMES and st.frames > st.rejected
        return st.frames >= PROOF_FRAMES


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
    #: Shortest time between two decodes (s): bytes gather meanwhile; adds at most this much latency.
    READ_INTERVAL = 0.02
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
        if protocol not in ("auto", *PROTOCOLS):
            raise SourceError(f"unknown serial protocol {protocol!r}: use auto, frame, text or p2")
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
        self.overflow = 0  # samples dropped because the consumer stopped reading
        self.last_error: str | None = None  # why the port was last lost
        self._decoder: Decoder | None = None
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
        self._base = 0  # absolute index = base + decoder index
        self._next = 0  # absolute index the next sample should have
        self._started = False
        self._last_arrival = 0.0
        self._resync: float | None = None  # arrival time of the last data before a reconnect
        self._counter_continues = False  # the decoder (and so the device counter) spans the reconnect
        self._restarts_before = 0  # the decoder's stream-start count when the port came back
        self._rejected_before = 0  # rejected counts of decoders replaced by reconnects
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
        bauds = self._bauds()
        port = self._open_port(bauds[0])
        try:
            winner, baud = self._detect(port, bauds)
            self._info = self._stream_info(winner, baud)
        except BaseException:
            self._close_port(port)
            self.port = None
            raise
        self.detected, self._decoder, self._baud_in_use = winner.name, winner.decoder, baud
        if self._started:  # opened again after a close: indices go on, across a gap measured in wall time
            self._rejected_before = self.stats.rejected
            self._resync, self._started, self._counter_continues = self._last_arrival, False, False
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
    def reader_cpu_seconds(self) -> float:
        """CPU time the reader thread has used so far."""
        return self._cpu

    @property
    def baud_in_use(self) -> int | None:
        return self._baud_in_use

    # --- opening and detection -----------------------------------------------------------------
    def _bauds(self) -> list[int]:
        if self.baud is not None:
            return [self.baud]
        if self.protocol == "auto":
            return list(AUTO_BAUDS)
        return [DEFAULT_BAUD[self.protocol]]

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

    def _detect(self, port: serial.SerialBase, bauds: list[int]) -> tuple[_Candidate, int]:
        """Try each baud rate, feeding the bytes to every candidate format, until one proves itself."""
        names = PROTOCOLS if self.protocol == "auto" else (self.protocol,)
        t_open = time.monotonic()
        total = 0
        for i, baud in enumerate(bauds):
            if i:
                port.baudrate = baud
                port.reset_input_buffer()
            last = i == len(bauds) - 1
            cands = {n: _Candidate(n, make_decoder(n)) for n in names}
            frame = cands.get("frame")
            t_baud = time.monotonic()
            first_byte: float | None = None
            asked = -1.0
            started = False
            while True:
                if self._interrupted.is_set() or self._closing.is_set():
                    raise SourceError(f"{self.url}: opening was interrupted")
                now = time.monotonic()
                if frame is not None and frame.decoder.info is None and now - asked >= 0.25:  # type: ignore[attr-defined]
                    self._write(port, CMD_INFO)
                    asked = now
                try:
                    data = port.read(port.in_waiting or 1)
                except (serial.SerialException, OSError) as exc:
                    raise SourceError(explain_open_error(self.url, exc)) from None
                now = time.monotonic()
                if data:
                    total += len(data)
                    first_byte = first_byte or now
                    for cand in cands.values():
                        out = cand.decoder.feed(data)
                        if len(out):
                            cand.frames.append((now, out))
                if frame is not None and frame.decoder.info is not None:  # type: ignore[attr-defined]
                    if frame.decoder.stats.frames:
                        return frame, baud
                    if not started and now - asked > 0.3:
                        self._write(port, CMD_START)  # a device that was told to stop
                        started = True
                elif frame is None or not frame.proven:
                    winner = next((c for c in cands.values() if c.name != "frame" and c.proven), None)
                    if winner is not None:
                        return winner, baud
                proven_frames = frame is not None and frame.proven
                if first_byte is None:
                    if now - t_open >= self.data_timeout:
                        raise SourceError(
                            f"{self.url}: no data within {self.data_timeout:g} s at {baud} baud: check that the board "
                            "runs a sketch that streams (our firmware, a P2 or a text sketch) and the USB cable"
                        )
                elif proven_frames:
                    if now - t_baud >= self.data_timeout:
                        raise SourceError(
                            f"{self.url}: the board sends our frames but never answered the info request: "
                            "update its firmware (emgfeedback flash --port PORT)"
                        )
                elif now - max(first_byte, t_baud) >= (self.BAUD_DWELL if len(bauds) > 1 else self.data_timeout):
                    if not last:
                        break
                    rates = "/".join(str(b) for b in bauds)
                    what = self.protocol if self.protocol != "auto" else "our frames, P2 packets or text lines"
                    raise SourceError(
                        f"{self.url}: no valid data within {self.data_timeout:g} s ({total} bytes that are not {what} "
                        f"at {rates} baud): check the baud rate (--baud) and the firmware (--protocol)"
                    )
        raise AssertionError("unreachable")  # pragma: no cover

    def _stream_info(self, winner: _Candidate, baud: int) -> StreamInfo:
        """The stream's settings from the detected format (and the info reply for our frames)."""
        name = winner.name
        desc = f"{self.url} ({name} at {baud} baud)"
        if name == "frame":
            info: DeviceInfo = winner.decoder.info  # type: ignore[attr-defined]
            self.device_info = info
            return StreamInfo(
                fs=info.fs,
                channels=info.channels,
                units="counts",
                adc_bits=info.adc_bits,
                vref_mv=info.vref_mv,
                description=desc,
                firmware=info.firmware,
            )
        if name == "p2":
            return StreamInfo(
                fs=self.fs if self.fs is not None else P2_DEFAULT_FS,
                channels=winner.decoder.channels or 6,
                units="counts",
                adc_bits=10,
                description=desc,
                firmware="OpenEEG P2",
            )
        if self.fs is None:
            raise SourceError(
                f"{self.url}: the board prints text lines at {baud} baud, which do not state the sample rate: give it with --fs"
            )
        return StreamInfo(
            fs=self.fs, channels=winner.decoder.channels or 1, units="counts", description=desc, firmware="text lines"
        )

    # --- the reader thread ---------------------------------------------------------------------
    def _run(self) -> None:
        """Read, decode, queue; on a lost port reopen with backoff; any other error ends the thread."""
        port = self.port
        last_byte = time.monotonic()
        try:
            while not self._closing.is_set() and port is not None:
                try:
                    data = port.read(port.in_waiting or 1)  # blocks (up to the port timeout) for the first byte
                    if data and port.in_waiting:
                        data += port.read(port.in_waiting)
                    silent = time.monotonic() - last_byte
                    if not data and self.stall_timeout > 0 and silent > self.stall_timeout:
                        raise serial.SerialException(f"no data for {silent:.1f} s, port reopened")
                except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                    if self._closing.is_set():
                        break
                    port = self._reconnect(port, exc)
                    last_byte = time.monotonic()
                    continue
                if data:
                    last_byte = time.monotonic()
                    woke = time.monotonic()
                    self._deliver(self._decoder.feed(data), woke)  # type: ignore[union-attr]
                    # let bytes gather: one decode per READ_INTERVAL costs far less CPU than one per USB packet
                    self._cpu = time.thread_time()
                    self._closing.wait(self.READ_INTERVAL - (time.monotonic() - woke))
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
        flush = getattr(self._decoder, "flush", None)
        if flush is not None:  # frames the decoder held back belong before the gap
            self._deliver(flush(), self._last_arrival)
        self._resync = self._last_arrival if self._started else None
        delay, growth, longest = self.BACKOFF
        while not self._closing.wait(delay):
            delay = min(delay * growth, longest)
            try:
                new = self._raw_open(self._baud_in_use or self._bauds()[0])
            except (serial.SerialException, OSError, ValueError):
                continue
            self.port = new
            if self._closing.is_set():
                return new
            self.stats.reconnects += 1
            if self.detected == "text":
                old = self._decoder
                self._rejected_before += old.stats.rejected if old is not None else 0
                self._decoder = make_decoder("text", self._info.channels if self._info else None)
                self._base = self._next  # a fresh decoder counts from 0 again
                self._counter_continues = False
            else:
                self._counter_continues = True
                self._restarts_before = getattr(self._decoder, "restarts", 0)
                if self.detected == "frame":  # a board reset by the reconnect boots streaming; one told to stop must restart
                    self._write(new, CMD_INFO + CMD_START)
            self._connected.set()
            return new
        return None

    def _deliver(self, frames: Frames, arrival: float) -> None:
        """Map decoder indices to absolute sample indices, record gaps, queue the chunks."""
        dec = self._decoder
        if dec is not None:
            self.stats.rejected = self._rejected_before + dec.stats.rejected
            self.stats.overruns = dec.stats.overruns
        n = len(frames)
        if n == 0:
            return
        info = self._info
        reply = getattr(dec, "info", None)
        if info is not None and reply is not None and reply is not self.device_info:
            if reply.fs != info.fs or reply.channels != info.channels:
                raise SourceError(
                    f"{self.url}: the device now runs {reply.channels} channels at {reply.fs:g} Hz instead of "
                    f"{info.channels} at {info.fs:g} Hz: restart the command"
                )
            self.device_info = reply
        if info is not None and frames.samples.shape[1] != info.channels:
            raise SourceError(
                f"{self.url}: the device now sends {frames.samples.shape[1]} channels instead of {info.channels}: "
                "restart the command"
            )
        if not self._started:
            self._base = self._next - int(frames.index[0])
            self._started = True
        if self._resync is not None:
            self._base += self._reconnect_shift(int(frames.index[0]) + self._base, n, arrival)
            self._resync = None
        idx = frames.index + self._base
        breaks = np.flatnonzero(np.diff(idx) != 1) + 1
        bounds = [0, *breaks.tolist(), n]
        chunks: list[Chunk] = []
        for a, b in itertools.pairwise(bounds):
            start = int(idx[a])
            if start > self._next:
                self.stats.gaps.append((self._next, start - self._next))
                self.stats.lost += start - self._next
            elif start < self._next:  # never go back: an index overlap cannot be placed, drop it
                continue
            chunks.append(Chunk(start, frames.samples[a:b]))
            self._next = start + (b - a)
        self.stats.frames += sum(c.samples.shape[0] for c in chunks)
        self._last_arrival = arrival
        self._push(chunks)

    def _reconnect_shift(self, natural: int, n: int, arrival: float) -> int:
        """How far to move indices after a reconnect so the gap matches the time the port was away.

        The gap is estimated from wall time x fs; when the device's counter ran on (same value
        modulo its period, within a tolerance of the wall estimate) the counter's exact gap is used.
        """
        assert self._resync is not None and self._info is not None
        fs = self._info.fs
        wall = max(round((arrival - self._resync) * fs) - n, 0)
        counted = natural - self._next
        modulo = COUNTER_MODULO.get(self.detected or "")
        restarted = getattr(self._decoder, "restarts", 0) != self._restarts_before
        if modulo is not None and self._counter_continues and not restarted:  # a restarted counter says nothing of the gap
            candidate = counted + modulo * round((wall - counted) / modulo)
            tolerance = min(modulo // 4, max(0.25 * fs, 10.0))
            if candidate >= 0 and abs(candidate - wall) <= tolerance:
                return candidate - counted
        return wall - counted

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

    @staticmethod
    def _close_port(port: serial.SerialBase) -> None:
        with contextlib.suppress(serial.SerialException, OSError):
            port.close()
