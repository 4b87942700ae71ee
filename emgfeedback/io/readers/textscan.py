"""The text-table engine every text format shares: encoding, delimiter, header, ragged columns, chunks.

A file is read in blocks of lines (bounded memory whatever its size) with numpy's C parser;
a block it cannot take (ragged rows, text where a number belongs) is parsed line by line,
which also names the exact line of a bad value. Empty fields and ``NaN`` are "no value":
allowed only at the end of a column (a slower channel, a padded device), never in the middle.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from emgfeedback.errors import RecordingError
from emgfeedback.io.readers.base import Channel, Recording, check_block
from emgfeedback.progress import Progress

#: Bytes of text per block: bounds memory (a block's array is ~1/4 of it) and drives the progress bar.
BLOCK_BYTES = 4 << 20
HEAD_BYTES = 256 << 10
COMMENTS = ("#", "%")
_EMPTY = {"", "nan", "na", "n/a", "null", "none"}
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+([eE][-+]?\d+)?\s*$")


@dataclass(frozen=True)
class Head:
    """The start of a file, decoded: what detection and header parsing look at."""

    path: Path
    raw: bytes
    encoding: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def detect_encoding(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 by BOM or by its NUL bytes, else Latin-1 when not UTF-8."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = raw[:4096]
    if sample and sample.count(0) > len(sample) // 4:
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the sample's end
            return "latin-1"
    return "utf-8"


def read_head(path: Path, raw: bytes) -> Head:
    """Decode the first bytes of a file into lines (the last, possibly cut, line dropped if more follows)."""
    encoding = detect_encoding(raw)
    raw_even = raw[:-1] if encoding.startswith("utf-16") and len(raw) % 2 else raw
    text = raw_even.decode(encoding, errors="replace")
    lines = text.splitlines()
    if len(raw) >= HEAD_BYTES and lines:
        lines = lines[:-1]
    return Head(path, raw, encoding, lines)


def split_fields(line: str, delimiter: str | None) -> list[str]:
    """The fields of a line (whitespace-separated when ``delimiter`` is None), stripped and unquoted."""
    parts = line.split() if delimiter is None else line.split(delimiter)
    return [p.strip().strip('"').strip("'").strip() for p in parts]


def is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def guess_delimiter(line: str) -> tuple[str | None, bool]:
    """Delimiter and decimal-comma flag from one data line."""
    for delim in ("\t", ";"):
        if delim in line:
            fields = [f for f in split_fields(line, delim) if f]
            comma = any(_DECIMAL_COMMA.match(f) for f in fields) and not any("." in f and is_number(f) for f in fields)
            return delim, comma
    if "," in line:
        return ",", False
    fields = line.split()
    comma = any(_DECIMAL_COMMA.match(f) for f in fields)
    return None, comma


def to_number(token: str, decimal_comma: bool) -> float | None:
    """A field as a float, ``nan`` for an empty field, None when it is not a number."""
    t = token.strip().strip('"')
    if t.lower() in _EMPTY:
        return float("nan")
    if decimal_comma:
        t = t.replace(",", ".")
    try:
        return float(t)
    except ValueError:
        return None


def is_data_line(line: str) -> bool:
    """A row of numbers: at least one field, and at least half of the non-empty ones, are numbers."""
    s = line.strip()
    if not s or s.startswith(COMMENTS):
        return False
    delim, comma = guess_delimiter(s)
    fields = [f for f in split_fields(s, delim) if f]
    numbers = sum(to_number(f, comma) is not None and f.lower() not in _EMPTY for f in fields)
    return numbers >= 1 and 2 * numbers >= len(fields)


@dataclass(frozen=True)
class Layout:
    """Where the numbers are in a text table."""

    data_line: int  # 0-based line index of the first data row
    delimiter: str | None
    decimal_comma: bool
    columns: tuple[int, ...]  # field positions read, in channel order
    width: int = 0  # fields in a full row (0: not checked); a row with more is refused

    @property
    def strict(self) -> bool:
        """Every field of a row is read: numpy then also refuses a row with too many fields."""
        return self.width > 0 and self.columns == tuple(range(self.width))


def numeric_fields(line: str, delimiter: str | None, decimal_comma: bool) -> tuple[list[int], list[int], int]:
    """Positions of the number fields and of the text fields of a data line, and its width (trailing empties dropped)."""
    fields = split_fields(line.strip(), delimiter)
    while fields and fields[-1] == "":
        fields.pop()
    numeric = [i for i, f in enumerate(fields) if to_number(f, decimal_comma) is not None]
    text = [i for i, f in enumerate(fields) if i not in numeric]
    return numeric, text, len(fields)


class TextTable:
    """Reads the numeric columns of a text table in blocks, validating as it goes."""

    def __init__(self, path: Path, encoding: str, layout: Layout) -> None:
        self.path = path
        self.encoding = encoding
        self.layout = layout
        self.size = path.stat().st_size
        self.cut_last_row = False

    def _open(self) -> io.TextIOWrapper:
        return open(self.path, encoding=self.encoding, errors="replace", newline=None)

    def raw_blocks(self) -> Iterator[tuple[np.ndarray, list[str], int, int]]:
        """(values, lines, first line number (1-based), bytes consumed) per block of lines."""
        lay = self.layout
        with self._open() as f:
            for _ in range(lay.data_line):
                f.readline()
            line_no = lay.data_line + 1
            while True:
                lines = f.readlines(BLOCK_BYTES)
                if not lines:
                    return
                last = not lines[-1].endswith("\n")
                values = self._parse(lines, line_no, last)
                yield values, lines, line_no, sum(map(len, lines))
                line_no += len(lines)

    def _parse(self, lines: list[str], line_no: int, final: bool) -> np.ndarray:
        lay = self.layout
        text = lines
        if lay.decimal_comma:
            text = "".join(lines).replace(",", ".").splitlines()
        cols = lay.columns
        kwargs = {
            "delimiter": lay.delimiter,
            "usecols": None if lay.strict else cols,
            "ndmin": 2,
            "comments": "#",  # one character keeps numpy on its C path; a "%" line falls to the slow path
            "dtype": np.float64,
        }
        try:
            values = np.loadtxt(text, **kwargs)
            if values.shape[1] != len(cols):
                raise ValueError("width")
            return values
        except ValueError:
            pass
        if lay.delimiter is not None:
            d = lay.delimiter
            filled = re.sub(rf"(?<={re.escape(d)})(?={re.escape(d)}|$)|^(?={re.escape(d)})", "nan", "".join(text), flags=re.M)
            try:
                values = np.loadtxt(filled.splitlines(), **kwargs)
                if values.shape[1] == len(cols):
                    return values
            except ValueError:
                pass
        return self._parse_slowly(lines, line_no, final)

    def _parse_slowly(self, lines: list[str], line_no: int, final: bool) -> np.ndarray:
        """Line by line: pads short (ragged) rows with "no value", names the line of anything else."""
        lay = self.layout
        cols = lay.columns
        need = max(cols) + 1
        rows: list[list[float]] = []
        name = self.path.name
        for k, raw in enumerate(lines):
            s = raw.strip()
            if not s or s.startswith(COMMENTS):
                continue
            fields = split_fields(s, lay.delimiter)
            while fields and fields[-1] == "":
                fields.pop()
            if len(fields) < need and final and k == len(lines) - 1 and not raw.endswith("\n"):
                self.cut_last_row = True  # the file ends in the middle of a row
                continue
            if lay.width and len(fields) > lay.width:
                raise RecordingError(
                    f"{name}: line {line_no + k} has {len(fields)} values where the first row has {lay.width}: "
                    "fix or remove that line"
                )
            row: list[float] = []
            for c in cols:
                token = fields[c] if c < len(fields) else ""
                value = to_number(token, lay.decimal_comma)
                if value is None:
                    raise RecordingError(
                        f"{name}: line {line_no + k}: {token[:30]!r} in field {c + 1} is not a number: fix or remove that line"
                    )
                row.append(value)
            rows.append(row)
        return np.array(rows, dtype=np.float64).reshape(-1, len(cols))


def data_line_of(lines: Sequence[str], line_no: int, row: int) -> int:
    """The file line number of data row ``row`` of a block (blank and comment lines do not count)."""
    seen = -1
    for k, raw in enumerate(lines):
        s = raw.strip()
        if s and not s.startswith(COMMENTS):
            seen += 1
            if seen == row:
                return line_no + k
    return line_no + len(lines) - 1


class TextRecording(Recording):
    """A text table: channel ``i`` is the ``i``-th column the layout reads."""

    table: TextTable

    def blocks(self, indices: Sequence[int], samples: int, size: int) -> Iterator[np.ndarray]:
        idx = list(indices)
        done = 0
        pending: list[np.ndarray] = []
        held = 0
        for values, *_ in self.table.raw_blocks():
            take = values[: samples - done, idx]
            done += take.shape[0]
            pending.append(take)
            held += take.shape[0]
            while held >= size:
                joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
                yield joined[:size]
                rest = joined[size:]
                pending, held = ([rest] if rest.shape[0] else []), rest.shape[0]
            if done >= samples:
                break
        if held:
            yield np.concatenate(pending) if len(pending) > 1 else pending[0]


def open_table(  # noqa: PLR0917 - every text reader passes the same six things
    path: Path,
    head: Head,
    layout: Layout,
    channels: Sequence[Channel],
    fmt: str,
    notes: list[str],
    *,
    progress_label: str = "reading",
) -> TextRecording:
    """Scan the whole table once (bounded blocks): each channel's real length, every value checked."""
    table = TextTable(path, head.encoding, layout)
    k = len(channels)
    lengths = np.zeros(k, dtype=np.int64)
    ended = np.zeros(k, dtype=bool)
    ended_at = np.zeros(k, dtype=np.int64)
    rows = 0
    name = path.name
    with Progress(table.size, f"reading {name}", enabled=None if table.size > 64 << 20 else False) as bar:
        for values, lines, line_no, consumed in table.raw_blocks():
            check_block(values, channels, lambda r, ln=lines, n=line_no: f"line {data_line_of(ln, n, r)}", name)
            present = ~np.isnan(values)
            for c in range(k):
                col = present[:, c]
                if ended[c]:
                    if col.any():
                        r = int(np.argmax(col))
                        raise _gap(name, channels[c], data_line_of(lines, line_no, r), int(ended_at[c]))
                    continue
                if col.all():
                    lengths[c] += values.shape[0]
                    continue
                first = int(np.argmin(col))
                after = col[first:]
                if after.any():
                    r = first + int(np.argmax(after))
                    raise _gap(name, channels[c], data_line_of(lines, line_no, r), data_line_of(lines, line_no, first))
                lengths[c] += first
                ended[c] = True
                ended_at[c] = data_line_of(lines, line_no, first)
            rows += values.shape[0]
            bar.advance(consumed)
    if rows == 0 or not lengths.any():
        raise RecordingError(f"{name}: a header but no rows of numbers found: give a file with one sample per line")
    chans = tuple(replace(ch, samples=int(n)) for ch, n in zip(channels, lengths, strict=True))
    empty = [c.name for c in chans if c.samples == 0]
    if empty:
        notes.append(f"no values at all in {', '.join(empty)}")
    if table.cut_last_row:
        notes.append("the file ends in the middle of a row: that last, incomplete row is ignored")
    rec = TextRecording(path, fmt, chans, notes)
    rec.table = table
    return rec


def _gap(name: str, ch: Channel, line: int, empty_line: int) -> RecordingError:
    return RecordingError(
        f"{name}: line {line}: {ch.name} has a value after its column was empty on line {empty_line} "
        "(a gap in the middle of a channel): fill or cut the file there"
    )
