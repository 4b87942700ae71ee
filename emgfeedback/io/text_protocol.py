"""Decoder for text lines of numbers, as any ``Serial.println(analogRead(A0))`` sketch prints.

A line holds 1-8 numbers separated by commas, semicolons, spaces or tabs and ends
with CR, LF or CRLF; Arduino Serial Plotter labels (``emg1:512,emg2:498``) are
allowed. The channel count locks once :data:`LOCK_LINES` consecutive lines agree;
after that, lines with another count, non-numbers or overlong lines are rejected.
Text carries no sequence counter, so ``lost`` stays 0: only ``rejected`` counts.
"""

from __future__ import annotations

import re

import numpy as np

from emgfeedback.io.protocol import DecoderStats, Frames

MAX_CHANNELS = 8
#: A longer line cannot be 8 numbers from an Arduino: it is rejected without parsing.
MAX_LINE_BYTES = 256
#: Consecutive lines with the same number count needed to lock the channel count.
LOCK_LINES = 3

#: CR ends a line like LF; commas, semicolons and tabs separate like spaces.
_NORMALIZE = bytes.maketrans(b"\r,;\t", b"\n   ")
#: Bytes a line of numbers may hold once normalized (labels already removed).
_ALLOWED = np.zeros(256, dtype=bool)
_ALLOWED[np.frombuffer(b"0123456789+-.eE \n", dtype=np.uint8)] = True
#: Serial Plotter labels: ``name:`` in front of a value.
_LABEL = re.compile(rb"[A-Za-z_][A-Za-z0-9_.\-]*:")


class TextDecoder:
    """Text lines of numbers -> frames; ``fs`` is not in the stream, so the caller supplies it."""

    name = "text"

    def __init__(self, channels: int | None = None, *, partial_first_line: bool = False) -> None:
        """``partial_first_line``: the stream may start mid-line (a port just opened): drop its first line."""
        if channels is not None and not 1 <= channels <= MAX_CHANNELS:
            raise ValueError(f"text streams carry 1 to {MAX_CHANNELS} numbers a line, not {channels}")
        self.stats = DecoderStats()
        self._channels = channels
        self._tail = b""
        self._skipping = partial_first_line  # drop bytes up to the next line end (overlong or partial line)
        self._candidates: list[list[bytes]] = []  # lines seen while the count is not locked yet
        self._next_index = 0

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
        self._tail = self._bound_tail(buf[end + 1 :])
        if b":" in block:
            block = _LABEL.sub(b"", block)
        return self._parse(block)

    # --- internals -----------------------------------------------------------------------
    def _empty(self) -> Frames:
        return Frames.empty(self._channels or 1)

    def _bound_tail(self, tail: bytes) -> bytes:
        """Keep an unfinished line unless it is already too long to be valid."""
        if len(tail) > MAX_LINE_BYTES:
            if not self._skipping:
                self.stats.rejected += 1
            self.stats.garbage_bytes += len(tail)
            self._skipping = True
            return b""
        return tail

    def _reject(self, line: bytes) -> None:
        self.stats.rejected += 1
        self.stats.garbage_bytes += len(line) + 1

    def _parse(self, block: bytes) -> Frames:
        codes = np.frombuffer(block, dtype=np.uint8)
        bad_lines: set[int] = set()
        if codes.size and not _ALLOWED[codes].all():
            line_of = np.cumsum(codes == 10)  # line number of every byte
            bad_lines = set(np.unique(line_of[~_ALLOWED[codes]]).tolist())
        rows: list[list[bytes]] = []
        for i, line in enumerate(block.split(b"\n")):
            tokens = line.split()
            if not tokens:
                continue  # blank line (the LF of a CRLF): not data, not an error
            if i in bad_lines or len(line) > MAX_LINE_BYTES or len(tokens) > MAX_CHANNELS:
                self._reject(line)
                continue
            if self._channels is None:
                self._lock_on(tokens)
                if self._channels is not None:
                    rows.extend(self._candidates)
                    self._candidates = []
            elif len(tokens) == self._channels:
                rows.append(tokens)
            else:
                self._reject(line)
        return self._to_frames(rows)

    def _lock_on(self, tokens: list[bytes]) -> None:
        """Collect lines until LOCK_LINES in a row have the same count, rejecting the ones that do not fit."""
        if self._candidates and len(self._candidates[-1]) != len(tokens):
            for row in self._candidates:
                self._reject(b" ".join(row))
            self._candidates = []
        self._candidates.append(tokens)
        if len(self._candidates) >= LOCK_LINES:
            self._channels = len(tokens)

    def _to_frames(self, rows: list[list[bytes]]) -> Frames:
        if not rows:
            return self._empty()
        ch = len(rows[0])
        flat = [tok for row in rows for tok in row]
        try:
            values = np.array(flat).astype(np.float64).reshape(len(rows), ch)
            ok = np.isfinite(values).all(axis=1)
        except ValueError:  # a malformed number such as "1-2" or "." somewhere: sort it out line by line
            values, ok = self._parse_rows(rows, ch)
        for row in (r for r, good in zip(rows, ok, strict=True) if not good):
            self._reject(b" ".join(row))
        values = values[ok]
        n = values.shape[0]
        index = np.arange(self._next_index, self._next_index + n, dtype=np.int64)
        self._next_index += n
        self.stats.frames += n
        return Frames(values, index)

    @staticmethod
    def _parse_rows(rows: list[list[bytes]], ch: int) -> tuple[np.ndarray, np.ndarray]:
        """Slow path for a batch with a malformed number: parse each row on its own."""
        values = np.zeros((len(rows), ch))
        ok = np.zeros(len(rows), dtype=bool)
        for i, row in enumerate(rows):
            try:
                values[i] = [float(tok) for tok in row]
            except ValueError:
                continue
            ok[i] = bool(np.isfinite(values[i]).all())
        return values, ok
