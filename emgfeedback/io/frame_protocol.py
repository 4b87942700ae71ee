"""The emgfeedback firmware's binary frames (docs/protocol.md): a vectorized decoder and pure encoders.

The decoder never loops over bytes or frames in Python on the hot path: sync candidates are found
with one vector comparison, all candidates of a batch are validated at once (CRC computed column by
column over a frames x bytes matrix), and the common case of back-to-back, non-overlapping frames is
accepted without a per-frame loop. Rare events (info frames, overlapping CRC-valid candidates, a
channel-count mismatch) take a short Python path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from emgfeedback.io.protocol import DecoderStats, DeviceInfo, Frames

__all__ = [
    "CMD_CHANNELS",
    "CMD_INFO",
    "CMD_RATE",
    "CMD_START",
    "CMD_STOP",
    "MAX_CHANNELS",
    "MAX_FS",
    "MIN_FS",
    "SYNC",
    "FrameDecoder",
    "cmd_set_channels",
    "cmd_set_rate",
    "crc16_ccitt",
    "data_frame_length",
    "encode_frames",
    "encode_info",
    "parse_info_payload",
]

SYNC = b"\xa7\x7e"
_SYNC0, _SYNC1 = SYNC

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

_TYPE_DATA = 0
_TYPE_INFO = 1
_FLAG_OVERRUN = 0x08  # data frames: the device dropped a tick since the last frame it sent
_FLAG_START = 0x08  # info frames: a stream starts here, seq restarts at this frame's seq
_INFO_MAX_PAYLOAD = 120
_INFO_OVERHEAD = 8  # sync 2, seq 2, flags 1, len 1, crc 2
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
_CRC_TABLE = _make_crc_table()
_CRC_TABLE_LIST = [int(v) for v in _CRC_TABLE]


def crc16_ccitt(data: bytes | bytearray | memoryview | np.ndarray) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) of ``data``."""
    crc = 0xFFFF
    table = _CRC_TABLE_LIST
    for b in bytes(np.asarray(data, dtype=np.uint8).tobytes() if isinstance(data, np.ndarray) else data):
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ b]
    return crc


def _crc_rows(rows: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT-FALSE of every row of a (m, k) uint8 matrix: a loop over the k columns, not the m rows."""
    crc = np.full(rows.shape[0], 0xFFFF, dtype=np.uint16)
    for j in range(rows.shape[1]):
        crc = (crc << 8) ^ _CRC_TABLE[(crc >> 8) ^ rows[:, j]]
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
    out[:, 0] = _SYNC0
    out[:, 1] = _SYNC1
    out[:, 2] = seq & 0xFF
    out[:, 3] = seq >> 8
    ov = np.broadcast_to(np.asarray(overrun, dtype=bool), (n,))
    out[:, 4] = ch | np.where(ov, _FLAG_OVERRUN, 0)
    out[:, 5 : 5 + 2 * ch : 2] = s & 0xFF
    out[:, 6 : 6 + 2 * ch : 2] = s >> 8
    crc = _crc_rows(out[:, 2 : length - 2])
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
    if len(payload) > _INFO_MAX_PAYLOAD:
        raise ValueError(f"info payload is {len(payload)} bytes, the limit is {_INFO_MAX_PAYLOAD}")
    flags = (_TYPE_INFO << 4) | channels | (_FLAG_START if start else 0)
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


# ------------------------------------------------------------------------------------------- decoder


@dataclass
class _Scan:
    """Candidate frames of one buffer, in position order, with what the greedy pass decided."""

    start: np.ndarray  # (k,) int64 positions of accepted frames
    length: np.ndarray  # (k,) int64
    kind: np.ndarray  # (k,) uint8: 0 data, 1 info
    cutoff: int  # bytes before this are decided; the rest waits for more data
    rejected_at: np.ndarray  # positions of complete candidates that failed validation


class FrameDecoder:
    """Decoder for the emgfeedback firmware's frames (docs/protocol.md), implementing ``Decoder``.

    ``index`` starts at 0 with the first data frame (or with the seq a stream-start info frame
    announces, if one comes first) and then advances by the seq difference (1-65536, so a jump of
    exactly 65536 frames reads as 65536). A stream-start info frame (sent at boot and on ``S``)
    re-anchors the count: after a restart (seq back to 0) the index continues at last + 1 instead of
    counting a bogus loss. Other info frames (replies to ``I``, ``C``, ``F``) leave the count alone.

    The channel count is taken from the first valid frame. Data frames with a different count are
    rejected, until an info frame announces the new count (the firmware sends one whenever streaming
    starts); a batch never mixes counts, so the frames after such an info frame are kept for the next
    ``feed`` call (``feed(b"")`` gets them at once).
    """

    name = "emgfeedback"

    def __init__(self, channels: int | None = None, on_info: Callable[[DeviceInfo], None] | None = None) -> None:
        if channels is not None and not 1 <= channels <= MAX_CHANNELS:
            raise ValueError(f"channels must be 1-{MAX_CHANNELS}, got {channels}")
        self.stats = DecoderStats()
        self.info: DeviceInfo | None = None
        self.on_info = on_info
        self._channels = channels
        self._buf = b""
        self._last_seq: int | None = None
        self._last_index = -1
        self.restarts = 0  # stream-start info frames seen: the device's counter began again at each

    @property
    def channels(self) -> int | None:
        """Channel count of the data frames, once known."""
        return self._channels

    @property
    def pending_bytes(self) -> int:
        """Bytes held back waiting for the rest of a frame (or for the next batch after a channel change)."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget buffered bytes and the seq anchor (the next frame gets index last + 1); keep stats and info."""
        self._buf = b""
        self._last_seq = None

    # ------------------------------------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> Frames:
        """Consume ``data`` and return every complete, valid data frame it finished (one channel count)."""
        return self._decode(bytes(data), final=False)

    def flush(self) -> Frames:
        """End of stream: decide the held-back bytes (an incomplete frame is garbage) and return what follows.

        A batch has one channel count, so after a channel change some bytes may remain: call again
        until ``pending_bytes`` is 0.
        """
        return self._decode(b"", final=True)

    def _decode(self, data: bytes, final: bool) -> Frames:
        buf = self._buf + data if self._buf else data
        a = np.frombuffer(buf, dtype=np.uint8)
        scan = _scan(a, final)

        out_samples: list[np.ndarray] = []
        out_index: list[np.ndarray] = []
        consumed = scan.cutoff
        accepted_bytes = 0
        rejected = int(scan.rejected_at.size)

        k = scan.start.size
        info_at = np.flatnonzero(scan.kind == _TYPE_INFO)
        seg_begin = 0
        for boundary in [*info_at.tolist(), k]:
            # data frames scan.start[seg_begin:boundary], then (unless boundary == k) one info frame
            if boundary > seg_begin:
                starts = scan.start[seg_begin:boundary]
                accepted_bytes += int(scan.length[seg_begin:boundary].sum())
                samples, index, n_rejected = self._decode_data(a, starts)
                rejected += n_rejected
                if samples is not None:
                    out_samples.append(samples)
                    out_index.append(index)
            if boundary == k:
                break
            start = int(scan.start[boundary])
            length = int(scan.length[boundary])
            accepted_bytes += length
            changed = self._handle_info(a, start, length)
            seg_begin = boundary + 1
            if changed and out_samples:
                # keep what follows for the next call, so this batch has a single channel count
                consumed = start + length
                later = scan.rejected_at >= consumed
                rejected -= int(later.sum())
                break

        garbage = consumed - accepted_bytes
        self.stats.garbage_bytes += garbage
        self.stats.rejected += rejected
        self._buf = buf[consumed:]

        if not out_samples:
            return Frames.empty(self._channels or 0)
        samples = out_samples[0] if len(out_samples) == 1 else np.concatenate(out_samples)
        index = out_index[0] if len(out_index) == 1 else np.concatenate(out_index)
        return Frames(samples, index)

    def _decode_data(self, a: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, int]:
        """Samples and unwrapped indices of the data frames at ``starts``; frames of another channel count are rejected."""
        nch = (a[starts + 4] & 0x07).astype(np.int64)
        if self._channels is None:
            self._channels = int(nch[0])
        ch = self._channels
        keep = nch == ch
        n_rejected = int(starts.size - np.count_nonzero(keep))
        if n_rejected:
            starts = starts[keep]
        if starts.size == 0:
            return None, np.empty(0, dtype=np.int64), n_rejected
        offs = starts[:, None] + (5 + 2 * np.arange(ch))[None, :]
        samples = (a[offs].astype(np.uint16) | (a[offs + 1].astype(np.uint16) << 8)).astype(np.float64)
        seq = a[starts + 2].astype(np.int64) | (a[starts + 3].astype(np.int64) << 8)
        prev = np.empty_like(seq)
        prev[1:] = seq[:-1]
        prev[0] = self._last_seq if self._last_seq is not None else (seq[0] - 1) & 0xFFFF
        delta = ((seq - prev - 1) & 0xFFFF) + 1
        index = self._last_index + np.cumsum(delta)
        self._last_seq = int(seq[-1])
        self._last_index = int(index[-1])
        self.stats.frames += int(seq.size)
        self.stats.lost += int(delta.sum() - delta.size)
        self.stats.overruns += int(np.count_nonzero(a[starts + 4] & _FLAG_OVERRUN))
        return samples, index, n_rejected

    def _handle_info(self, a: np.ndarray, start: int, length: int) -> bool:
        """Record an info frame (re-anchor seq if it starts a stream); True if it changed a known channel count."""
        payload = a[start + 6 : start + length - 2].tobytes()
        try:
            info = parse_info_payload(payload)
        except ValueError:
            self.stats.rejected += 1
            return False
        if not 1 <= info.channels <= MAX_CHANNELS:
            self.stats.rejected += 1
            return False
        if a[start + 4] & _FLAG_START:
            seq = int(a[start + 2]) | (int(a[start + 3]) << 8)
            self._last_seq = (seq - 1) & 0xFFFF
            self.restarts += 1
        changed = self._channels is not None and info.channels != self._channels
        self._channels = info.channels
        self.info = info
        if self.on_info is not None:
            self.on_info(info)
        return changed


def _scan(a: np.ndarray, final: bool = False) -> _Scan:
    """Find, size and validate every sync candidate of ``a``, then pick frames greedily left to right.

    Greedy rule: from the current position, the first candidate that is a complete valid frame is
    accepted and the position jumps past it; candidates inside accepted frames are ignored. A candidate
    that cannot be decided yet (its header or body is not all here) stops the pass: everything from it
    on waits for more data, which makes chunked feeding give exactly the one-shot result. With
    ``final`` (end of stream) nothing waits: an incomplete frame is rejected, a lone header is garbage.
    """
    n = a.size
    empty = np.empty(0, dtype=np.int64)
    if n < 2:
        cut = n - 1 if n == 1 and a[0] == _SYNC0 and not final else n
        return _Scan(empty, empty, np.empty(0, np.uint8), cut, empty)
    c = np.flatnonzero((a[:-1] == _SYNC0) & (a[1:] == _SYNC1)).astype(np.int64)

    has_flags = c + 5 <= n
    flags = np.zeros(c.size, dtype=np.uint8)
    flags[has_flags] = a[c[has_flags] + 4]
    ftype = flags >> 4
    nch = (flags & 0x07).astype(np.int64)
    plausible = has_flags & (nch >= 1) & (nch <= MAX_CHANNELS)
    is_data = plausible & (ftype == _TYPE_DATA)
    info_hdr = plausible & (ftype == _TYPE_INFO)
    has_len = c + 6 <= n
    info_len = np.zeros(c.size, dtype=np.int64)
    sel = info_hdr & has_len
    info_len[sel] = a[c[sel] + 5]
    is_info = sel & (info_len <= _INFO_MAX_PAYLOAD)
    length = np.where(is_data, 7 + 2 * nch, np.where(is_info, _INFO_OVERHEAD + info_len, 0))
    framed = is_data | is_info
    complete = framed & (c + length <= n)
    undecided = ~has_flags | (info_hdr & ~has_len) | (framed & ~complete)

    valid = np.zeros(c.size, dtype=bool)
    check = complete & is_data
    present = np.flatnonzero(np.bincount(nch[check], minlength=MAX_CHANNELS + 1))
    for ch in present.tolist():  # usually a single channel count
        idx = np.flatnonzero(check & (nch == ch)) if present.size > 1 else np.flatnonzero(check)
        valid[idx] = _valid_data(a, c[idx], ch)
    for i in np.flatnonzero(complete & is_info).tolist():
        s, ln = int(c[i]), int(length[i])
        got = int(a[s + ln - 2]) | (int(a[s + ln - 1]) << 8)
        valid[i] = crc16_ccitt(a[s + 2 : s + ln - 2]) == got

    if final:
        pend = empty
        truncated = framed & ~complete  # counted as rejected below
    else:
        pend = c[undecided]
        truncated = np.zeros(c.size, dtype=bool)
        if a[-1] == _SYNC0:  # may be the first half of a sync pair
            pend = np.append(pend, n - 1)
    vpos, vlen, vkind = c[valid], length[valid], ftype[valid]

    ends = vpos + vlen
    if vpos.size > 1 and np.any(vpos[1:] < ends[:-1]):
        keep = _greedy_slow(vpos, vlen)
        vpos, vlen, vkind, ends = vpos[keep], vlen[keep], vkind[keep], ends[keep]

    cutoff = n
    if pend.size:
        # the first undecided candidate not inside an accepted frame
        free = pend[~_inside(pend, vpos, ends)]
        if free.size:
            cutoff = int(free[0])
            take = vpos < cutoff
            vpos, vlen, vkind, ends = vpos[take], vlen[take], vkind[take], ends[take]

    bad = c[(complete & ~valid) | truncated]
    bad = bad[bad < cutoff]
    bad = bad[~_inside(bad, vpos, ends)]
    return _Scan(vpos, vlen, vkind.astype(np.uint8), cutoff, bad)


def _inside(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Which ``points`` fall strictly inside one of the sorted, disjoint frames [starts, ends)."""
    if starts.size == 0 or points.size == 0:
        return np.zeros(points.size, dtype=bool)
    j = np.searchsorted(starts, points, side="right") - 1
    return (j >= 0) & (points < ends[np.maximum(j, 0)])


def _valid_data(a: np.ndarray, starts: np.ndarray, ch: int) -> np.ndarray:
    """CRC and 10-bit check of the complete ``ch``-channel data candidates at ``starts``, all at once."""
    length = data_frame_length(ch)
    windows = np.lib.stride_tricks.as_strided(a, shape=(a.size - length + 1, length), strides=(1, 1), writeable=False)
    rows = windows[starts]
    crc = _crc_rows(rows[:, 2 : length - 2])
    got = rows[:, length - 2].astype(np.uint16) | (rows[:, length - 1].astype(np.uint16) << 8)
    high_ok = np.all(rows[:, 6 : 6 + 2 * ch : 2] <= (ADC_MAX >> 8), axis=1)
    return (crc == got) & high_ok


def _greedy_slow(vpos: np.ndarray, vlen: np.ndarray) -> np.ndarray:
    """Indices of valid candidates kept by the left-to-right greedy pass when some of them overlap (rare)."""
    keep: list[int] = []
    end = -1
    for i, (p, ln) in enumerate(zip(vpos.tolist(), vlen.tolist(), strict=True)):
        if p >= end:
            keep.append(i)
            end = p + ln
    return np.asarray(keep, dtype=np.int64)
