"""MVC test protocols: TOML data files parsed with tomllib and validated into frozen dataclasses.

One file describes one test (which muscle kind, position and resistance in plain words,
timings). The shipped ones are the project's top-level ``calibration/*.toml`` (user-editable
data), which the wheel carries as ``emgfeedback/calibration/protocols/`` (setup.py); users add or
override them with ``--protocol FILE`` or in ``<data dir>/protocols/`` (same ``muscle``
replaces the shipped test for that muscle kind).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from emgfeedback import paths
from emgfeedback.errors import ProtocolError

SCHEMA = 1
#: Allowed ranges (inclusive) of the timing fields, in seconds (trials: a count).
TIMING_LIMITS: dict[str, tuple[float, float]] = {
    "rest_baseline_s": (2.0, 60.0),
    "trials": (1, 10),
    "contract_s": (2.0, 30.0),
    "rest_between_s": (1.0, 600.0),
    "countdown_s": (0.0, 10.0),
}
TIMING_DEFAULTS: dict[str, float] = {
    "rest_baseline_s": 5.0,
    "trials": 3,
    "contract_s": 5.0,
    "rest_between_s": 30.0,
    "countdown_s": 3.0,
}
_TEXT_FIELDS = ("id", "muscle", "title", "position", "resistance")


@dataclass(frozen=True)
class Timing:
    """How long each part of a test lasts, in seconds."""

    rest_baseline_s: float = 5.0
    trials: int = 3
    contract_s: float = 5.0
    rest_between_s: float = 30.0
    countdown_s: float = 3.0

    @property
    def relax_s(self) -> float:
        """Rest after a contraction before the next countdown starts."""
        return self.rest_between_s - self.countdown_s


@dataclass(frozen=True)
class MvcProtocol:
    """One MVC test: the muscle kind it applies to, what to do, and its timing."""

    id: str
    muscle: str
    title: str
    position: str
    resistance: str
    cue: str
    timing: Timing
    source: str = "built-in"

    def with_timing(self, **changes: float) -> MvcProtocol:
        """A copy with some timings replaced (validated like a file's)."""
        values = {**asdict(self.timing), **{k: v for k, v in changes.items() if v is not None}}
        return MvcProtocol(
            self.id, self.muscle, self.title, self.position, self.resistance, self.cue, _timing(values, self.source), self.source
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored in the profile so it says how it was made."""
        return asdict(self)


def _fail(where: str, message: str) -> ProtocolError:
    return ProtocolError(f"{where}: {message}")


def _timing(raw: Mapping[str, Any], where: str) -> Timing:
    unknown = sorted(set(raw) - set(TIMING_LIMITS))
    if unknown:
        raise _fail(where, f"unknown field timing.{unknown[0]}: use only {', '.join(TIMING_LIMITS)}")
    values: dict[str, Any] = {}
    for key, (low, high) in TIMING_LIMITS.items():
        value = raw.get(key, TIMING_DEFAULTS[key])
        is_int = key == "trials"
        ok_type = isinstance(value, int) if is_int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type:
            kind = "a whole number" if is_int else "a number of seconds"
            raise _fail(where, f"timing.{key} = {value!r} is not {kind}: write e.g. {key} = {TIMING_DEFAULTS[key]}")
        if not low <= value <= high:
            raise _fail(where, f"timing.{key} = {value} is out of range: use {low:g} to {high:g}")
        values[key] = int(value) if is_int else float(value)
    timing = Timing(**values)
    if timing.rest_between_s < timing.countdown_s:
        raise _fail(
            where,
            f"timing.rest_between_s = {timing.rest_between_s:g} is shorter than timing.countdown_s = "
            f"{timing.countdown_s:g}: the countdown runs inside the rest, make the rest longer",
        )
    return timing


def parse_protocol(data: Mapping[str, Any], where: str) -> MvcProtocol:
    """Validate parsed TOML into an :class:`MvcProtocol`; ``where`` names the file in errors."""
    known = {*_TEXT_FIELDS, "cue", "schema", "timing"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise _fail(where, f"unknown field {unknown[0]!r}: use only {', '.join(sorted(known))}")
    schema = data.get("schema", SCHEMA)
    if schema != SCHEMA:
        raise _fail(where, f"schema = {schema!r} is not supported: this version reads schema = {SCHEMA}")
    text: dict[str, str] = {}
    for key in (*_TEXT_FIELDS, "cue"):
        value = data.get(key, "" if key == "cue" else None)
        if value is None:
            raise _fail(where, f'field {key!r} is missing: add {key} = "..."')
        if not isinstance(value, str) or (key != "cue" and not value.strip()):
            raise _fail(where, f"field {key!r} must be non-empty text in quotes")
        text[key] = " ".join(value.split())
    muscle = text["muscle"]
    if not muscle.replace("_", "").isalnum() or muscle != muscle.lower():
        raise _fail(where, f"muscle = {muscle!r} is not a muscle kind: use lower-case words joined by _, e.g. glute_max")
    timing_raw = data.get("timing", {})
    if not isinstance(timing_raw, Mapping):
        raise _fail(where, "field 'timing' must be a table: write [timing] on its own line")
    return MvcProtocol(
        id=text["id"],
        muscle=muscle,
        title=text["title"],
        position=text["position"],
        resistance=text["resistance"],
        cue=text["cue"],
        timing=_timing(timing_raw, where),
        source=where,
    )


def load_protocol(path: str | Path) -> MvcProtocol:
    """Read and validate one protocol file; any problem is a one-line :class:`ProtocolError`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProtocolError(f"{path}: no such protocol file: check the path") from None
    except OSError as exc:
        raise ProtocolError(f"{path}: cannot be read ({exc.strerror}): check the path and its permissions") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProtocolError(f"{path}: is not UTF-8 text: save it as a UTF-8 TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"{path}: is not valid TOML ({exc}): fix the syntax") from None
    return parse_protocol(data, str(path))


#: The wheel's copy of the top-level calibration/ folder, inside this package (see setup.py).
INSTALLED_FOLDER = "protocols"


def shipped_protocols_folder() -> Traversable:
    """Where the shipped protocols are: inside the installed package, else the checkout's ``calibration/``."""
    installed = resources.files("emgfeedback.calibration") / INSTALLED_FOLDER
    if installed.is_dir() and any(entry.name.endswith(".toml") for entry in installed.iterdir()):
        return installed
    return Path(__file__).resolve().parents[2] / "calibration"


def builtin_protocols() -> dict[str, MvcProtocol]:
    """The shipped protocols, keyed by muscle kind."""
    out: dict[str, MvcProtocol] = {}
    folder = shipped_protocols_folder()
    if not folder.is_dir():
        raise ProtocolError(f"{folder}: the shipped calibration protocols are missing: reinstall emgfeedback")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            proto = parse_protocol(data, f"built-in {entry.name}")
            out[proto.muscle] = proto
    return out


def user_protocols_dir() -> Path:
    """Where users put their own protocol files (not created here: reading must not make folders)."""
    return paths.data_dir() / "protocols"


def available_protocols(extra: Iterable[str | Path] = ()) -> dict[str, MvcProtocol]:
    """Built-in, then the user folder's, then ``extra`` files: later ones win for the same muscle kind."""
    out = builtin_protocols()
    folder = user_protocols_dir()
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        proto = load_protocol(path)
        out[proto.muscle] = proto
    for path in extra:
        proto = load_protocol(path)
        out[proto.muscle] = proto
    return out
