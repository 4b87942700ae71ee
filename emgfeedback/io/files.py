"""Loading recordings from text files: plain columns, CSV with a header, and the sidecar JSON.

Accepted: numbers separated by commas, semicolons, tabs or spaces; leading header
or ``#`` comment lines are skipped; a CSV header names the columns; a first column
named ``time``/``time_s``/``t`` is the time axis, not a data column; trailing empty
or all-separator lines are dropped. A ``NAME.json`` sidecar beside ``NAME.txt``
gives the sample rate, channel names and units.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emgfeedback.errors import RecordingError, SettingsError

_SPLIT = re.compile(r"[,;\t ]+")
_TIME_NAMES = {"time", "time_s", "t", "seconds", "timestamp"}


@dataclass(frozen=True)
class Recording:
    """Samples (n, channels) loaded from a file, with what is known about them."""

    path: Path
    data: np.ndarray
    fs: float | None
    names: tuple[str, ...]
    units: tuple[str, ...]

    @property
    def channels(self) -> int:
        return int(self.data.shape[1])

    def select(self, columns: list[int] | None) -> Recording:
        """Keep some data columns (0-based, as loaded); a bad index is a one-line error."""
        if columns is None:
            return self
        bad = [c for c in columns if not 0 <= c < self.channels]
        if bad:
            raise RecordingError(
                f"{self.path.name}: column {bad[0]} does not exist "
                f"(the file has data columns 0-{self.channels - 1}): fix --columns"
            )
        return Recording(
            self.path,
            self.data[:, columns],
            self.fs,
            tuple(self.names[c] for c in columns),
            tuple(self.units[c] for c in columns),
        )


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _unit_word(text: str) -> str:
    """``ADC counts (12-bit)`` -> ``counts``; ``mV`` -> ``mV``."""
    return "counts" if "count" in text.lower() else text.split(" ", maxsplit=1)[0]


def _sidecar(path: Path) -> dict | None:
    side = path.with_suffix(".json")
    if not side.is_file():
        return None
    try:
        return json.loads(side.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RecordingError(f"{side.name}: sidecar is not valid JSON ({exc}): fix or remove it") from None


def parse_columns(text: str | None) -> list[int] | None:
    """Parse ``0,1,3`` into column indices."""
    if text is None or text == "":
        return None
    try:
        cols = [int(p) for p in text.split(",") if p.strip() != ""]
    except ValueError:
        raise SettingsError(f"columns {text!r} are not understood: write indices like 0,1,3") from None
    if not cols or any(c < 0 for c in cols):
        raise SettingsError(f"columns {text!r} are not understood: write non-negative indices like 0,1,3")
    return cols


def load_recording(path: str | Path) -> Recording:
    """Load a text recording; any problem is a :class:`RecordingError` naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise RecordingError(f"{path}: no such file: check the path") from None
    except IsADirectoryError:
        raise RecordingError(f"{path}: is a directory, not a recording: give a file") from None
    except OSError as exc:
        raise RecordingError(f"{path}: cannot be read ({exc.strerror}): check its permissions") from None
    lines = text.splitlines()
    header: list[str] | None = None
    first = None
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith("#"):
            header = None
            continue
        tokens = [t for t in _SPLIT.split(line) if t]
        if tokens and all(_is_number(t) for t in tokens):
            first = i
            break
        # a column header is the line right before the first row of numbers
        header = [t.strip().strip('"') for t in re.split(r"[,;\t]", line) if t.strip()]
    if first is None:
        raise RecordingError(f"{path.name}: no rows of numbers found: give a text file with one sample per line")
    body = [_SPLIT.sub(" ", ln.strip()) for ln in lines[first:]]
    body = [ln for ln in body if ln and not ln.startswith("#")]
    width = body[0].count(" ") + 1
    try:
        flat = np.array(" ".join(body).split(" "), dtype=np.float64)
    except ValueError:
        bad = next(n for n, ln in enumerate(body) if not all(_is_number(t) for t in ln.split(" ")))
        raise RecordingError(f"{path.name}: line {first + bad + 1} is not a row of numbers: fix or remove it") from None
    widths = {ln.count(" ") + 1 for ln in body}
    if len(widths) != 1:
        raise RecordingError(f"{path.name}: rows have different numbers of values ({sorted(widths)}): every row needs {width}")
    data = flat.reshape(-1, width)
    if not np.all(np.isfinite(data)):
        raise RecordingError(f"{path.name}: holds NaN or infinite values: clean the file first")
    names = tuple(header) if header and len(header) == data.shape[1] else tuple(f"col{i}" for i in range(data.shape[1]))
    fs: float | None = None
    if names and names[0].lower() in _TIME_NAMES and data.shape[1] > 1:
        dt = np.diff(data[:, 0])
        if dt.size and np.all(dt > 0):
            fs = float(1.0 / np.median(dt))
        data, names = data[:, 1:], names[1:]
    units = tuple("units" for _ in names)
    side = _sidecar(path)
    if side:
        fs = float(side.get("sampling_rate_hz", fs or 0)) or fs
        chans = side.get("channels") or []
        if len(chans) == data.shape[1]:
            names = tuple(str(c.get("name", n)) for c, n in zip(chans, names, strict=True))
            units = tuple(_unit_word(str(c.get("units", "units"))) for c in chans)
    return Recording(path, np.ascontiguousarray(data), fs, names, units)
