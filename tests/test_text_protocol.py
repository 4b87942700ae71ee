"""The text-line decoder: what Arduino sketches print, any line ending, any chunking."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emgfeedback.io.protocol import Frames
from emgfeedback.io.text_protocol import LOCK_LINES, MAX_LINE_BYTES, TextDecoder


def _feed(decoder: TextDecoder, data: bytes, cuts: list[int]) -> Frames:
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(data)), len(data)]
    outs = [decoder.feed(data[a:b]) for a, b in itertools.pairwise(bounds)]
    ch = decoder.channels or 1
    samples = [o.samples for o in outs if len(o)]
    return Frames(
        np.concatenate(samples) if samples else np.empty((0, ch)),
        np.concatenate([o.index for o in outs]),
    )


def test_println_analogread() -> None:
    dec = TextDecoder()
    out = dec.feed(b"".join(b"%d\r\n" % v for v in range(500, 520)))
    assert dec.channels == 1
    np.testing.assert_array_equal(out.samples[:, 0], np.arange(500, 520))
    np.testing.assert_array_equal(out.index, np.arange(20))
    assert (dec.stats.frames, dec.stats.lost, dec.stats.rejected) == (20, 0, 0)


@pytest.mark.parametrize("sep", [b",", b", ", b" ", b"\t", b";", b"  \t "])
@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_separators_and_line_endings(sep: bytes, eol: bytes) -> None:
    dec = TextDecoder()
    out = dec.feed(b"".join(sep.join(b"%d" % (v + c) for c in range(4)) + eol for v in range(10)))
    assert dec.channels == 4
    assert out.samples.shape == (10, 4)
    np.testing.assert_array_equal(out.samples[:, 2], np.arange(10) + 2)


def test_serial_plotter_labels_and_decimals() -> None:
    dec = TextDecoder()
    out = dec.feed(b"emg1:512,emg2:-3.25\nemg1:513,emg2:1e2\nemg1:514,emg2:+7\n")
    assert out.samples.tolist() == [[512, -3.25], [513, 100], [514, 7]]


def test_locks_on_first_good_lines_and_rejects_misfits() -> None:
    dec = TextDecoder()
    # mid-line start, a header, then 2-number lines; a 3-number line, words, nan and an overlong line later
    data = b"2\nraw,env\n" + b"1,2\n3,4\n5,6\n" + b"7,8,9\n" + b"a,b\n" + b"nan,1\n" + b"9" * 300 + b"\n" + b"1-2,5\n10,11\n"
    out = dec.feed(data)
    assert dec.channels == 2
    assert out.samples.tolist() == [[1, 2], [3, 4], [5, 6], [10, 11]]
    # every line is a sample period: the 5 rejected lines between 5,6 and 10,11 stay a gap
    assert dec.stats.rejected == 7 and dec.stats.lost == 5
    np.testing.assert_array_equal(out.index, [2, 3, 4, 10])


@pytest.mark.parametrize("value", [b"1e308", b"99999999", b"-1e7", b"inf", b"-nan", b"1e999"])
def test_implausible_values_are_rejected_and_leave_a_gap(value: bytes) -> None:
    dec = TextDecoder()
    out = dec.feed(b"500,1\n501,2\n502,3\n" + value + b",4\n504,5\n")
    assert out.samples.tolist() == [[500, 1], [501, 2], [502, 3], [504, 5]]
    assert out.index.tolist() == [0, 1, 2, 4] and dec.stats.rejected == 1 and dec.stats.lost == 1


def test_a_declared_range_bounds_the_values() -> None:
    dec = TextDecoder(value_range=(0, 1023))
    out = dec.feed(b"5\n6\n7\n1024\n-1\n8\n")
    assert out.samples[:, 0].tolist() == [5, 6, 7, 8] and out.index.tolist() == [0, 1, 2, 5]
    assert dec.stats.rejected == 2


def test_overlong_line_across_chunks_is_rejected_once() -> None:
    dec = TextDecoder()
    dec.feed(b"1\n2\n3\n")
    for _ in range(10):
        assert len(dec.feed(b"7" * 100)) == 0
    out = dec.feed(b"77\n4\n")
    assert out.samples[:, 0].tolist() == [4.0] and out.index.tolist() == [4]  # the long line took index 3
    assert dec.stats.rejected == 1


def test_fixed_channel_count() -> None:
    dec = TextDecoder(channels=2)
    out = dec.feed(b"1\n1,2\n")
    assert out.samples.tolist() == [[1, 2]] and out.index.tolist() == [1] and dec.stats.rejected == 1
    with pytest.raises(ValueError, match="1 to 8"):
        TextDecoder(channels=9)


# --- property tests ------------------------------------------------------------------------------
_number = st.one_of(
    st.integers(-100000, 100000).map(lambda v: b"%d" % v),
    st.tuples(st.floats(-1e5, 1e5), st.integers(0, 6)).map(lambda t: b"%.*f" % (t[1], t[0])),
    st.floats(-1e5, 1e5).map(lambda v: b"%.3e" % v),
)
_sep = st.sampled_from([b",", b", ", b" ", b"\t", b";", b" , "])
_eol = st.sampled_from([b"\n", b"\r", b"\r\n", b"\n\n"])


@st.composite
def _good_line(draw: st.DrawFn, k: int) -> tuple[bytes, list[float]]:
    nums = draw(st.lists(_number, min_size=k, max_size=k))
    sep = draw(_sep)
    line = sep.join(nums)
    if draw(st.booleans()) and draw(st.booleans()):
        line = sep.join(b"ch%d:%s" % (i, v) for i, v in enumerate(nums))
    return line, [float(v) for v in nums]


@st.composite
def _bad_line(draw: st.DrawFn, k: int) -> bytes:
    kind = draw(st.sampled_from(["count", "word", "malformed", "overlong", "huge"]))
    if kind == "huge":
        nums = draw(st.lists(_number, min_size=k, max_size=k))
        nums[draw(st.integers(0, k - 1))] = draw(st.sampled_from([b"1e308", b"99999999", b"-2e6", b"1e400", b"-inf"]))
        return b",".join(nums)
    if kind == "count":
        n = draw(st.integers(1, 8).filter(lambda n: n != k))
        return b",".join(draw(st.lists(_number, min_size=n, max_size=n)))
    if kind == "word":
        nums = draw(st.lists(_number, min_size=k, max_size=k))
        nums[draw(st.integers(0, k - 1))] = draw(st.sampled_from([b"nan", b"inf", b"0x1F", b"hello", b"1_000", b"12#"]))
        return b",".join(nums)
    if kind == "malformed":
        nums = draw(st.lists(_number, min_size=k, max_size=k))
        nums[draw(st.integers(0, k - 1))] = draw(st.sampled_from([b"-", b".", b"1-2", b"e5", b"1..2", b"--3"]))
        return b",".join(nums)
    return b"1" * draw(st.integers(MAX_LINE_BYTES + 1, 3 * MAX_LINE_BYTES))


@st.composite
def _text_streams(draw: st.DrawFn) -> tuple[int, bytes, list[list[float]], list[int], list[int]]:
    """(channels, bytes, the good lines' values, the good lines' positions, chunk cuts)."""
    k = draw(st.integers(1, 8))
    lines: list[bytes] = []
    expected: list[list[float]] = []
    positions: list[int] = []
    for i in range(draw(st.integers(LOCK_LINES, 60))):
        if i >= LOCK_LINES and draw(st.integers(0, 4)) == 0:
            lines.append(draw(_bad_line(k)))
        else:
            line, values = draw(_good_line(k))
            lines.append(line)
            expected.append(values)
            positions.append(i)
    data = b"".join(line + draw(_eol) for line in lines)
    cuts = draw(st.lists(st.integers(0, len(data)), max_size=25))
    return k, data, expected, [*positions, len(lines)], cuts


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_text_streams())
def test_good_lines_delivered_at_their_line_bad_lines_rejected(
    case: tuple[int, bytes, list[list[float]], list[int], list[int]],
) -> None:
    k, data, expected, positions, cuts = case
    *positions, lines = positions
    dec = TextDecoder()
    out = _feed(dec, data, cuts)
    assert dec.channels == k
    np.testing.assert_array_equal(out.samples, np.asarray(expected).reshape(-1, k))
    np.testing.assert_array_equal(out.index, positions)  # a rejected line is a one-sample gap
    assert dec.stats.rejected == lines - len(positions) and dec.stats.frames == len(expected)
    assert dec.stats.lost == positions[-1] + 1 - len(positions)  # the gaps between delivered samples


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000), st.lists(st.integers(0, 2000), max_size=20))
def test_garbage_never_raises_and_rows_stay_rectangular(data: bytes, cuts: list[int]) -> None:
    dec = TextDecoder()
    out = _feed(dec, data, cuts)
    if len(out):
        assert out.samples.shape[1] == dec.channels and np.isfinite(out.samples).all()
        assert (np.abs(out.samples) <= 1e6).all() and (np.diff(out.index) > 0).all()
        assert dec.stats.lost == out.index[-1] - out.index[0] + 1 - len(out)


def test_partial_first_line_is_dropped_when_asked() -> None:
    dec = TextDecoder(partial_first_line=True)
    out = dec.feed(b"2,498\n513,499\n514,500\n515,501\n")
    assert out.samples[:, 0].tolist() == [513, 514, 515] and dec.stats.rejected == 0
