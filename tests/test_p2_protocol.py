"""The OpenEEG P2 decoder: exact samples, exact lost counts, resync after damage, any chunking."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emgfeedback.io.p2_protocol import CHANNELS, PACKET, TRUST_STEPS, P2Decoder, encode_packets
from emgfeedback.io.protocol import Frames


def _packets(n: int, seed: int = 0, counter_start: int = 0) -> tuple[np.ndarray, list[bytes]]:
    """n packets whose channel 0 is the packet number (so a delivered row names its origin)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 1024, (n, CHANNELS))
    x[:, 0] = np.arange(n)
    raw = encode_packets(counter_start, x)
    return x, [raw[i * PACKET : (i + 1) * PACKET] for i in range(n)]


def _feed(decoder: P2Decoder, data: bytes, cuts: list[int]) -> Frames:
    """Feed ``data`` split at ``cuts`` and join the results."""
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(data)), len(data)]
    outs = [decoder.feed(data[a:b]) for a, b in itertools.pairwise(bounds)]
    return Frames(np.concatenate([o.samples for o in outs]), np.concatenate([o.index for o in outs]))


def test_clean_stream_decodes_exactly_in_any_chunking() -> None:
    x, pk = _packets(600, counter_start=200)
    data = b"".join(pk)
    for step in (1, 5, 17, 64, 1000, len(data)):
        dec = P2Decoder()
        out = _feed(dec, data, list(range(step, len(data), step)))
        # the newest packet waits for its successor
        assert len(out) == 599
        np.testing.assert_array_equal(out.samples, x[:599])
        np.testing.assert_array_equal(out.index, np.arange(599))
        assert (dec.stats.frames, dec.stats.lost, dec.stats.rejected, dec.stats.garbage_bytes) == (599, 0, 0, 0)
        assert dec.channels == 6


def test_counter_wraps_and_drops_are_counted() -> None:
    _x, pk = _packets(700, counter_start=250)
    kept = [i for i in range(700) if not 100 <= i < 354]  # 254 in a row, across a counter wrap
    dec = P2Decoder()
    out = dec.feed(b"".join(pk[i] for i in kept))
    assert dec.stats.lost == 254 and dec.stats.counter_ok
    np.testing.assert_array_equal(out.samples[:, 0], kept[:-1])
    np.testing.assert_array_equal(out.index, np.asarray(kept[:-1]))


def test_255_lost_packets_read_as_a_repeat_not_a_wrap() -> None:
    # the counter comes back to the same value: a repeat (a stuck board) is far likelier than 255 lost packets
    _x, pk = _packets(400, counter_start=3)
    kept = [i for i in range(400) if not 100 <= i < 355]
    dec = P2Decoder()
    out = dec.feed(b"".join(pk[i] for i in kept))
    assert dec.stats.lost == 0 and len(out) == len(kept) - 1
    np.testing.assert_array_equal(out.index, np.arange(len(kept) - 1))


def test_starts_mid_packet_and_skips_garbage() -> None:
    x, pk = _packets(50)
    dec = P2Decoder()
    out = dec.feed(pk[0][9:] + b"".join(pk[1:20]) + b"\xa5\x5a\x02garbage\x00" + b"".join(pk[20:]))
    np.testing.assert_array_equal(out.samples, x[1:49])
    assert dec.stats.lost == 0 and dec.stats.rejected == 1 and dec.stats.garbage_bytes == 8 + 11


def test_invalid_fields_are_rejected() -> None:
    _x, pk = _packets(10)
    bad = bytearray(pk[4])
    bad[6] |= 0x04  # a value above 10 bits
    bad2 = bytearray(pk[6])
    bad2[16] = 0x81  # switch byte upper bits set
    bad3 = bytearray(pk[8])
    bad3[2] = 3  # version
    dec = P2Decoder()
    out = dec.feed(b"".join([*pk[:4], bytes(bad), pk[5], bytes(bad2), pk[7], bytes(bad3), pk[9]]))
    assert out.samples[:, 0].tolist() == [0, 1, 2, 3, 5, 7]
    assert dec.stats.lost == 2 and dec.stats.rejected == 3  # packet 8 counts once 9 is confirmed


def test_corrupted_counter_is_kept_at_its_place_not_taken_as_a_jump() -> None:
    _x, pk = _packets(10)
    bad = bytearray(pk[5])
    bad[3] ^= 0x40
    dec = P2Decoder()
    out = dec.feed(b"".join([*pk[:5], bytes(bad), *pk[6:]]))
    assert out.samples[:, 0].tolist() == list(range(9))  # a whole packet is a sample, whatever its counter
    assert out.index.tolist() == list(range(9))
    assert dec.stats.lost == 0 and dec.stats.rejected == 0 and dec.stats.counter_ok


def test_every_whole_packet_is_a_sample_even_a_lone_one() -> None:
    _x, pk = _packets(3)
    dec = P2Decoder()
    out = dec.feed(pk[0] + b"\x00" * 40 + pk[2] + b"\x00" * 40)
    rest = dec.flush()
    assert out.samples[:, 0].tolist() + rest.samples[:, 0].tolist() == [0, 2]
    assert dec.stats.rejected == 0 and dec.stats.garbage_bytes == 80


def _stuck_then_counting(stuck: int, counting: int, dropped: range) -> tuple[np.ndarray, bytes, list[int]]:
    """A board whose counter stays at 0 for ``stuck`` packets, then counts; ``dropped`` packets never arrive."""
    n = stuck + counting
    x = np.random.default_rng(5).integers(0, 1024, (n, CHANNELS))
    x[:, 0] = np.arange(n) % 1024
    counters = np.concatenate([np.zeros(stuck, dtype=np.int64), 1 + np.arange(counting)])
    raw = encode_packets(0, x, counters=counters)
    kept = [i for i in range(n) if i not in dropped]
    return x, b"".join(raw[i * PACKET : (i + 1) * PACKET] for i in kept), kept


def test_a_stuck_counter_keeps_every_packet_and_counts_no_loss() -> None:
    x, data, kept = _stuck_then_counting(370, 300, range(500, 510))
    for step in (17, 64, len(data)):
        dec = P2Decoder()
        outs = []
        states = []
        for i in range(0, len(data), step):
            outs.append(dec.feed(data[i : i + step]))
            states.append((dec.stats.frames, dec.counter_ok))
        outs.append(dec.flush())
        index = np.concatenate([o.index for o in outs])
        samples = np.concatenate([o.samples for o in outs])
        np.testing.assert_array_equal(index, kept)  # every whole packet, at its true position
        np.testing.assert_array_equal(samples, x[kept])
        assert dec.stats.lost == 10 and dec.stats.rejected == 0
        assert not any(ok for frames, ok in states if 2 < frames < 370)  # not trusted while it stands still
        assert dec.counter_ok


def test_a_counter_that_resets_and_sticks_is_no_loss() -> None:
    n = 60
    x = np.random.default_rng(2).integers(0, 1024, (n, CHANNELS))
    counters = np.r_[np.arange(100, 130), np.zeros(30, dtype=np.int64)]
    dec = P2Decoder()
    out = dec.feed(encode_packets(0, x, counters=counters))
    out_rest = dec.flush()
    assert np.concatenate([out.index, out_rest.index]).tolist() == list(range(n))
    assert dec.stats.lost == 0 and not dec.counter_ok


def test_a_broken_packet_leaves_a_gap_while_the_counter_is_stuck() -> None:
    x = np.random.default_rng(4).integers(0, 1024, (40, CHANNELS))
    raw = encode_packets(0, x, counters=np.zeros(40, dtype=np.int64))
    pk = [raw[i * PACKET : (i + 1) * PACKET] for i in range(40)]
    bad = bytearray(pk[20])
    bad[2] = 7  # wrong version: the packet is rejected, its period stays a gap
    dec = P2Decoder()
    out = dec.feed(b"".join([*pk[:20], bytes(bad), *pk[21:]]))
    rest = dec.flush()
    assert np.concatenate([out.index, rest.index]).tolist() == [*range(20), *range(21, 40)]
    assert dec.stats.rejected == 1 and dec.stats.lost == 1 and not dec.counter_ok


# --- property tests ------------------------------------------------------------------------------
#: Bits P2 lets the decoder check: sync, version, top 6 bits of every high byte, top 4 of the switch byte.
CHECKED_BITS = (
    [(0, b) for b in range(8)]
    + [(1, b) for b in range(8)]
    + [(2, b) for b in range(8)]
    + [(k, b) for k in range(4, 16, 2) for b in range(2, 8)]
    + [(16, b) for b in range(4, 8)]
)


@dataclass
class _Damage:
    kind: str  # "drop", "truncate", "flip", "counter"
    arg: int = 0


@st.composite
def _streams(draw: st.DrawFn) -> tuple[np.ndarray, bytes, set[int], list[int]]:
    """A damaged P2 stream: (values, bytes, numbers of the damaged packets, chunk cuts)."""
    n = draw(st.integers(20, 500))
    x, pk = _packets(n, seed=draw(st.integers(0, 2**16)), counter_start=draw(st.integers(0, 255)))
    damaged: dict[int, _Damage] = {}
    budget = 254  # fewer than 255 packets missing in total keeps the counter unambiguous (255 reads as a repeat)

    def clear(lo: int, hi: int) -> bool:
        """No damage in [lo, hi), and no corrupted counter within two packets of it."""
        near = range(lo - 2, hi + 2)
        return not any(j in damaged for j in range(lo, hi)) and not any(
            damaged.get(j, _Damage("")).kind == "counter" for j in near
        )

    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(3, n - 4))
        kind = draw(st.sampled_from(["drop", "truncate", "flip", "counter"]))
        if kind == "drop":
            run = draw(st.integers(1, min(budget, n - 3 - i)))
            if run == 0 or not clear(i - 1, i + run + 1):
                continue
            for j in range(i, i + run):
                damaged[j] = _Damage("drop")
            budget -= run
        elif budget > 0 and clear(i - 1, i + 2) and (kind != "counter" or clear(i - 2, i + 3)):
            # a corrupted counter is recognised only with two intact packets on each side
            damaged[i] = _Damage(kind, draw(st.integers(0, 1000)))
            budget -= 1
        if budget <= 0:
            break
    parts: list[bytes] = []
    for i in range(n):
        d = damaged.get(i)
        if d is None:
            parts.append(pk[i])
        elif d.kind == "truncate":
            parts.append(pk[i][: 1 + d.arg % (PACKET - 1)])
        elif d.kind == "flip":
            byte, bit = CHECKED_BITS[d.arg % len(CHECKED_BITS)]
            p = bytearray(pk[i])
            p[byte] ^= 1 << bit
            parts.append(bytes(p))
        elif d.kind == "counter":
            p = bytearray(pk[i])
            p[3] ^= 1 << (d.arg % 8)
            parts.append(bytes(p))
        if d is None or d.kind != "truncate":
            # garbage between whole packets; a complete fake packet in it would be indistinguishable
            garbage = draw(st.binary(max_size=40)) if draw(st.integers(0, 9)) == 0 else b""
            if b"\xa5\x5a\x02" not in garbage:
                parts.append(garbage)
    data = b"".join(parts)
    cuts = draw(st.lists(st.integers(0, len(data)), max_size=30))
    # a corrupted counter leaves a whole packet: it is a sample like any other
    return x, data, {i for i, d in damaged.items() if d.kind != "counter"}, cuts


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_streams())
def test_damaged_streams_deliver_only_true_samples_at_true_indices(case: tuple[np.ndarray, bytes, set[int], list[int]]) -> None:
    x, data, damaged, cuts = case
    dec = P2Decoder()
    out = _feed(dec, data, cuts)
    assert out.samples.shape[1] == CHANNELS
    origin = out.samples[:, 0].astype(int)
    # every delivered row is an undamaged packet, unchanged, at its true relative index
    assert not set(origin.tolist()) & damaged
    np.testing.assert_array_equal(out.samples, x[origin])
    np.testing.assert_array_equal(out.index - out.index[0], origin - origin[0])
    assert np.all(np.diff(out.index) > 0)
    # every intact packet from the first delivered on is delivered (the newest may wait for a successor)
    intact = [i for i in range(origin[0], x.shape[0]) if i not in damaged]
    missing = sorted(set(intact[:-1]) - set(origin.tolist()))
    assert origin.tolist() in (intact, intact[:-1]), f"intact packets not delivered: {missing}"
    # lost counts exactly the packets missing between the first and last delivered
    span = origin[-1] - origin[0] + 1
    assert dec.stats.lost == span - len(origin)
    assert dec.stats.frames == len(origin)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=3000), st.lists(st.integers(0, 3000), max_size=20))
def test_pure_garbage_never_raises(data: bytes, cuts: list[int]) -> None:
    dec = P2Decoder()
    out = _feed(dec, data, cuts)
    assert out.samples.shape[1] == CHANNELS
    assert np.all((out.samples >= 0) & (out.samples <= 1023))


def test_encode_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="10-bit"):
        encode_packets(0, np.full((1, 6), 1024))
    with pytest.raises(ValueError, match="6 channels"):
        encode_packets(0, np.zeros((1, 4)))


def test_flush_releases_the_held_packet_and_keeps_the_counter() -> None:
    _x, pk = _packets(20)
    dec = P2Decoder()
    first = dec.feed(b"".join(pk[:10]) + pk[10][:5])
    assert len(first) == 9
    rest = dec.flush()
    assert rest.samples[:, 0].tolist() == [9] and dec.stats.garbage_bytes == 5
    later = dec.feed(b"".join(pk[15:]))  # a new connection: 5 packets were missed
    assert later.index.tolist() == [15, 16, 17, 18] and dec.stats.lost == 5


def test_two_corrupted_counters_around_an_intact_packet_keep_all_three() -> None:
    # both flips hit the same bit, so the corrupted counters agree with each other (found by hypothesis)
    _x, pk = _packets(10, counter_start=0x10)
    bad = [bytearray(pk[4]), bytearray(pk[6])]
    for b in bad:
        b[3] ^= 0x10
    dec = P2Decoder()
    out = dec.feed(b"".join([*pk[:4], bytes(bad[0]), pk[5], bytes(bad[1]), *pk[7:]]))
    assert out.samples[:, 0].tolist() == list(range(9))
    assert out.index.tolist() == list(range(9)) and dec.stats.rejected == 0 and dec.stats.lost == 0


def test_drop_next_to_a_corrupted_counter_never_misplaces() -> None:
    _x, pk = _packets(10)
    bad = bytearray(pk[4])
    bad[3] ^= 0x01  # 4 -> 5
    dec = P2Decoder()
    out = dec.feed(b"".join([*pk[:2], pk[3], bytes(bad), *pk[5:]]))  # packet 2 dropped
    np.testing.assert_array_equal(out.index, out.samples[:, 0])
    assert out.samples[:, 0].tolist() == [0, 1, 3, 4, 5, 6, 7, 8] and dec.stats.lost == 1


def test_corrupted_counter_found_across_feed_calls() -> None:
    _x, pk = _packets(12)
    bad = bytearray(pk[5])
    bad[3] ^= 0x08
    data = b"".join([*pk[:5], bytes(bad), *pk[6:]])
    for cut in range(1, len(data)):
        dec = P2Decoder()
        out = _feed(dec, data, [cut])
        assert out.samples[:, 0].tolist() == list(range(11)) and dec.stats.lost == 0, cut
        np.testing.assert_array_equal(out.index, out.samples[:, 0])


@st.composite
def _stuck_and_counting(draw: st.DrawFn) -> tuple[np.ndarray, bytes, list[int], list[int]]:
    """Stretches whose counter stands still, and counting stretches with drops once the counter is trusted.

    Returns (values, bytes, numbers of the packets sent, chunk cuts).
    """
    counters: list[int] = []
    sent: list[int] = []
    faulted = counting = False
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):  # a counter that stands still
            value = draw(st.integers(0, 255))
            run = draw(st.integers(2, 60))
            sent += list(range(len(counters), len(counters) + run))
            counters += [value] * run
            faulted, counting = True, False
            continue
        # a counter that counts (on from where it was: a jump between two counting stretches is a loss)
        c = (counters[-1] + 1) % 256 if counting else draw(st.integers(0, 255))
        counting = True
        run = draw(st.integers(12, 80))
        trusted_from = 1 + (TRUST_STEPS if faulted else 1)  # packets of the stretch before a drop can count
        drop_at = draw(st.integers(trusted_from, run - 3))
        drop = draw(st.integers(0, 40)) if draw(st.booleans()) else 0
        for k in range(run + drop):
            if not drop_at <= k < drop_at + drop:
                sent.append(len(counters))
            counters.append((c + k) % 256)
    n = len(counters)
    x = np.random.default_rng(draw(st.integers(0, 2**16))).integers(0, 1024, (n, CHANNELS))
    x[:, 0] = np.arange(n) % 1024
    raw = encode_packets(0, x, counters=np.asarray(counters))
    data = b"".join(raw[i * PACKET : (i + 1) * PACKET] for i in sent)
    return x, data, sent, draw(st.lists(st.integers(0, len(data)), max_size=20))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_stuck_and_counting())
def test_stuck_counters_keep_every_packet_and_trusted_ones_count_every_drop(
    case: tuple[np.ndarray, bytes, list[int], list[int]],
) -> None:
    x, data, sent, cuts = case
    dec = P2Decoder()
    out = _feed(dec, data, cuts)
    rest = dec.flush()
    index = np.concatenate([out.index, rest.index])
    samples = np.concatenate([out.samples, rest.samples])
    assert len(index) == len(sent)  # every whole packet is a sample
    np.testing.assert_array_equal(samples, x[sent])
    np.testing.assert_array_equal(index, np.asarray(sent) - sent[0])  # each at its true position
    assert dec.stats.lost == sent[-1] - sent[0] + 1 - len(sent)
