"""Choosing channels of a recording for a command: by name or index, one rate, a common span.

Channels of different rates are never mixed; a span cut to where every chosen channel has data,
a ``--fs`` that contradicts the file and an EMG channel that is already an envelope are each
said in one line (``Selection.messages``), which commands print to stderr.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from emgfeedback.errors import RecordingError, SettingsError
from emgfeedback.io.readers.base import Channel, Kind, Recording, check_block

#: Rows per block when a command reads a selection: bounds memory whatever the file's size.
BLOCK = 65_536


def parse_columns(text: str | None) -> list[int | str] | None:
    """``2,3`` -> indices, ``RF, VM`` -> names (trimmed; matched case-insensitively later)."""
    if text is None or text.strip() == "":
        return None
    out: list[int | str] = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        if token.lstrip("+-").isdigit():
            value = int(token)
            if value < 0:
                raise SettingsError(f"columns {text!r} are not understood: write indices like 0,1,3 or names like RF,VM")
            out.append(value)
        else:
            out.append(token)
    if not out:
        raise SettingsError(f"columns {text!r} are not understood: write indices like 0,1,3 or names like RF,VM")
    return out


def _fmt_rate(fs: float | None) -> str:
    return "unknown rate" if fs is None else f"{fs:.6g} Hz"


@dataclass(frozen=True)
class Selection:
    """Some channels of a recording, at one rate, over the span where all of them have data."""

    recording: Recording
    channels: tuple[Channel, ...]
    fs: float | None
    samples: int
    messages: tuple[str, ...]

    @property
    def indices(self) -> tuple[int, ...]:
        return tuple(c.index for c in self.channels)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.channels)

    @property
    def units(self) -> str:
        """The channels' common units, or ``mixed``."""
        units = {c.units or "units" for c in self.channels}
        return units.pop() if len(units) == 1 else "mixed"

    def blocks(self, size: int = BLOCK) -> Iterator[np.ndarray]:
        """The selected values in blocks of at most ``size`` rows; every value checked before it is handed on."""
        done = 0
        name = self.recording.path.name
        for block in self.recording.blocks(self.indices, self.samples, size):
            check_block(block, self.channels, lambda r, d=done: f"sample {d + r}", name)
            done += block.shape[0]
            yield block

    def read(self) -> np.ndarray:
        """All selected values at once (for what needs the whole span, like calibration)."""
        parts = list(self.blocks())
        return np.concatenate(parts) if parts else np.empty((0, len(self.channels)))


def _resolve(rec: Recording, columns: Sequence[int | str]) -> list[Channel]:
    name = rec.path.name
    chans = rec.channels
    picked: list[Channel] = []
    for col in columns:
        if isinstance(col, int):
            if not 0 <= col < len(chans):
                raise RecordingError(
                    f"{name}: column {col} does not exist (the file has channels 0-{len(chans) - 1}; "
                    f"see `emgfeedback inspect {name}`): fix --columns"
                )
            ch = chans[col]
        else:
            want = col.strip().casefold()
            hits = [c for c in chans if c.name.strip().casefold() == want]
            if not hits:
                known = ", ".join(c.name for c in chans)
                raise RecordingError(f"{name}: no channel named {col!r}: the channels are {known}")
            if len(hits) > 1:
                raise RecordingError(
                    f"{name}: {col!r} names channels {', '.join(str(c.index) for c in hits)}: give the index instead"
                )
            ch = hits[0]
        if ch in picked:
            raise RecordingError(f"{name}: channel {ch.name} is chosen twice: give each channel once in --columns")
        picked.append(ch)
    return picked


def select(rec: Recording, columns: Sequence[int | str] | None = None, *, fs: float | None = None) -> Selection:
    """The channels a command uses: those asked for, else every EMG channel; refused if their rates differ."""
    name = rec.path.name
    messages: list[str] = []
    if columns:
        picked = _resolve(rec, columns)
    else:
        picked = [c for c in rec.channels if c.kind is Kind.EMG and c.samples > 0]
        if not picked:
            kinds = ", ".join(f"{c.name} ({c.kind.value})" for c in rec.channels[:8])
            raise RecordingError(
                f"{name}: no channel looks like EMG ({kinds}{', ...' if len(rec.channels) > 8 else ''}): "
                "choose channels with --columns (see `emgfeedback inspect FILE`)"
            )
    rates = {c.fs for c in picked}
    if len(rates) > 1:
        shown = ", ".join(f"{c.name} {_fmt_rate(c.fs)}" for c in picked)
        raise RecordingError(
            f"{name}: the channels have different rates ({shown}) and are never mixed: choose channels of one rate with --columns"
        )
    empty = [c.name for c in picked if c.samples == 0]
    if empty:
        raise RecordingError(f"{name}: {empty[0]} holds no values: choose another channel with --columns")
    file_fs = picked[0].fs
    if fs is not None and file_fs is not None and abs(fs - file_fs) > 0.005 * file_fs:
        messages.append(f"warning: --fs {fs:g} Hz contradicts the file's {file_fs:.6g} Hz: using {fs:g} Hz")
    rate = fs if fs is not None else file_fs
    samples = min(c.samples for c in picked)
    longer = [c for c in picked if c.samples > samples]
    if longer:
        span = f" ({samples / rate:.3f} s)" if rate else ""
        cut = ", ".join(f"{c.name} {c.samples - samples}" for c in longer)
        messages.append(f"{name}: using the first {samples} samples{span}, where all chosen channels have data: cut {cut}")
    for c in picked:
        if c.envelope:
            messages.append(
                f"warning: {c.name} is already an envelope (prefilter {c.prefilter!r}), not raw EMG: "
                "its envelope and %MVC are not those of raw EMG"
            )
        elif c.kind is not Kind.EMG:
            messages.append(f"note: {c.name} is a {c.kind.value} channel, not EMG")
    return Selection(rec, tuple(picked), rate, samples, tuple(messages))
