"""Which format and baud rate a serial board streams, and the stream settings that follow from it.

Detection feeds every byte read to one decoder per candidate format at each baud rate in
turn, and asks for our firmware's info reply meanwhile, until one format proves itself
with :data:`PROOF_FRAMES` valid frames (or lines). Every failure is one line naming the fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import serial

from emgfeedback.config import StreamInfo
from emgfeedback.errors import SourceError
from emgfeedback.io.frame_protocol import CMD_INFO, CMD_START, FrameDecoder
from emgfeedback.io.p2_protocol import DEFAULT_FS as P2_DEFAULT_FS
from emgfeedback.io.p2_protocol import P2Decoder
from emgfeedback.io.protocol import Decoder, DeviceInfo, Frames
from emgfeedback.io.serial_errors import explain_open_error
from emgfeedback.io.text_protocol import TextDecoder

PROTOCOLS = ("frame", "p2", "text")
DEFAULT_BAUD = {"frame": 500000, "p2": 57600, "text": 115200}
#: Baud rates auto-detection tries, in order, when none is given (every format is looked for at each).
AUTO_BAUDS = (500000, 57600, 115200, 9600)
#: Counter period of each format (None: no counter, gaps come from wall time alone).
COUNTER_MODULO: dict[str, int | None] = {"frame": 65536, "p2": 256, "text": None}
#: Frames (or lines) of one format that prove the format during detection.
PROOF_FRAMES = 3


def check_protocol(protocol: str) -> None:
    """Refuse an unknown format name in one line."""
    if protocol not in ("auto", *PROTOCOLS):
        raise SourceError(f"unknown serial protocol {protocol!r}: use auto, frame, text or p2")


def make_decoder(protocol: str, channels: int | None = None) -> Decoder:
    """A fresh decoder for a format name (``frame``, ``p2`` or ``text``)."""
    if protocol == "frame":
        return FrameDecoder()
    if protocol == "p2":
        return P2Decoder()
    if protocol == "text":
        return TextDecoder(channels, partial_first_line=True)
    raise SourceError(f"unknown serial protocol {protocol!r}: use auto, frame, text or p2")


def bauds_to_try(protocol: str, baud: int | None) -> list[int]:
    """The baud rates to try, in order: the one given, every common one (auto), or the format's default."""
    if baud is not None:
        return [baud]
    if protocol == "auto":
        return list(AUTO_BAUDS)
    return [DEFAULT_BAUD[protocol]]


@dataclass
class Candidate:
    """One format being tried during detection, with what it decoded so far (arrival time, frames)."""

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


@dataclass
class Detection:
    """How to detect: the port's name for messages, the format asked for, the timings, and the hooks."""

    url: str
    protocol: str
    data_timeout: float
    dwell: float
    cancelled: Callable[[], bool]
    write: Callable[[serial.SerialBase, bytes], None]


def detect(port: serial.SerialBase, bauds: list[int], how: Detection) -> tuple[Candidate, int]:
    """Try each baud rate, feeding the bytes to every candidate format, until one proves itself."""
    names = PROTOCOLS if how.protocol == "auto" else (how.protocol,)
    t_open = time.monotonic()
    total = 0
    for i, baud in enumerate(bauds):
        if i:
            port.baudrate = baud
            port.reset_input_buffer()
        last = i == len(bauds) - 1
        cands = {n: Candidate(n, make_decoder(n)) for n in names}
        frame = cands.get("frame")
        t_baud = time.monotonic()
        first_byte: float | None = None
        asked = -1.0
        started = False
        while True:
            if how.cancelled():
                raise SourceError(f"{how.url}: opening was interrupted")
            now = time.monotonic()
            if frame is not None and frame.decoder.info is None and now - asked >= 0.25:
                how.write(port, CMD_INFO)
                asked = now
            try:
                data = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError) as exc:
                raise SourceError(explain_open_error(how.url, exc)) from None
            now = time.monotonic()
            if data:
                total += len(data)
                first_byte = first_byte or now
                for cand in cands.values():
                    out = cand.decoder.feed(data)
                    if len(out):
                        cand.frames.append((now, out))
            if frame is not None and frame.decoder.info is not None:
                if frame.decoder.stats.frames:
                    return frame, baud
                if not started and now - asked > 0.3:
                    how.write(port, CMD_START)  # a device that was told to stop
                    started = True
            elif frame is None or not frame.proven:
                winner = next((c for c in cands.values() if c.name != "frame" and c.proven), None)
                if winner is not None:
                    return winner, baud
            proven_frames = frame is not None and frame.proven
            if first_byte is None:
                if now - t_open >= how.data_timeout:
                    raise SourceError(
                        f"{how.url}: no data within {how.data_timeout:g} s at {baud} baud: check that the board "
                        "runs a sketch that streams (our firmware, a P2 or a text sketch) and the USB cable"
                    )
            elif proven_frames:
                if now - t_baud >= how.data_timeout:
                    raise SourceError(
                        f"{how.url}: the board sends our frames but never answered the info request: "
                        "update its firmware (emgfeedback flash --port PORT)"
                    )
            elif now - max(first_byte, t_baud) >= (how.dwell if len(bauds) > 1 else how.data_timeout):
                if not last:
                    break
                rates = "/".join(str(b) for b in bauds)
                what = how.protocol if how.protocol != "auto" else "our frames, P2 packets or text lines"
                raise SourceError(
                    f"{how.url}: no valid data within {how.data_timeout:g} s ({total} bytes that are not {what} "
                    f"at {rates} baud): check the baud rate (--baud) and the firmware (--protocol)"
                )
    raise AssertionError("unreachable")  # pragma: no cover


def stream_info(winner: Candidate, baud: int, url: str, fs: float | None) -> tuple[StreamInfo, DeviceInfo | None]:
    """The stream's settings from the detected format (and the info reply for our frames)."""
    name = winner.name
    desc = f"{url} ({name} at {baud} baud)"
    reply = winner.decoder.info
    if name == "frame" and reply is not None:
        info = StreamInfo(
            fs=reply.fs,
            channels=reply.channels,
            units="counts",
            adc_bits=reply.adc_bits,
            vref_mv=reply.vref_mv,
            description=desc,
            firmware=reply.firmware,
        )
        return info, reply
    if name == "p2":
        info = StreamInfo(
            fs=fs if fs is not None else P2_DEFAULT_FS,
            channels=winner.decoder.channels or 6,
            units="counts",
            adc_bits=10,
            description=desc,
            firmware="OpenEEG P2",
        )
        return info, None
    if fs is None:
        raise SourceError(
            f"{url}: the board prints text lines at {baud} baud, which do not state the sample rate: give it with --fs"
        )
    channels = winner.decoder.channels or 1
    return StreamInfo(fs=fs, channels=channels, units="counts", description=desc, firmware="text lines"), None
