"""The emgfeedback firmware's binary frames (docs/protocol.md): constants, commands, CRC and pure encoders.

Shared by the decoder (:mod:`emgfeedback.io.frame_protocol`), the virtual board and the tests;
the C firmware's ``emg_protocol.h`` holds the same constants.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping

import numpy as np

from emgfeedback.io.protocol import DeviceInfo

SYNC = b"\xa7\x7e"
SYNC0, SYNC1 = SYNC

#: Host -> device command bytes.
CMD_START = b"S"
CMD_STOP = b"X"
CMD_INFO = b"I"
CMD_CHANNELS = b"C"
CMD_RATE = b"F"

MIN_FS = 500
MAX_FS = 2000
MAX_CHANNELS = 4
ADC_MAX = 1023  # 10-bit samples: the top 6 bits of every sample word are zero

TYPE_DATA = 0
TYPE_INFO = 1
FLAG_OVERRUN = 0x08  # data frames: the device dropped a tick since the last frame it sent
FLAG_START = 0x08  # info frames: a stream starts here, seq restarts at this frame's seq
INFO_MAX_PAYLOAD = 120
INFO_OVERHEAD = 8  # sync 2, seq 2, flags 1, len 1, crc 2
_REQUIRED_INFO_KEYS = ("fw", "fs", "ch", "bits", "vref")


def data_frame_length(channels: int) -> int:
    """Bytes in one data frame with ``channels`` samples: sync 2, seq 2, flags 1, samples 2N, crc 2."""
    return 7 + 2 * channels


def cmd_set_channels(channels: int) -> bytes:
    """The ``C`` command setting the channel count (the device obeys it only while stopped)."""
    if not 1 <= channels <= MAX_CHANNELS:
        raise ValueError(f"channels must be 1-{MAX_CHANNELS}, got {channels}")
    return CMD_CHANNELS + bytes([channels])


def cmd_set_rate(fs: int) -> bytes:
    """The ``F`` command setting the sample rate in Hz (the device obeys it only while stopped)."""
    if not MIN_FS <= fs <= MAX_FS:
        raise ValueError(f"fs must be {MIN_FS}-{MAX_FS} Hz, got {fs}")
    return CMD_RATE + int(fs).to_bytes(2, "little")


# ---------------------------------------------------------------------------------------------- CRC


def _make_crc_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint16)
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table[byte] = crc & 0xFFFF
    return table


#: CRC-16/CCITT-FALSE (poly 0x1021, MSB first) lookup table, one entry per byte value.
CRC_TABLE = _make_crc_table()


def crc16_ccitt(data: bytes | bytearray | memoryview | np.ndarray) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) of ``data``.

    That is the standard library's XMODEM CRC started at 0xFFFF (``binascii.crc_hqx``).
    """
    return binascii.crc_hqx(data.tobytes() if isinstance(data, np.ndarray) else bytes(data), 0xFFFF)


#: Below this many rows, one C call per row beats a numpy pass per column (a live read holds ~20 frames).
ROWWISE_CRC_ROWS = 128


def crc_rows(rows: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT-FALSE of every row of a (m, k) uint8 matrix: per row for a few rows, else per column."""
    m, k = rows.shape
    if k > 0 and m < ROWWISE_CRC_ROWS:
        flat = np.ascontiguousarray(rows, dtype=np.uint8).tobytes()
        return np.fromiter((binascii.crc_hqx(flat[i : i + k], 0xFFFF) for i in range(0, m * k, k)), np.uint16, count=m)
    crc = np.full(m, 0xFFFF, dtype=np.uint16)
    for j in range(k):
        crc = (crc << 8) ^ CRC_TABLE[(crc >> 8) ^ rows[:, j]]
    return crc


# ------------------------------------------------------------------------------------------ encoders


def encode_frames(seq_start: int, samples: np.ndarray, overrun: bool | np.ndarray = False) -> bytes:
    """Data frames for the rows of ``samples`` ((n, N) integers 0-65535), seq counting up from ``seq_start``.

    ``overrun`` is one flag for all frames or one per frame. Values above 1023 are encoded as given
    (a real device never sends them; the decoder rejects them), which lets tests build bad frames.
    """
    s = np.asarray(samples)
    if s.ndim != 2 or not 1 <= s.shape[1] <= MAX_CHANNELS:
        raise ValueError(f"samples must be (n, 1-{MAX_CHANNELS}), got shape {s.shape}")
    if s.size and (s.min() < 0 or s.max() > 0xFFFF):
        raise ValueError("samples must fit in uint16")
    s = s.astype(np.uint16)
    n, ch = s.shape
    length = data_frame_length(ch)
    out = np.empty((n, length), dtype=np.uint8)
    seq = (int(seq_start) + np.arange(n, dtype=np.int64)) & 0xFFFF
    out[:, 0] = SYNC0
    out[:, 1] = SYNC1
    out[:, 2] = seq & 0xFF
    out[:, 3] = seq >> 8
    ov = np.broadcast_to(np.asarray(overrun, dtype=bool), (n,))
    out[:, 4] = ch | np.where(ov, FLAG_OVERRUN, 0)
    out[:, 5 : 5 + 2 * ch : 2] = s & 0xFF
    out[:, 6 : 6 + 2 * ch : 2] = s >> 8
    crc = crc_rows(out[:, 2 : length - 2])
    out[:, length - 2] = crc & 0xFF
    out[:, length - 1] = crc >> 8
    return out.tobytes()


def _format_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.3f}"


def encode_info(info: DeviceInfo | Mapping[str, object], seq: int = 0, start: bool = False) -> bytes:
    """An info frame carrying ``info`` as ``key=value`` pairs; ``seq`` is the next data frame's seq.

    ``start`` marks the info frame a device sends when it (re)starts streaming (seq restarts there).

    A mapping is sent as given (it must hold ``ch``); a :class:`DeviceInfo` becomes
    ``fw fs ch bits vref`` followed by its ``extra`` keys.
    """
    if isinstance(info, DeviceInfo):
        pairs: dict[str, object] = {
            "fw": info.firmware,
            "fs": _format_number(info.fs),
            "ch": info.channels,
            "bits": info.adc_bits,
            "vref": _format_number(info.vref_mv),
            **info.extra,
        }
    else:
        pairs = dict(info)
    channels = int(str(pairs["ch"]))
    if not 1 <= channels <= MAX_CHANNELS:
        raise ValueError(f"ch must be 1-{MAX_CHANNELS}, got {channels}")
    payload = " ".join(f"{k}={v}" for k, v in pairs.items()).encode("ascii")
    if len(payload) > INFO_MAX_PAYLOAD:
        raise ValueError(f"info payload is {len(payload)} bytes, the limit is {INFO_MAX_PAYLOAD}")
    flags = (TYPE_INFO << 4) | channels | (FLAG_START if start else 0)
    body = bytes([seq & 0xFF, (seq >> 8) & 0xFF, flags, len(payload)]) + payload
    return SYNC + body + crc16_ccitt(body).to_bytes(2, "little")


def parse_info_payload(payload: bytes) -> DeviceInfo:
    """The :class:`DeviceInfo` in an info payload; raises ValueError if a required key is missing or bad."""
    pairs: dict[str, str] = {}
    for item in payload.decode("ascii", errors="replace").split():
        key, sep, value = item.partition("=")
        if sep:
            pairs[key] = value
    missing = [k for k in _REQUIRED_INFO_KEYS if k not in pairs]
    if missing:
        raise ValueError(f"info payload lacks {', '.join(missing)}")
    return DeviceInfo(
        firmware=pairs["fw"],
        fs=float(pairs["fs"]),
        channels=int(pairs["ch"]),
        adc_bits=int(pairs["bits"]),
        vref_mv=float(pairs["vref"]),
        extra={k: v for k, v in pairs.items() if k not in _REQUIRED_INFO_KEYS},
    )
