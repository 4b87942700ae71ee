"""Decoder for OpenEEG ModularEEG "P2" packets (the Olimex SHIELD-EKG-EMG demo firmware).

A packet is 17 bytes: 0xA5 0x5A, version 2, a packet counter (uint8, +1 a packet),
6 channels x 2 bytes big-endian 10-bit values, and a switch-state byte (PD5..PD2
in bits 3..0). Nominally 256 Hz at 57600 baud (the Arduino demo's 4 ms timer gives
250 Hz). P2 has no checksum, so everything that can be checked is: sync, version,
the top 6 bits of every value and the top 4 of the switch byte; alignments followed
by another packet are preferred, and a packet whose counter breaks an otherwise
continuous sequence (prev, ?, prev + 2) is rejected as corrupted. Lost packets are
counted from the counter modulo 256, so a run of 256 or more lost packets is
undercounted by a multiple of 256.
"""

from __future__ import annotations

import numpy as np

from emgfeedback.io.protocol import DecoderStats, Frames

PACKET = 17
SYNC0, SYNC1, VERSION = 0xA5, 0x5A, 2
CHANNELS = 6
#: Nominal ModularEEG rate; the Olimex Arduino demo gives 250 Hz.
DEFAULT_FS = 256.0
DEFAULT_BAUD = 57600
_HIGH = np.arange(4, 16, 2)  # offsets of the high bytes
_MODULO = 256


def encode_packets(counter_start: int, samples: np.ndarray, switches: int = 0x01) -> bytes:
    """P2 packets for ``samples`` (n, 6) of 10-bit values, counters from ``counter_start`` (tests, simulators)."""
    x = np.asarray(samples, dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != CHANNELS:
        raise ValueError(f"P2 packets carry {CHANNELS} channels, got shape {x.shape}")
    if x.size and (x.min() < 0 or x.max() > 1023):
        raise ValueError("P2 values are 10-bit: 0 to 1023")
    n = x.shape[0]
    out = np.empty((n, PACKET), dtype=np.uint8)
    out[:, 0], out[:, 1], out[:, 2] = SYNC0, SYNC1, VERSION
    out[:, 3] = (counter_start + np.arange(n)) % _MODULO
    out[:, 4:16:2] = x >> 8
    out[:, 5:16:2] = x & 0xFF
    out[:, 16] = switches & 0x0F
    return out.tobytes()


class P2Decoder:
    """P2 bytes -> frames of 6 channels; a packet is held back until the next one confirms it."""

    name = "p2"

    def __init__(self) -> None:
        self.stats = DecoderStats()
        self._buf = b""
        self._last_counter: int | None = None
        self._last_index = -1
        self._prev_raw = 0  # counter of the last packet decided (accepted or rejected)

    @property
    def channels(self) -> int:
        return CHANNELS

    def feed(self, data: bytes) -> Frames:
        """Consume ``data``; return every valid packet it confirmed (the newest waits for its successor)."""
        return self._decode(bytes(data), final=False)

    def flush(self) -> Frames:
        """End of a stream (or of a connection): release the held packet, drop incomplete bytes.

        The counter state is kept, so packets that follow on a new connection still count the loss.
        """
        return self._decode(b"", final=True)

    def _decode(self, data: bytes, final: bool) -> Frames:
        buf = self._buf + data
        arr = np.frombuffer(buf, dtype=np.uint8)
        n = arr.shape[0]
        m = n - PACKET + 1  # positions where a whole packet fits
        if m <= 0:
            self._buf = b"" if final else buf
            self.stats.garbage_bytes += n if final else 0
            return Frames.empty(CHANNELS)
        valid = (arr[:m] == SYNC0) & (arr[1 : m + 1] == SYNC1) & (arr[2 : m + 2] == VERSION)
        valid &= (arr[PACKET - 1 : m + PACKET - 1] & 0xF0) == 0
        for k in _HIGH:
            valid &= arr[k : m + k] <= 3
        cand = np.flatnonzero(valid)
        if cand.size > 1 and (np.diff(cand) < PACKET).any():
            cand = _non_overlapping(cand)
        held = int(not final and cand.size > 0 and self._successor_pending(arr, int(cand[-1]) + PACKET, m))
        if final:
            keep_from = n
        elif cand.size == 0:
            keep_from = m
        elif held:
            keep_from = int(cand[-1])
        else:
            keep_from = max(int(cand[-1]) + PACKET, m)
        counters = arr[cand + 3].astype(np.int64)
        chosen = cand[: cand.size - held]
        accept = self._select(counters, chosen.size)
        self._count_garbage(arr, keep_from, chosen)
        self._buf = buf[keep_from:]
        good = chosen[accept]
        if good.size == 0:
            return Frames.empty(CHANNELS)
        rows = arr[good[:, None] + np.arange(PACKET)]
        samples = ((rows[:, 4:16:2].astype(np.int64) << 8) | rows[:, 5:16:2]).astype(np.float64)
        c = counters[: chosen.size][accept]
        assert self._last_counter is not None
        gaps = (np.diff(c, prepend=self._last_counter) - 1) % _MODULO
        index = self._last_index + np.cumsum(gaps + 1)
        self.stats.lost += int(gaps.sum())
        self.stats.frames += int(good.size)
        self._last_index = int(index[-1])
        self._last_counter = int(c[-1])
        return Frames(samples, index.astype(np.int64))

    # --- internals -----------------------------------------------------------------------
    @staticmethod
    def _successor_pending(arr: np.ndarray, after: int, m: int) -> bool:
        """Whether a packet may still be arriving after ``after``: the newest packet then waits for it."""
        n = arr.shape[0]
        if after >= n:
            return True
        tail = arr[max(after, m) :]
        if tail.size == 0:
            return False
        sync = tail == SYNC0
        sync[:-1] &= tail[1:] == SYNC1
        return bool(sync.any())

    def _select(self, counters: np.ndarray, k: int) -> np.ndarray:
        """Which of the first ``k`` packets to accept: lock on a consecutive pair, drop corrupted counters.

        A packet whose counter jumps while its raw neighbours stay continuous around it (successor =
        predecessor + 2) has a corrupted counter. When damage comes close together (two packets) the
        rule can also drop an intact neighbour: a lost packet, never one placed at a wrong index.
        """
        accept = np.zeros(k, dtype=bool)
        if k == 0:
            return accept
        start = 0
        if self._last_counter is None:  # lock: a packet must be followed by its successor
            pairs = np.flatnonzero(np.diff(counters) % _MODULO == 1)
            pairs = pairs[pairs < k]
            if pairs.size == 0:
                self.stats.rejected += k
                return accept
            start = int(pairs[0])
            self.stats.rejected += start
            self._last_counter = self._prev_raw = (int(counters[start]) - 1) % _MODULO
        # s[0] is the counter of the packet before this batch (accepted or not), s[i + 1] packet i's
        s = np.concatenate(([self._prev_raw], counters[start:]))
        ok = np.ones(k - start, dtype=bool)
        i = np.arange(min(k - start, s.size - 2))
        if i.size:
            jump = (s[i + 1] - s[i] - 1) % _MODULO != 0
            skip = (s[i + 2] - s[i] - 2) % _MODULO == 0
            bad = i[jump & skip]
            ok[bad] = False
            self.stats.rejected += int(bad.size)
        self._prev_raw = int(counters[k - 1])
        accept[start:] = ok
        return accept

    def _count_garbage(self, arr: np.ndarray, end: int, chosen: np.ndarray) -> None:
        """Bytes consumed outside packets are garbage; each sync pair among them was a broken packet."""
        self.stats.garbage_bytes += end - PACKET * int(chosen.size)
        e = min(end, arr.shape[0] - 1)
        if e <= 0:
            return
        sync = np.flatnonzero((arr[:e] == SYNC0) & (arr[1 : e + 1] == SYNC1))
        self.stats.rejected += int(np.setdiff1d(sync, chosen, assume_unique=True).size)


def _non_overlapping(cand: np.ndarray) -> np.ndarray:
    """Drop overlapping candidates, keeping the one another packet follows (only after corruption)."""
    starts = set(cand.tolist())
    out: list[int] = []
    for p in cand.tolist():
        if out and p < out[-1] + PACKET:
            if out[-1] + PACKET not in starts and p + PACKET in starts:
                out[-1] = p
            continue
        out.append(p)
    return np.asarray(out, dtype=np.int64)
