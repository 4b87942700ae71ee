"""The emgfeedback firmware's binary frames (docs/protocol.md): a vectorized decoder and pure encoders.

The decoder never loops over bytes in Python: frame_scan finds and validates every frame of a batch
at once, and this module turns them into samples at absolute indices. Rare events (info frames, a
channel-count mismatch) take a short Python path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from emgfeedback.io.frame_format import (
    CMD_CHANNELS,
    CMD_INFO,
    CMD_RATE,
    CMD_START,
    CMD_STOP,
    FLAG_OVERRUN,
    FLAG_START,
    MAX_CHANNELS,
    MAX_FS,
    MIN_FS,
    SYNC,
    TYPE_INFO,
    cmd_set_channels,
    cmd_set_rate,
    crc16_ccitt,
    data_frame_length,
    encode_frames,
    encode_info,
    parse_info_payload,
)
from emgfeedback.io.frame_scan import clean_frames
from emgfeedback.io.frame_scan import scan as find_frames
from emgfeedback.io.protocol import Decoder, DecoderStats, DeviceInfo, Frames

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


# ------------------------------------------------------------------------------------------- decoder
@functools.cache
def _record(channels: int) -> np.dtype:
    """One data frame as a packed record (docs/protocol.md): sync, seq, flags, the samples, the CRC."""
    return np.dtype([("sync", "<u2"), ("seq", "<u2"), ("flags", "u1"), ("samples", "<u2", (channels,)), ("crc", "<u2")])


class FrameDecoder(Decoder):
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
        clean = None if final or self._channels is None else clean_frames(buf)
        if clean is not None and clean[1] == self._channels:
            return self._decode_clean(buf, clean[0])
        a = np.frombuffer(buf, dtype=np.uint8)
        scan = find_frames(a, final, buf)

        out_samples: list[np.ndarray] = []
        out_index: list[np.ndarray] = []
        consumed = scan.cutoff
        accepted_bytes = 0
        rejected = int(scan.rejected_at.size)

        k = scan.start.size
        info_at = np.flatnonzero(scan.kind == TYPE_INFO)
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

    def _decode_clean(self, buf: bytes, k: int) -> Frames:
        """``k`` back-to-back valid data frames of the known channel count from the first byte (the usual live
        read), read as records in a few numpy calls; what follows them waits for the next call."""
        ch = self._channels
        assert ch is not None
        rec = np.frombuffer(buf, dtype=_record(ch), count=k)
        seq = rec["seq"].astype(np.int64)
        index, lost = self._unwrap(seq)
        self._buf = buf[k * data_frame_length(ch) :]
        self.stats.frames += k
        self.stats.lost += lost
        self.stats.overruns += int(np.count_nonzero(rec["flags"] & FLAG_OVERRUN))
        return Frames(rec["samples"].astype(np.float64), index)

    def _unwrap(self, seq: np.ndarray) -> tuple[np.ndarray, int]:
        """Absolute indices of frames with 16-bit counters ``seq`` (the gap between two is 1-65536), and frames lost."""
        prev = np.empty_like(seq)
        prev[1:] = seq[:-1]
        prev[0] = self._last_seq if self._last_seq is not None else (seq[0] - 1) & 0xFFFF
        before = self._last_index
        index = before + np.cumsum(((seq - prev - 1) & 0xFFFF) + 1)
        self._last_seq = int(seq[-1])
        self._last_index = int(index[-1])
        return index, self._last_index - before - seq.size

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
        length = data_frame_length(ch)
        first, k = int(starts[0]), starts.size
        if int(starts[-1]) - first == (k - 1) * length:  # back to back (the usual case): the frames are rows of a view
            rows = a[first : first + k * length].reshape(k, length)
            samples = rows[:, 5 : 5 + 2 * ch].copy().view("<u2").astype(np.float64)
            seq = rows[:, 2:4].copy().view("<u2")[:, 0].astype(np.int64)
            flags = rows[:, 4]
        else:
            offs = starts[:, None] + (5 + 2 * np.arange(ch))[None, :]
            samples = (a[offs].astype(np.uint16) | (a[offs + 1].astype(np.uint16) << 8)).astype(np.float64)
            seq = a[starts + 2].astype(np.int64) | (a[starts + 3].astype(np.int64) << 8)
            flags = a[starts + 4]
        index, lost = self._unwrap(seq)
        self.stats.frames += int(seq.size)
        self.stats.lost += lost
        self.stats.overruns += int(np.count_nonzero(flags & FLAG_OVERRUN))
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
        if a[start + 4] & FLAG_START:
            seq = int(a[start + 2]) | (int(a[start + 3]) << 8)
            self._last_seq = (seq - 1) & 0xFFFF
            self.restarts += 1
        changed = self._channels is not None and info.channels != self._channels
        self._channels = info.channels
        self.info = info
        if self.on_info is not None:
            self.on_info(info)
        return changed
