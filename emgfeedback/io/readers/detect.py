"""Which reader a file needs, told from its content (never its extension); ``--format`` overrides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from emgfeedback.errors import RecordingError
from emgfeedback.io.readers import arduino, datalog, delsys, edf, openbci, opensignals, plain, xdf
from emgfeedback.io.readers.base import Recording
from emgfeedback.io.readers.textscan import HEAD_BYTES, Head, read_head


@dataclass(frozen=True)
class Format:
    name: str
    description: str
    sniff: Callable[[Head], int]
    open: Callable[..., Recording]


FORMATS: tuple[Format, ...] = (
    Format(edf.NAME, "EDF, EDF+, BDF, BDF+ (pyedflib)", edf.sniff, edf.open),
    Format(xdf.NAME, "XDF from LabRecorder (pyxdf)", xdf.sniff, xdf.open),
    Format(openbci.NAME, "OpenBCI GUI text (old GUI, v5, v6)", openbci.sniff, openbci.open),
    Format(openbci.BRAINFLOW, "BrainFlow CSV (board rows, no header)", openbci.sniff_brainflow, openbci.open_brainflow),
    Format(opensignals.NAME, "PLUX OpenSignals text", opensignals.sniff, opensignals.open),
    Format(delsys.NAME, "Delsys Trigno / EMGworks CSV", delsys.sniff, delsys.open),
    Format(datalog.NAME, "Biometrics DataLOG text export", datalog.sniff, datalog.open),
    Format(arduino.NAME, "Arduino serial log (one value per line)", arduino.sniff, arduino.open),
    Format(plain.NAME, "plain text / CSV columns", plain.sniff, plain.open),
)
NAMES = tuple(f.name for f in FORMATS)


def head_of(path: Path) -> Head:
    """The first bytes of ``path``, decoded; a missing file, a directory or an empty file is one line."""
    try:
        with path.open("rb") as f:
            raw = f.read(HEAD_BYTES)
    except FileNotFoundError:
        raise RecordingError(f"{path}: no such file: check the path") from None
    except IsADirectoryError:
        raise RecordingError(f"{path}: is a directory, not a recording: give a file") from None
    except PermissionError:
        raise RecordingError(f"{path}: cannot be read (permission denied): check its permissions") from None
    except OSError as exc:
        raise RecordingError(f"{path}: cannot be read ({exc.strerror}): check the path") from None
    if not raw:
        raise RecordingError(f"{path.name}: is empty: give a recording with samples in it")
    return read_head(path, raw)


def by_name(name: str) -> Format:
    key = name.strip().lower()
    aliases = {
        "csv": "text",
        "txt": "text",
        "bdf": "edf",
        "edf+": "edf",
        "bdf+": "edf",
        "plux": "opensignals",
        "trigno": "delsys",
    }
    key = aliases.get(key, key)
    for f in FORMATS:
        if f.name == key:
            return f
    raise RecordingError(f"unknown format {name!r}: use one of {', '.join(NAMES)}")


def detect(head: Head) -> Format:
    scores = [(f.sniff(head), -k, f) for k, f in enumerate(FORMATS)]
    best = max(scores, key=lambda s: s[:2])
    if best[0] <= 0:
        raise RecordingError(
            f"{head.path.name}: no rows of numbers found and not a known format ({', '.join(NAMES)}): "
            "give a text file with one sample per line, or --format NAME"
        )
    return best[2]
