"""Finding the firmware's frames in a byte buffer (docs/protocol.md): which are whole, valid and taken.

The scan never loops over bytes in Python: sync candidates are found with one vector comparison, all
candidates of a buffer are validated at once (CRC computed column by column over a frames x bytes
matrix), and the common case of back-to-back frames skips the candidate scan: a live read's few dozen
frames are checked by byte slices and one C CRC call per frame, a file's worth by numpy passes.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass

import numpy as np

from emgfeedback.io.frame_format import (
    ADC_MAX,
    FLAG_OVERRUN,
    INFO_MAX_PAYLOAD,
    INFO_OVERHEAD,
    MAX_CHANNELS,
    ROWWISE_CRC_ROWS,
    SYNC0,
    SYNC1,
    TYPE_DATA,
    TYPE_INFO,
    crc16_ccitt,
    crc_rows,
    data_frame_length,
)

_SYNC0, _SYNC1 = bytes((SYNC0,)), bytes((SYNC1,))
#: Keeps a flags byte's type and channel count, drops the overrun bit (for bytes.translate).
_TYPE_AND_CHANNELS = bytes(b & ~FLAG_OVERRUN & 0xFF for b in range(256))


@dataclass
class Scan:
    """Candidate frames of one buffer, in position order, with what the greedy pass decided."""

    start: np.ndarray  # (k,) int64 positions of accepted frames
    length: np.ndarray  # (k,) int64
    kind: np.ndarray  # (k,) uint8: 0 data, 1 info
    cutoff: int  # bytes before this are decided; the rest waits for more data
    rejected_at: np.ndarray  # positions of complete candidates that failed validation


def scan(a: np.ndarray, final: bool = False, buf: bytes | None = None) -> Scan:
    """What :func:`scan_full` decides, through the quick path for a clean stream where it applies
    (``buf``: the bytes behind ``a``, when the caller has them)."""
    clean = None if final else scan_clean(a.tobytes() if buf is None else buf)
    return clean if clean is not None else scan_full(a, final)


def scan_full(a: np.ndarray, final: bool = False) -> Scan:
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
        cut = n - 1 if n == 1 and a[0] == SYNC0 and not final else n
        return Scan(empty, empty, np.empty(0, np.uint8), cut, empty)
    c = np.flatnonzero((a[:-1] == SYNC0) & (a[1:] == SYNC1)).astype(np.int64)

    has_flags = c + 5 <= n
    flags = np.zeros(c.size, dtype=np.uint8)
    flags[has_flags] = a[c[has_flags] + 4]
    ftype = flags >> 4
    nch = (flags & 0x07).astype(np.int64)
    plausible = has_flags & (nch >= 1) & (nch <= MAX_CHANNELS)
    is_data = plausible & (ftype == TYPE_DATA)
    info_hdr = plausible & (ftype == TYPE_INFO)
    has_len = c + 6 <= n
    info_len = np.zeros(c.size, dtype=np.int64)
    sel = info_hdr & has_len
    info_len[sel] = a[c[sel] + 5]
    is_info = sel & (info_len <= INFO_MAX_PAYLOAD)
    length = np.where(is_data, 7 + 2 * nch, np.where(is_info, INFO_OVERHEAD + info_len, 0))
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
        if a[-1] == SYNC0:  # may be the first half of a sync pair
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
    return Scan(vpos, vlen, vkind.astype(np.uint8), cutoff, bad)


def scan_clean(buf: bytes) -> Scan | None:
    """The common case without the candidate scan: back-to-back valid data frames of one channel count from the
    first byte, then at most the start of the next frame. Anything else (None) goes through the full scan.

    The result is the full scan's (every candidate inside an accepted frame is ignored, the tail waits).
    """
    clean = clean_frames(buf)
    return None if clean is None else _all_data(clean[0], data_frame_length(clean[1]))


def clean_frames(buf: bytes) -> tuple[int, int] | None:
    """``(frames, channels)`` when ``buf`` is :func:`scan_clean`'s common case, else None.

    A live reader decodes ~30 ms of bytes (~33 frames) at a time, where numpy's fixed cost per call dominates, so
    a few frames are checked by byte slices (:func:`_few_frames_valid`), a file's worth by numpy passes.
    """
    n = len(buf)
    if n < 5 or buf[0] != SYNC0 or buf[1] != SYNC1 or buf[4] >> 4 != TYPE_DATA:
        return None
    ch = buf[4] & 0x07
    if not 1 <= ch <= MAX_CHANNELS:
        return None
    length = data_frame_length(ch)
    k, tail = divmod(n, length)
    if k == 0:
        return None
    whole = k * length
    if tail:  # the tail must be the beginning of another frame, which then waits for its rest
        if buf[whole] != SYNC0 or (tail >= 2 and buf[whole + 1] != SYNC1):
            return None
        if tail >= 5 and (buf[whole + 4] >> 4 != TYPE_DATA or buf[whole + 4] & 0x07 != ch):
            return None
    if k >= ROWWISE_CRC_ROWS:  # a file's worth: one numpy pass per column beats work per frame
        rows = np.frombuffer(buf, dtype=np.uint8, count=whole).reshape(k, length)
        flags = rows[:, 4] & ~np.uint8(FLAG_OVERRUN)
        header_ok = (rows[:, 0] == SYNC0) & (rows[:, 1] == SYNC1) & (flags == (TYPE_DATA << 4 | ch))
        return (k, ch) if header_ok.all() and _rows_valid(rows, ch).all() else None
    return (k, ch) if _few_frames_valid(buf[:whole], k, length, ch) else None


def _few_frames_valid(body: bytes, k: int, length: int, ch: int) -> bool:
    """:func:`_rows_valid` and the header check of ``k`` back-to-back ``ch``-channel data frames, by byte slices
    and one CRC call per frame: for a live read's ~33 frames several times cheaper than numpy's passes."""
    if body[0::length] != _SYNC0 * k or body[1::length] != _SYNC1 * k:
        return False
    if body[4::length].translate(_TYPE_AND_CHANNELS) != bytes((TYPE_DATA << 4 | ch,)) * k:
        return False
    if any(max(body[6 + 2 * c :: length]) > ADC_MAX >> 8 for c in range(ch)):  # 10-bit samples
        return False
    view = memoryview(body)
    return all(
        binascii.crc_hqx(view[i + 2 : i + length - 2], 0xFFFF) == body[i + length - 2] | body[i + length - 1] << 8
        for i in range(0, k * length, length)
    )


def _all_data(k: int, length: int) -> Scan:
    """``k`` back-to-back data frames of ``length`` bytes from the first byte, all accepted; the rest waits."""
    start = np.arange(0, k * length, length, dtype=np.int64)
    return Scan(start, np.full(k, length, dtype=np.int64), np.zeros(k, dtype=np.uint8), k * length, np.empty(0, np.int64))


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
    return _rows_valid(windows[starts], ch)


def _rows_valid(rows: np.ndarray, ch: int) -> np.ndarray:
    """CRC and 10-bit check of whole ``ch``-channel data frames, one per row of ``rows``."""
    length = rows.shape[1]
    crc = crc_rows(rows[:, 2 : length - 2])
    got = rows[:, length - 2].astype(np.uint16) | (rows[:, length - 1].astype(np.uint16) << 8)
    return (crc == got) & np.all(rows[:, 6 : 6 + 2 * ch : 2] <= (ADC_MAX >> 8), axis=1)


def _greedy_slow(vpos: np.ndarray, vlen: np.ndarray) -> np.ndarray:
    """Indices of valid candidates kept by the left-to-right greedy pass when some of them overlap (rare)."""
    keep: list[int] = []
    end = -1
    for i, (p, ln) in enumerate(zip(vpos.tolist(), vlen.tolist(), strict=True)):
        if p >= end:
            keep.append(i)
            end = p + ln
    return np.asarray(keep, dtype=np.int64)
