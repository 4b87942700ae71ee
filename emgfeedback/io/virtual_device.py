"""A virtual board on a pty: streams simulated sEMG in real time, like the firmware, for tests and demos.

The device thread keeps its own sample clock and writes our frames (answering I/S/X/C/F
like the firmware), OpenEEG P2 packets or text lines to the pty's master side; the host
opens the slave path (or a stable symlink to it) like any serial port. ``unplug`` and
``plug`` make the port disappear and come back, as a pulled USB cable does; by default
the device's clock and counter run on meanwhile (the host can count the gap exactly),
with ``reboot_on_plug`` the stream restarts as an Arduino resetting on replug does.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from pathlib import Path
from types import TracebackType

import numpy as np

from emgfeedback.errors import SettingsError
from emgfeedback.io.frame_protocol import MAX_CHANNELS, MAX_FS, MIN_FS, encode_frames, encode_info
from emgfeedback.io.p2_protocol import CHANNELS as P2_CHANNELS
from emgfeedback.io.p2_protocol import encode_packets
from emgfeedback.io.protocol import DeviceInfo
from emgfeedback.io.simulated import SCENARIOS, SimulatedSource

FIRMWARE = "emgfeedback-virtual-1.0.0"
#: Bytes the device queues for a host that does not read (a USB-serial buffer); beyond, frames drop.
OUT_LIMIT = 16384
#: The test scenario: channel c carries (sample number + 100 c) mod 1024, to catch drops and duplicates.
COUNTER = "counter"


class VirtualDevice:
    """A pty that behaves like a board streaming ``protocol`` (``frame``, ``p2`` or ``text``) in real time."""

    def __init__(
        self,
        protocol: str = "frame",
        *,
        scenario: str = "backbend-hold",
        channels: int = 4,
        fs: float = 1000.0,
        seed: int = 0,
        link: str | Path | None = None,
        period: float = 0.005,
        reboot_on_plug: bool = False,
    ) -> None:
        if protocol not in ("frame", "p2", "text"):
            raise SettingsError(f"unknown device protocol {protocol!r}: use frame, p2 or text")
        if scenario != COUNTER and scenario not in SCENARIOS:
            raise SettingsError(f"unknown scenario {scenario!r}: use one of {', '.join([*SCENARIOS, COUNTER])}")
        if not 1 <= channels <= MAX_CHANNELS:
            raise SettingsError(f"{channels} channels is out of range: use 1 to {MAX_CHANNELS}")
        if protocol == "frame" and not MIN_FS <= fs <= MAX_FS:
            raise SettingsError(f"our firmware samples at {MIN_FS}-{MAX_FS} Hz, not {fs:g}")
        if not 100 <= fs <= 10000:
            raise SettingsError(f"sample rate {fs:g} Hz is out of range: use 100 to 10000 Hz")
        self.protocol = protocol
        self.scenario = scenario
        self.channels = channels
        self.fs = float(fs)
        self.seed = seed
        self.link = Path(link) if link is not None else None
        self.period = period
        self.reboot_on_plug = reboot_on_plug
        self.sent = 0  # samples written to the pty
        self.dropped = 0  # samples dropped: unplugged, stopped, or nobody reading
        self.stream_t0 = 0.0  # monotonic time of sample 0 of the current stream
        self._lock = threading.Lock()
        self._master: int | None = None
        self._pty_name: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._out = bytearray()
        self._rx = bytearray()
        self._streaming = True
        self._produced = 0
        self._overrun = False
        self._gen: SimulatedSource | None = None

    # --- control ---------------------------------------------------------------------------
    @property
    def path(self) -> str:
        """What the host opens: the symlink if one was asked for, else the pty's slave name."""
        if self.link is not None:
            return str(self.link)
        if self._pty_name is None:
            raise RuntimeError("the virtual device is not started")
        return self._pty_name

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def start(self) -> str:
        """Plug in and start streaming; returns the path to open."""
        if self._thread is not None:
            return self.path
        self._stop.clear()
        self._restart_stream()
        self.plug()
        self._thread = threading.Thread(target=self._run, name="emgfeedback-virtual-device", daemon=True)
        self._thread.start()
        return self.path

    def stop(self) -> None:
        """Stop the device thread and unplug; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        self.unplug()

    def plug(self) -> str:
        """A new pty appears (at the same symlink, if any); returns the path to open (Linux and macOS only)."""
        if os.name != "posix":
            raise SettingsError("the virtual board needs a pseudo-terminal (Linux or macOS): use --source simulated here")
        import tty  # POSIX only: imported here so the package loads on Windows

        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no newline translation, whatever the host does
        name = os.ttyname(slave)
        os.close(slave)  # so the master sees a hang-up while no host has the port open
        os.set_blocking(master, False)
        if self.link is not None:
            tmp = self.link.with_name(f".{self.link.name}.{os.getpid()}.tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(name)
            tmp.replace(self.link)
        with self._lock:
            self._master, self._pty_name = master, name
            if self.reboot_on_plug and self._thread is not None:
                self._restart_stream()
        return self.path

    def unplug(self) -> None:
        """The port disappears: the host's reads fail; the device keeps its clock unless it reboots."""
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
        with self._lock:
            master, self._master = self._master, None
            self._out.clear()
            self._rx.clear()
        if master is not None:
            with contextlib.suppress(OSError):
                os.close(master)

    def halt(self) -> None:
        """Stop streaming as if the host had sent the stop command (a board that comes back silent)."""
        with self._lock:
            self._command("X", b"")

    @property
    def streaming(self) -> bool:
        return self._streaming

    def __enter__(self) -> VirtualDevice:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def device_info(self) -> DeviceInfo:
        """What the info frame says."""
        return DeviceInfo(FIRMWARE, self.fs, self.channels, 10, 5000.0, {"proto": "1", "baud": "500000"})

    # --- the device thread -------------------------------------------------------------------
    def _restart_stream(self) -> None:
        """Sample 0 is now: a new generator, counter back to 0, and (our frames) a start info frame."""
        self._produced = 0
        self.stream_t0 = time.monotonic()
        if self.scenario != COUNTER:
            self._gen = SimulatedSource(self.scenario, channels=self.channels, fs=self.fs, seed=self.seed, realtime=False)
            self._gen.open()
        if self.protocol == "frame":
            self._queue_out(encode_info(self.device_info, seq=0, start=True))

    def _samples(self, n: int) -> np.ndarray:
        """The next ``n`` samples as integer ADC counts (n, channels)."""
        if self._gen is None:
            k = self._produced + np.arange(n)[:, None] + 100 * np.arange(self.channels)[None, :]
            return k % 1024
        return np.clip(np.rint(self._gen.generate(n)), 0, 1023).astype(np.int64)

    def _encode(self, start: int, x: np.ndarray) -> bytes:
        if self.protocol == "frame":
            overrun = np.zeros(x.shape[0], dtype=bool)
            overrun[0] = self._overrun
            self._overrun = False
            return encode_frames(start, x, overrun=overrun)
        if self.protocol == "p2":
            padded = np.full((x.shape[0], P2_CHANNELS), 512, dtype=np.int64)
            padded[:, : self.channels] = x
            return encode_packets(start, padded)
        return b"".join(b",".join(b"%d" % v for v in row) + b"\r\n" for row in x.tolist())

    def _queue_out(self, data: bytes) -> bool:
        if len(self._out) + len(data) > OUT_LIMIT:
            return False
        self._out += data
        return True

    def _run(self) -> None:
        poller: select.poll | None = None
        polled: int | None = None
        while not self._stop.is_set():
            with self._lock:
                master = self._master
            if master is None:
                self._stop.wait(self.period)
                with self._lock:
                    self._tick(None)
                continue
            if polled != master:
                poller, polled = select.poll(), master
                poller.register(master, select.POLLIN)
            assert poller is not None
            try:
                events = poller.poll(self.period * 1000)
            except OSError:
                events = []
            hangup = any(ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, ev in events)
            if hangup:  # no host has the port open: what the device sends goes nowhere
                self._stop.wait(self.period)
            with self._lock:
                if master != self._master:
                    continue
                if hangup:
                    self._out.clear()
                    self._tick(None)
                    continue
                if events:
                    self._receive(master)
                self._tick(master)
                self._flush(master)

    def _tick(self, master: int | None) -> None:
        """Produce every sample due by now; send it, or drop it if there is no room or no host."""
        due = int((time.monotonic() - self.stream_t0) * self.fs)
        n = due - self._produced
        if n <= 0:
            return
        x = self._samples(n)
        start = self._produced
        self._produced = due
        if master is None or not self._streaming:  # nobody listening, or told to stop: nothing goes out
            self.dropped += n
            return
        if not self._queue_out(self._encode(start, x)):  # the host does not keep up: frames drop
            self.dropped += n
            self._overrun = True
            return
        self.sent += n

    def _flush(self, master: int) -> None:
        if not self._out:
            return
        try:
            written = os.write(master, self._out)
        except BlockingIOError:
            return
        except OSError:
            self._out.clear()
            return
        del self._out[:written]

    def _receive(self, master: int) -> None:
        """Read host bytes and act on our one-byte commands (text and P2 sketches ignore input)."""
        try:
            data = os.read(master, 256)
        except OSError:
            return
        if self.protocol != "frame":
            return
        self._rx += data
        while self._rx:
            cmd = self._rx[0]
            need = {ord("C"): 2, ord("F"): 3}.get(cmd, 1)
            if len(self._rx) < need:
                return
            args = bytes(self._rx[1:need])
            del self._rx[:need]
            self._command(chr(cmd), args)

    def _command(self, cmd: str, args: bytes) -> None:
        if cmd == "S" and not self._streaming:
            self._streaming = True
            self._restart_stream()
        elif cmd == "X":
            self._streaming = False
        elif cmd == "I":
            self._queue_out(encode_info(self.device_info, seq=self._produced & 0xFFFF))
        elif cmd == "C" and not self._streaming:
            if 1 <= args[0] <= MAX_CHANNELS:
                self.channels = args[0]
            self._queue_out(encode_info(self.device_info, seq=self._produced & 0xFFFF))
        elif cmd == "F" and not self._streaming:
            fs = int.from_bytes(args, "little")
            if MIN_FS <= fs <= MAX_FS:
                self.fs = float(fs)
            self._queue_out(encode_info(self.device_info, seq=self._produced & 0xFFFF))
