"""Decoder for OpenEEG ModularEEG "P2" packets (the Olimex SHIELD-EKG-EMG demo firmware).

A packet is 17 bytes: 0xA5 0x5A, version 2, a packet counter (uint8, +1 a packet),
6 channels x 2 bytes big-endian 10-bit values, and a switch-state byte (PD5..PD2
in bits 3..0). Nominally 256 Hz at 57600 baud (the Arduino demo's 4 ms timer gives
250 Hz). P2 has no checksum, so everything that can be checked is: sync, version,
the top 6 bits of every value and the top 4 of the switch byte.

A whole packet is a sample whatever its counter says. The counter only places it:
a packet that breaks an otherwise continuous sequence (prev, ?, prev + 2) has a
corrupted counter and takes the next index; a jump is a loss only while the counter
is trusted and the next packet moves on from it. A counter that repeats or stays put
(real boards after a reset) is not trusted (``stats.counter_ok`` False) until it
counts :data:`TRUST_STEPS` packets in a row again; meanwhile each packet takes the
next index. A broken packet (a sync pair whose packet fails the checks) still
occupies its sample period: it leaves a one-sample gap. A run of 255 lost packets
reads as a repeat, and one of 256 or more is undercounted by a multiple of 256.
"""

from __future__ import annotations

import numpy as np

from emgfeedback.io.protocol import Decoder, DecoderStats, Frames

PACKET = 17
SYNC0, SYNC1, VERSION = 0xA5, 0x5A, 2
CHANNELS = 6
#: Nominal ModularEEG rate; the Olimex Arduino demo gives 250 Hz.
DEFAULT_FS = 256.0
DEFAULT_BAUD = 57600
#: Consecutive +1 steps a counter caught repeating must make before its jumps count as loss again.
TRUST_STEPS = 4
#: A packet further than this many bytes after another is not its successor (bounds the look-ahead).
LOOKAHEAD = 4 * PACKET
_HIGH = np.arange(4, 16, 2)  # offsets of the high bytes
_MODULO = 256


def encode_packets(counter_start: int, samples: np.ndarray, switches: int = 0x01, *, counters: np.ndarray | None = None) -> bytes:
    """P2 packets for ``samples`` (n, 6) of 10-bit values, counters from ``counter_start`` (tests, simulators).

    ``counters`` gives every packet's counter instead (a board whose counter is stuck, for tests).
    """
    x = np.asarray(samples, dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != CHANNELS:
        raise ValueError(f"P2 packets carry {CHANNELS} channels, got shape {x.shape}")
    if x.size and (x.min() < 0 or x.max() > 1023):
        raise ValueError("P2 values are 10-bit: 0 to 1023")
    n = x.shape[0]
    out = np.empty((n, PACKET), dtype=np.uint8)
    out[:, 0], out[:, 1], out[:, 2] = SYNC0, SYNC1, VERSION
    out[:, 3] = (counter_start + np.arange(n)) % _MODULO if counters is None else np.asarray(counters) % _MODULO
    out[:, 4:16:2] = x >> 8
    out[:, 5:16:2] = x & 0xFF
    out[:, 16] = switches & 0x0F
    return out.tobytes()


class P2Decoder(Decoder):
    """P2 bytes -> frames of 6 channels; a packet is held back until the next one places it."""

    name = "p2"

    def __init__(self) -> None:
        self.stats = DecoderStats()
        self._buf = b""
        self._last_counter: int | None = None  # counter of the last packet placed (corrected if it was corrupted)
        self._last_index = -1
        self._trusted = False  # the counter has counted; its jumps are losses
        self._streak = 0  # consecutive consistent steps since the counter was last caught out
        self._faulted = False  # the counter was caught repeating: regaining trust takes TRUST_STEPS
        self._run_rejects = 0  # broken packets since the last whole one (each takes a sample period)

    @property
    def channels(self) -> int:
        return CHANNELS

    @property
    def counter_ok(self) -> bool:
        """False while the packet counter repeats or stays put (lost packets cannot be counted then)."""
        return self.stats.counter_ok

    def feed(self, data: bytes) -> Frames:
        """Consume ``data``; return every whole packet it placed (the newest waits for its successor)."""
        return self._decode(bytes(data), final=False)

    def flush(self) -> Frames:
        """End of a stream (or of a connection): place the held packet, drop incomplete bytes.

        The counter state is kept, so packets that follow on a new connection still count the loss.
        """
        out = self._decode(b"", final=True)
        self._run_rejects = 0
        return out

    def _decode(self, data: bytes, final: bool) -> Frames:
        buf = self._buf + data
        arr = np.frombuffer(buf, dtype=np.uint8)
        n = arr.shape[0]
        m = max(n - PACKET + 1, 0)  # positions where a whole packet fits
        cand = _whole_packets(arr, m)
        # the newest packet waits for a successor, unless none can come within the look-ahead
        alone = final or (cand.size > 0 and int(cand[-1]) + PACKET + LOOKAHEAD < m)
        decided = cand.size if alone else max(cand.size - 1, 0)
        if final:
            keep_from = n
        elif decided < cand.size:
            keep_from = int(cand[-1])
        else:
            keep_from = max(m, int(cand[-1]) + PACKET) if cand.size else m
        # broken packets: sync pairs that are not whole packets, binned by the whole packet they precede
        sync = np.flatnonzero((arr[:-1] == SYNC0) & (arr[1:] == SYNC1)) if n > 1 else np.empty(0, np.int64)
        broken = np.setdiff1d(sync[sync < keep_from], cand, assume_unique=True)
        between = np.bincount(np.searchsorted(cand, broken), minlength=cand.size + 1)
        between[0] += self._run_rejects
        self.stats.rejected += int(broken.size)
        self.stats.garbage_bytes += keep_from - PACKET * decided
        self._run_rejects = int(between[decided:].sum()) if decided < cand.size else int(between[-1])
        self._buf = buf[keep_from:]
        if decided == 0:
            return Frames.empty(CHANNELS)
        good = cand[:decided]
        successor = np.zeros(cand.size, dtype=bool)
        if cand.size > 1:
            successor[:-1] = np.diff(cand) - PACKET <= LOOKAHEAD
        counters = arr[cand + 3].astype(np.int64)
        index = self._place(counters, between[: cand.size], successor, decided)
        rows = arr[good[:, None] + np.arange(PACKET)]
        samples = ((rows[:, 4:16:2].astype(np.int64) << 8) | rows[:, 5:16:2]).astype(np.float64)
        self.stats.frames += decided
        return Frames(samples, index)

    # --- internals -----------------------------------------------------------------------
    def _place(self, c: np.ndarray, broken: np.ndarray, successor: np.ndarray, k: int) -> np.ndarray:
        """Indices of the first ``k`` packets from their counters ``c`` and the broken packets before each.

        ``successor[j]``: packet j + 1 follows closely enough to confirm or refute packet j's counter.
        """
        prev, last = self._last_counter, self._last_index
        if prev is not None and self._trusted and not broken[:k].any():  # the common case: +1 throughout
            steps = np.diff(c[:k], prepend=prev) % _MODULO
            if (steps == 1).all():
                self._last_counter, self._last_index = int(c[k - 1]), last + k
                return np.arange(last + 1, last + k + 1, dtype=np.int64)
        index = np.empty(k, dtype=np.int64)
        for j in range(k):
            cj, ej = int(c[j]), int(broken[j])
            gap = 0 if prev is None else ej  # broken bytes before the very first packet place nothing
            if prev is not None:
                d = (cj - prev) % _MODULO
                consistent = d == 1 or (0 < ej < _MODULO - 1 and d == 1 + ej)
                if self._trusted and consistent:
                    gap = d - 1
                elif self._trusted:
                    nxt = int(c[j + 1]) if successor[j] else None
                    if nxt is not None and (nxt - prev) % _MODULO == (2 + ej + int(broken[j + 1])) % _MODULO:
                        cj = (prev + 1 + ej) % _MODULO  # a corrupted counter between two that agree
                    elif d != 0 and (nxt is None or (nxt - cj) % _MODULO != 0):
                        gap = d - 1  # a jump the counter goes on from: packets were lost
                    else:
                        self._distrust()  # a repeat, or a jump into a counter that then stands still
                else:
                    self._step(consistent)
            last += 1 + gap
            self.stats.lost += gap
            index[j] = last
            prev = cj
        self._last_counter, self._last_index = prev, last
        return index

    def _step(self, consistent: bool) -> None:
        """An untrusted counter made a step: trust it after enough consistent ones in a row."""
        if not consistent:
            self._distrust()
            return
        self._streak += 1
        if self._streak >= (TRUST_STEPS if self._faulted else 1):
            self._trusted = True
            self.stats.counter_ok = True

    def _distrust(self) -> None:
        self._trusted, self._streak, self._faulted = False, 0, True
        self.stats.counter_ok = False


def _whole_packets(arr: np.ndarray, m: int) -> np.ndarray:
    """Start positions (< m) of every whole packet: sync, version and the fixed-zero bits all right."""
    if m <= 0:
        return np.empty(0, dtype=np.int64)
    valid = (arr[:m] == SYNC0) & (arr[1 : m + 1] == SYNC1) & (arr[2 : m + 2] == VERSION)
    valid &= (arr[PACKET - 1 : m + PACKET - 1] & 0xF0) == 0
    for k in _HIGH:
        valid &= arr[k : m + k] <= 3
    cand = np.flatnonzero(valid)
    if cand.size > 1 and (np.diff(cand) < PACKET).any():
        cand = _non_overlapping(cand)
    return cand.astype(np.int64)


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
