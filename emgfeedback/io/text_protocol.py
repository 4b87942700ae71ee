"""Decoder for text lines of numbers, as any ``Serial.println(analogRead(A0))`` sketch prints.

A line holds 1-8 numbers separated by commas, semicolons, spaces or tabs and ends
with CR, LF or CRLF; Arduino Serial Plotter labels (``emg1:512,emg2:498``) are
allowed. The channel count locks once :data:`LOCK_LINES` consecutive lines agree;
after that, lines with another count, non-numbers, overlong lines and implausible
values (not finite, outside the declared value range, or beyond :data:`MAX_ABS` when
none is declared) are rejected. A line is a sample period: a rejected line keeps its
index as a one-sample gap (counted in ``lost`` and ``rejected``), so later samples
stay at their true positions. Blank lines (the LF of a CRLF) are not lines.
"""

from __future__ import annotations

import contextlib
import re

import numpy as np

from emgfeedback.io.protocol import Decoder, DecoderStats, Frames

MAX_CHANNELS = 8
#: A longer line cannot be 8 numbers from an Arduino: it is rejected without parsing.
MAX_LINE_BYTES = 256
#: Consecutive lines with the same number count needed to lock the channel count.
LOCK_LINES = 3
#: Largest magnitude a value may have when the stream declares no range (an Arduino prints 0-1023).
MAX_ABS = 1e6

#: CR ends a line like LF; commas, semicolons and tabs separate like spaces.
_NORMALIZE = bytes.maketrans(b"\r,;\t", b"\n   ")
#: Bytes a line of numbers may hold once normalized (labels already removed).
_ALLOWED = np.zeros(256, dtype=bool)
_ALLOWED[np.frombuffer(b"0123456789+-.eE \n", dtype=np.uint8)] = True
#: Serial Plotter labels: ``name:`` in front of a value.
_LABEL = re.compile(rb"[A-Za-z_][A-Za-z0-9_.\-]*:")


class TextDecoder(Decoder):
    """Text lines of numbers -> frames; ``fs`` is not in the stream, so the caller supplies it."""

    name = "text"

    def __init__(
        self,
        channels: int | None = None,
        *,
        partial_first_line: bool = False,
        value_range: tuple[float, float] | None = None,
    ) -> None:
        """``partial_first_line``: the stream may start mid-line (a port just opened): drop its first line.

        ``value_range``: the (lowest, highest) value the device can print (e.g. its ADC range);
        without it, values beyond +-MAX_ABS are rejected.
        """
        if channels is not None and not 1 <= channels <= MAX_CHANNELS:
            raise ValueError(f"text streams carry 1 to {MAX_CHANNELS} numbers a line, not {channels}")
        self.stats = DecoderStats()
        self._channels = channels
        self._low, self._high = value_range if value_range is not None else (-MAX_ABS, MAX_ABS)
        self._tail = b""
        self._skipping = partial_first_line  # drop bytes up to the next line end (overlong or partial line)
        self._candidates: list[tuple[int, list[bytes]]] = []  # (line number, tokens) while the count is not locked
        self._line = 0  # number of the next line: every line takes a sample period, good or not
        self._last_index: int | None = None  # line number of the last delivered sample

    @property
    def channels(self) -> int | None:
        return self._channels

    def feed(self, data: bytes) -> Frames:
        """Consume ``data``; return the frames of every complete, valid line."""
        buf = self._tail + bytes(data)
        end = max(buf.rfind(b"\n"), buf.rfind(b"\r"))
        if end < 0:
            self._tail = self._bound_tail(buf)
            return self._empty()
        block = buf[:end].translate(_NORMALIZE)
        if self._skipping:  # the rest of an overlong line, already counted as rejected
            cut = block.find(b"\n")
            self.stats.garbage_bytes += len(block) if cut < 0 else cut
            block = b"" if cut < 0 else block[cut + 1 :]
            self._skipping = False
        if b":" in block:
            block = _LABEL.sub(b"", block)
        frames = self._parse(block)
        self._tail = self._bound_tail(buf[end + 1 :])  # after the block: its lines come first
        return frames

    def flush(self) -> Frames:
        """End of a stream (or of a connection): an unfinished line is dropped as garbage."""
        self.stats.garbage_bytes += len(self._tail)
        self._tail = b""
        return self._empty()

    # --- internals -----------------------------------------------------------------------
    def _empty(self) -> Frames:
        return Frames.empty(self._channels or 1)

    def _bound_tail(self, tail: bytes) -> bytes:
        """Keep an unfinished line unless it is already too long to be valid."""
        if len(tail) > MAX_LINE_BYTES:
            if not self._skipping:
                self.stats.rejected += 1
                self._line += 1
            self.stats.garbage_bytes += len(tail)
            self._skipping = True
            return b""
        return tail

    def _reject(self, line: bytes) -> None:
        """Count a rejected line (its sample period was taken when it was numbered)."""
        self.stats.rejected += 1
        self.stats.garbage_bytes += len(line) + 1

    def _parse(self, block: bytes) -> Frames:
        codes = np.frombuffer(block, dtype=np.uint8)
        bad_lines: set[int] = set()
        if codes.size and not _ALLOWED[codes].all():
            line_of = np.cumsum(codes == 10)  # line number of every byte
            bad_lines = set(np.unique(line_of[~_ALLOWED[codes]]).tolist())
        rows: list[list[bytes]] = []
        numbers: list[int] = []
        number = self._line - 1  # every non-blank line takes the next number, good or not
        for i, line in enumerate(block.split(b"\n")):
            tokens = line.split()
            if not tokens:
                continue  # blank line (the LF of a CRLF): not data, not an error
            number += 1
            if i in bad_lines or len(line) > MAX_LINE_BYTES or len(tokens) > MAX_CHANNELS:
                self._reject(line)
                continue
            if self._channels is None:
                self._lock_on(number, tokens)
                if self._channels is not None:
                    numbers.extend(n for n, _ in self._candidates)
                    rows.extend(t for _, t in self._candidates)
                    self._candidates = []
            elif len(tokens) == self._channels:
                rows.append(tokens)
                numbers.append(number)
            else:
                self._reject(line)
        self._line = number + 1
        return self._to_frames(rows, numbers)

    def _lock_on(self, number: int, tokens: list[bytes]) -> None:
        """Collect lines until LOCK_LINES in a row have the same count, rejecting the ones that do not fit."""
        if self._candidates and len(self._candidates[-1][1]) != len(tokens):
            for _, row in self._candidates:
                self._reject(b" ".join(row))
            self._candidates = []
        self._candidates.append((number, tokens))
        if len(self._candidates) >= LOCK_LINES:
            self._channels = len(tokens)

    def _to_frames(self, rows: list[list[bytes]], numbers: list[int]) -> Frames:
        if not rows:
            return self._empty()
        ch = len(rows[0])
        flat = [tok for row in rows for tok in row]
        try:
            values = np.array(flat).astype(np.float64).reshape(len(rows), ch)
        except ValueError:  # a malformed number such as "1-2" or "." somewhere: sort it out line by line
            values = self._parse_rows(rows, ch)
        index = np.asarray(numbers, dtype=np.int64)
        if not (values.min() >= self._low and values.max() <= self._high):  # NaN fails too; usually all is fine
            with np.errstate(invalid="ignore"):
                ok = ((values >= self._low) & (values <= self._high)).all(axis=1)
            for row in (r for r, good in zip(rows, ok, strict=True) if not good):
                self._reject(b" ".join(row))
            values, index = values[ok], index[ok]
        n = values.shape[0]
        if n:
            prev = self._last_index if self._last_index is not None else int(index[0]) - 1
            self.stats.lost += int(index[-1] - prev) - n  # rejected lines between delivered ones are gaps
            self._last_index = int(index[-1])
        self.stats.frames += n
        return Frames(values, index)

    @staticmethod
    def _parse_rows(rows: list[list[bytes]], ch: int) -> np.ndarray:
        """Slow path for a batch with a malformed number: parse each row on its own (NaN for a bad row)."""
        values = np.full((len(rows), ch), np.nan)
        for i, row in enumerate(rows):
            with contextlib.suppress(ValueError):
                values[i] = [float(tok) for tok in row]
        return values
