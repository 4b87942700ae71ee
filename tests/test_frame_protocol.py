"""FrameDecoder against damaged streams (hypothesis), the CRC check value and the worked example in docs/protocol.md.

A 16-bit CRC lets a damaged frame through with probability about 2**-16 (less with the 10-bit check),
so the property runs are derandomized: the same examples every run, no flaky CI.
"""

from __future__ import annotations

import re
from dataclasses import astuple
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emgfeedback.io import frame_protocol
from emgfeedback.io.frame_format import crc_rows
from emgfeedback.io.frame_protocol import (
    SYNC,
    FrameDecoder,
    cmd_set_channels,
    cmd_set_rate,
    crc16_ccitt,
    data_frame_length,
    encode_frames,
    encode_info,
)
from emgfeedback.io.frame_scan import scan, scan_clean, scan_full
from emgfeedback.io.protocol import DeviceInfo, Frames

DOCS = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"

PROPERTY = settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _info(ch: int, fs: float = 1000) -> DeviceInfo:
    return DeviceInfo("emgfeedback-test", fs, ch, 10, 5000.0, {"baud": "500000"})


def _decode_all(dec: FrameDecoder, chunks: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Feed every chunk, flush at the end, and join the batches."""
    batches: list[Frames] = [dec.feed(c) for c in chunks]
    batches.append(dec.flush())
    while dec.pending_bytes:
        batches.append(dec.flush())
    batches = [b for b in batches if len(b)]
    ch = dec.channels or 0
    if not batches:
        return np.empty((0, ch)), np.empty(0, dtype=np.int64)
    return np.concatenate([b.samples for b in batches]), np.concatenate([b.index for b in batches])


@st.composite
def damaged_streams(draw: st.DrawFn) -> dict:
    """Frames with some dropped, bit-flipped or truncated, garbage and info frames between them, and chunk sizes."""
    ch = draw(st.integers(1, 4))
    n = draw(st.integers(1, 120))
    seq0 = draw(st.integers(0, 65535))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ops = draw(st.lists(st.sampled_from(["keep"] * 4 + ["drop", "flip", "trunc"]), min_size=n, max_size=n))
    junk = st.one_of(st.binary(max_size=24), st.binary(max_size=20).map(lambda b: SYNC + b))
    garbage = draw(st.lists(st.one_of(st.just(b""), junk), min_size=n + 1, max_size=n + 1))
    infos = draw(st.lists(st.booleans(), min_size=n, max_size=n)) if draw(st.booleans()) else [False] * n
    samples = rng.integers(0, 1024, (n, ch))
    overrun = rng.random(n) < 0.1
    length = data_frame_length(ch)
    raw = encode_frames(seq0, samples, overrun)
    parts: list[bytes] = []
    for i in range(n):
        parts.append(garbage[i])
        if infos[i]:
            parts.append(encode_info(_info(ch), seq=(seq0 + i) & 0xFFFF))
        frame = bytearray(raw[i * length : (i + 1) * length])
        if ops[i] == "drop":
            continue
        if ops[i] == "flip":
            bit = int(rng.integers(0, 8 * length))
            frame[bit // 8] ^= 1 << (bit % 8)
        elif ops[i] == "trunc":
            frame = frame[: int(rng.integers(1, length))]
        parts.append(bytes(frame))
    parts.append(garbage[n])
    stream = b"".join(parts)
    cuts = np.sort(rng.integers(0, len(stream) + 1, int(rng.integers(0, 40))))
    chunks = [stream[a:b] for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), len(stream)], strict=True)]
    return {
        "ch": ch,
        "samples": samples,
        "ops": ops,
        "infos": infos,
        "overrun": overrun,
        "stream": stream,
        "stream_garbage": garbage,
        "chunks": chunks,
    }


@PROPERTY
@given(damaged_streams())
def test_damaged_stream_never_yields_a_wrong_sample(s: dict) -> None:
    """Every accepted frame is an original frame at the right index; lost counts the rest of the span.

    A frame cut short by exactly its last byte is accepted when the next byte (often the next frame's
    0xA7) happens to equal that CRC byte (1 in 256): its samples are then intact, and the next frame,
    whose sync it swallowed, is lost. So each damaged frame or garbage run may cost one good frame.
    """
    seen: list[DeviceInfo] = []
    dec = FrameDecoder(on_info=seen.append)
    samples, index = _decode_all(dec, s["chunks"])
    orig = s["samples"].astype(np.float64)
    n = orig.shape[0]
    ops = s["ops"]
    intact = np.flatnonzero(np.array([op == "keep" for op in ops]))
    hazards = sum(op in ("flip", "trunc") for op in ops) + sum(bool(g) for g in s["stream_garbage"])

    assert dec.stats.frames == index.size
    assert sum(s["infos"]) - hazards <= len(seen) <= sum(s["infos"])
    if index.size == 0:
        assert samples.size == 0
        assert intact.size <= hazards
        return
    assert index[0] == 0 and np.all(np.diff(index) > 0)
    # the alignment: accepted frame with index k is original frame first + k, for one value of first
    firsts = [f for f in range(n - int(index[-1])) if np.array_equal(samples, orig[f + index])]
    assert firsts, "accepted samples match no alignment with the original frames"
    got = firsts[0] + index
    assert dec.stats.lost == int(index[-1] + 1 - index.size)
    assert dec.stats.overruns == int(np.count_nonzero(s["overrun"][got]))
    assert np.isin(intact, got).sum() >= intact.size - hazards


@PROPERTY
@given(damaged_streams())
def test_chunked_equals_one_shot(s: dict) -> None:
    one = FrameDecoder()
    one_samples, one_index = _decode_all(one, [s["stream"]])
    many = FrameDecoder()
    many_samples, many_index = _decode_all(many, s["chunks"])
    np.testing.assert_array_equal(many_samples, one_samples)
    np.testing.assert_array_equal(many_index, one_index)
    assert astuple(many.stats) == astuple(one.stats)


@PROPERTY
@given(
    ch=st.integers(1, 4),
    seq0=st.integers(0, 65535),
    gaps=st.lists(st.integers(0, 300), min_size=1, max_size=30),
    chunk=st.integers(1, 64),
)
def test_lost_counts_removed_frames_across_seq_wrap(ch: int, seq0: int, gaps: list[int], chunk: int) -> None:
    """Frames removed in runs (fewer than 65536 each), seq starting anywhere so it wraps: lost == removed."""
    keep = np.cumsum(np.asarray(gaps) + 1) - 1  # frame numbers kept: a gap of g removes g frames before each
    total = int(keep[-1]) + 1
    samples = (np.arange(total * ch).reshape(total, ch) * 7) % 1024
    raw = encode_frames(seq0, samples)
    length = data_frame_length(ch)
    stream = b"".join(raw[i * length : (i + 1) * length] for i in keep.tolist())
    dec = FrameDecoder()
    got, index = _decode_all(dec, [stream[i : i + chunk] for i in range(0, len(stream), chunk)])
    np.testing.assert_array_equal(got, samples[keep])
    np.testing.assert_array_equal(index, keep - keep[0])
    assert dec.stats.lost == int(keep[-1] - keep[0] + 1 - keep.size)
    assert dec.stats.rejected == 0
    assert dec.stats.garbage_bytes == 0


@PROPERTY
@given(
    ch=st.integers(1, 4),
    n=st.one_of(st.integers(0, 40), st.integers(120, 160)),  # a live read's few frames, and a file's worth (>= 128)
    end=st.integers(0, 10_000),
    mutation=st.sampled_from(["none", "none", "flip", "insert", "info", "channels", "high", "high_crc_ok"]),
    where=st.integers(0, 10_000),
    seed=st.integers(0, 2**32 - 1),
)
def test_quick_scan_of_a_clean_stream_decides_like_the_full_scan(
    ch: int, n: int, end: int, mutation: str, where: int, seed: int
) -> None:
    """The live reader's quick path (back-to-back frames from the first byte) decides exactly what the full scan does."""
    rng = np.random.default_rng(seed)
    raw = bytearray(encode_frames(int(rng.integers(0, 65536)), rng.integers(0, 1024, (n, ch)), rng.random(n) < 0.2))
    at = where % (len(raw) + 1)
    if mutation == "flip" and raw:
        raw[at % len(raw)] ^= 1 << int(rng.integers(0, 8))
    elif mutation == "insert":
        raw[at:at] = bytes(rng.integers(0, 256, int(rng.integers(1, 4)), dtype=np.uint8))
    elif mutation == "info":
        raw[at:at] = encode_info(_info(ch), seq=0)
    elif mutation == "channels":
        raw += encode_frames(0, rng.integers(0, 1024, (2, ch % 4 + 1)))
    elif mutation == "high" and n:
        raw[6] = 0xFF  # a sample above 10 bits in the first frame (its CRC is then wrong too)
    elif mutation == "high_crc_ok" and n:
        length = 7 + 2 * ch  # a sample above 10 bits in a frame whose CRC is right: only the 10-bit check rejects it
        first = at // length * length if at + length <= len(raw) else 0
        raw[first + 6 + 2 * int(rng.integers(0, ch))] |= 0x04
        crc = crc16_ccitt(bytes(raw[first + 2 : first + length - 2]))
        raw[first + length - 2 : first + length] = crc.to_bytes(2, "little")
    a = np.frombuffer(bytes(raw[: end % (len(raw) + 1)]), dtype=np.uint8)
    quick, full = scan(a), scan_full(a)
    if mutation == "none" and a.size >= 7 + 2 * ch:  # a clean stream takes the quick path (else it would only be slow)
        assert scan_clean(a.tobytes()) is not None
    assert quick.cutoff == full.cutoff
    for field in ("start", "length", "kind", "rejected_at"):
        assert np.array_equal(getattr(quick, field), getattr(full, field)), field


def test_crc_check_value() -> None:
    assert crc16_ccitt(b"123456789") == 0x29B1
    assert crc16_ccitt(np.frombuffer(b"123456789", dtype=np.uint8)) == 0x29B1


@PROPERTY
@given(rows=st.integers(0, 300), width=st.integers(0, 20), seed=st.integers(0, 2**32 - 1))
def test_crc_of_rows_matches_one_crc_per_row(rows: int, width: int, seed: int) -> None:
    """Both ways of computing many CRCs (per row for a live read, per column for a file) give each row's CRC."""
    m = np.random.default_rng(seed).integers(0, 256, (rows, width), dtype=np.uint8)
    assert crc_rows(m).tolist() == [crc16_ccitt(r.tobytes()) for r in m]


def test_worked_example_in_docs_decodes() -> None:
    text = DOCS.read_text(encoding="utf-8")
    m = re.search(r"<!-- worked-example: seq=(\d+) samples=([\d,]+) -->\s*```[a-z]*\n(.*?)```", text, re.S)
    assert m, "docs/protocol.md lost its worked-example block"
    seq, values, hexdump = int(m[1]), [int(v) for v in m[2].split(",")], m[3]
    frame = bytes.fromhex(" ".join(re.findall(r"\b[0-9A-Fa-f]{2}\b", hexdump)))
    assert frame == encode_frames(seq, np.array([values]))
    dec = FrameDecoder()
    out = dec.feed(frame)
    np.testing.assert_array_equal(out.samples, [values])
    assert out.index.tolist() == [0]
    assert crc16_ccitt(frame[2:-2]) == int.from_bytes(frame[-2:], "little")


def test_info_frame_sets_info_and_reanchors_seq_after_restart() -> None:
    seen: list[DeviceInfo] = []
    dec = FrameDecoder(on_info=seen.append)
    a = encode_info(_info(4), seq=0, start=True) + encode_frames(1, np.full((5, 4), 100))
    out = dec.feed(a)
    assert out.index.tolist() == [1, 2, 3, 4, 5]  # the stream started at seq 0: frame 0 was lost
    assert dec.stats.lost == 1
    assert dec.info is not None and dec.info.channels == 4 and dec.info.fs == 1000
    # device stopped after seq 5, restarted: seq back to 0, announced by a start info frame -> no bogus loss
    out = dec.feed(encode_info(_info(4), seq=0, start=True) + encode_frames(0, np.full((3, 4), 200)))
    assert out.index.tolist() == [6, 7, 8]
    assert dec.stats.lost == 1
    # a reply info frame in the middle of a stream (the I command) changes nothing, not even after a loss
    stream = encode_frames(3, np.full((2, 4), 1)) + encode_info(_info(4), seq=6) + encode_frames(6, np.full((2, 4), 2))
    out = dec.feed(stream)
    assert out.index.tolist() == [9, 10, 12, 13]
    assert len(seen) == 3 and dec.stats.lost == 2


def test_channel_change_needs_an_info_frame_and_never_mixes_counts() -> None:
    dec = FrameDecoder()
    out = dec.feed(encode_frames(0, np.full((3, 4), 9)) + encode_frames(3, np.full((2, 2), 8)))
    assert out.samples.shape == (3, 4)
    assert dec.stats.rejected == 2  # 2-channel frames without an announcement
    stream = (
        encode_frames(5, np.full((2, 4), 7)) + encode_info(_info(2), seq=0, start=True) + encode_frames(0, np.full((4, 2), 6))
    )
    out = dec.feed(stream)
    assert out.samples.shape == (2, 4)
    assert dec.channels == 2 and dec.pending_bytes > 0
    out = dec.feed(b"")
    assert out.samples.shape == (4, 2)
    assert out.index.tolist() == [7, 8, 9, 10]
    assert dec.pending_bytes == 0


def test_rejects_samples_above_ten_bits_and_bad_crc() -> None:
    dec = FrameDecoder()
    good = encode_frames(0, np.array([[1, 2, 3, 4]]))
    high = encode_frames(1, np.array([[1, 2, 1024, 4]]))  # valid CRC, top bits set
    bad = bytearray(encode_frames(2, np.array([[1, 2, 3, 4]])))
    bad[-1] ^= 0x01
    out = dec.feed(good + high + bytes(bad) + encode_frames(3, np.array([[5, 6, 7, 8]])))
    assert out.samples.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert out.index.tolist() == [0, 3]
    assert dec.stats.rejected == 2 and dec.stats.lost == 2


def test_empty_and_garbage_only_input() -> None:
    dec = FrameDecoder()
    assert len(dec.feed(b"")) == 0
    out = dec.feed(bytes(range(256)) * 4)
    assert len(out) == 0 and dec.channels is None
    assert dec.stats.garbage_bytes + dec.pending_bytes == 1024


def test_command_helpers() -> None:
    assert cmd_set_channels(2) == b"C\x02"
    assert cmd_set_rate(2000) == b"F\xd0\x07"
    with pytest.raises(ValueError):
        cmd_set_channels(5)
    with pytest.raises(ValueError):
        cmd_set_rate(100)


@PROPERTY
@given(damaged_streams(), st.integers(0, 4))
def test_the_record_path_decodes_like_the_frame_scan(s: dict, clean_start: int) -> None:
    """A live read of clean frames is decoded as packed records; any stream, damaged or not, in any chunks, gives
    the samples, indices and counts the full frame-by-frame path gives."""
    rng = np.random.default_rng(clean_start)
    ch = s["ch"]
    lead = encode_frames(
        int(rng.integers(0, 65536)), rng.integers(0, 1024, (clean_start * 7, ch)), rng.random(clean_start * 7) < 0.3
    )
    chunks = [lead[i : i + 7 * data_frame_length(ch)] for i in range(0, len(lead), 7 * data_frame_length(ch))] + s["chunks"]
    taken: list[int] = []
    real_clean = frame_protocol.FrameDecoder._decode_clean

    def counting(self: FrameDecoder, buf: bytes, k: int) -> Frames:
        taken.append(k)
        return real_clean(self, buf, k)

    with patch.object(frame_protocol.FrameDecoder, "_decode_clean", counting):
        fast = FrameDecoder()
        fast_out = _decode_all(fast, chunks)
    with patch.object(frame_protocol, "clean_frames", lambda buf: None):
        slow = FrameDecoder()
        slow_out = _decode_all(slow, chunks)
    assert np.array_equal(fast_out[0], slow_out[0]) and np.array_equal(fast_out[1], slow_out[1])
    assert astuple(fast.stats) == astuple(slow.stats)
    if clean_start >= 2:  # clean reads after the first (which sets the channel count) take the record path
        assert taken
