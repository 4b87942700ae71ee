"""Calibration profiles: versioned JSON under the user data directory, one file per electrode placement.

A profile holds each muscle's MVC and resting noise in the envelope's units, with the
filter settings, sample rate, channels and units they were measured with, so a live run
with other settings is refused rather than silently normalized wrong. Files are written
atomically (temp file + ``os.replace``) and readable by the owner only.
"""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from emgfeedback import paths
from emgfeedback.calibration.checks import Problem, Severity
from emgfeedback.calibration.protocol import MvcProtocol
from emgfeedback.calibration.results import CalibrationResult
from emgfeedback.config import FilterSpec, StreamInfo
from emgfeedback.dsp.normalize import MvcNormalizer
from emgfeedback.errors import ProfileError, SettingsError
from emgfeedback.private_files import remove_stale_parts, write_private

FORMAT = "emgfeedback-profile"
SCHEMA = 1
METHOD = {
    "mvc": "highest mean of the envelope over a 500 ms window across the trials",
    "noise": "mean envelope over the rest baseline",
}


@dataclass(frozen=True)
class MuscleReference:
    """One muscle's calibration: its channel, MVC and resting noise (envelope units), and how it went."""

    name: str
    channel: int
    mvc: float
    noise: float
    trials: tuple[float, ...] = ()
    spread: float = 0.0
    verdicts: tuple[Problem, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "mvc": self.mvc,
            "noise": self.noise,
            "trials": list(self.trials),
            "spread": self.spread,
            "verdicts": [p.to_dict() for p in self.verdicts],
        }


@dataclass(frozen=True)
class Profile:
    """A saved calibration; ``muscles`` maps muscle name -> channel (what live.channel_names reads)."""

    name: str
    references: tuple[MuscleReference, ...]
    filters: FilterSpec
    channels: int
    units: str = "counts"  # of the envelope, i.e. after ``scale``
    source_units: str = "counts"  # what the source delivered
    scale: float | None = None  # counts -> units factor live must apply (LiveOptions.scale)
    frontend: str | None = None
    firmware: str | None = None
    source: str = ""
    created: str = ""
    protocols: tuple[Mapping[str, Any], ...] = ()
    missing: Mapping[str, int] = field(default_factory=dict)  # muscle -> channel not calibrated yet (a partial profile)
    schema: int = SCHEMA
    path: Path | None = field(default=None, compare=False)

    # --- what live needs ---------------------------------------------------------------------
    @property
    def fs(self) -> float:
        return self.filters.fs

    @property
    def muscles(self) -> dict[str, int]:
        return {r.name: r.channel for r in self.references}

    @property
    def complete(self) -> bool:
        """Every muscle of the placement has a reference (``missing`` is empty)."""
        return not self.missing

    @property
    def slug(self) -> str:
        return slugify(self.name)

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.references for p in r.verdicts]

    @property
    def ok(self) -> bool:
        """No failure among the stored verdicts (warnings allowed)."""
        return not any(p.severity is Severity.FAIL for p in self.problems)

    def reference(self, muscle: str) -> MuscleReference:
        try:
            return next(r for r in self.references if r.name == muscle)
        except StopIteration:
            raise ProfileError(f"profile {self.name!r} has no muscle {muscle!r}: it has {', '.join(self.muscles)}") from None

    def normalizer(self, names: Sequence[str] | None = None) -> MvcNormalizer:
        """An :class:`MvcNormalizer` with one column per stream channel; channels not in the profile read NaN.

        ``names`` are the stream's channel names in order (muscle names where calibrated);
        without it the profile's own channel numbers are used.
        """
        by_name = {r.name: r for r in self.references}
        if names is None:
            size = max(self.channels, max(r.channel for r in self.references) + 1)
            slots: list[MuscleReference | None] = [None] * size
            for r in self.references:
                slots[r.channel] = r
        else:
            slots = [by_name.get(n) for n in names]
        mvc = [math.nan if r is None else r.mvc for r in slots]
        noise = [math.nan if r is None else r.noise for r in slots]
        return MvcNormalizer(np.array(mvc), np.array(noise))

    def check_compatible(self, spec: FilterSpec, info: StreamInfo, *, scale: float | str | None = "unchecked") -> None:
        """Refuse (SettingsError naming what differs and the fix) a chain or stream unlike the calibration's.

        Pass the live chain's ``scale`` to check it too (a profile in uV read from counts is 200x off).
        """
        diffs: list[str] = []
        fixes: list[str] = []
        if not math.isclose(info.fs, self.fs, rel_tol=1e-6):
            diffs.append(f"sample rate {info.fs:g} Hz, profile {self.fs:g} Hz")
            fixes.append(f"--fs {self.fs:g}")
        self._filter_differences(spec, diffs, fixes)
        need = max(r.channel for r in self.references) + 1
        if info.channels < need:
            worst = max(self.references, key=lambda r: r.channel)
            diffs.append(f"the source has {info.channels} channels, the profile needs channel {worst.channel} for {worst.name}")
            fixes.append("connect that sensor")
        if info.units != self.source_units:
            diffs.append(f"the source gives {info.units}, the profile was made from {self.source_units}")
            fixes.append("use the same sensor and source")
        if scale != "unchecked" and not _same_scale(scale, self.scale):
            diffs.append(f"the chain scales samples by {scale}, the profile by {self.scale}")
            fixes.append("the profile's scale (Profile.scale)")
        self._refuse(diffs, fixes)

    def check_filters(self, spec: FilterSpec) -> None:
        """Refuse a chain whose filter settings (not its rate) differ: lets a command fail before the device opens."""
        diffs: list[str] = []
        fixes: list[str] = []
        self._filter_differences(spec, diffs, fixes)
        self._refuse(diffs, fixes)

    def _filter_differences(self, spec: FilterSpec, diffs: list[str], fixes: list[str]) -> None:
        mine, now = self.filters.to_dict(), spec.to_dict()
        for key, value in mine.items():
            if key == "fs" or _same(value, now[key]):
                continue
            diffs.append(f"{key} {now[key]}, profile {value}")
            fixes.append(_flag(key, value))

    def _refuse(self, diffs: list[str], fixes: list[str]) -> None:
        if diffs:
            raise ProfileError(
                f"profile {self.name!r} does not match this setup ({'; '.join(diffs)}): calibrate again with these settings, "
                f"or use matching settings ({', '.join(f for f in fixes if f)})"
            )

    # --- building and (de)serializing ---------------------------------------------------------------
    @classmethod
    def from_result(
        cls,
        name: str,
        result: CalibrationResult,
        spec: FilterSpec,
        info: StreamInfo,
        *,
        protocols: Sequence[MvcProtocol] = (),
        scale: float | None = None,
        units: str | None = None,
        frontend: str | None = None,
        source: str = "",
    ) -> Profile:
        """A profile from a finished calibration; refuses one with no usable reference or a failure left standing."""
        if result.cancelled:
            raise ProfileError("the calibration was cancelled: nothing to save")
        bad = [m for m in result.muscles if not (math.isfinite(m.mvc) and math.isfinite(m.noise) and m.mvc > m.noise >= 0)]
        if bad:
            raise ProfileError(
                f"no usable reference for {', '.join(m.label for m in bad)}: repeat its trials, then save the profile"
            )
        failures = [p.message for p in result.problems if p.severity is Severity.FAIL]
        if failures:
            raise ProfileError(f"not saved: {failures[0]}")
        refs = tuple(
            MuscleReference(m.name, m.channel, float(m.mvc), float(m.noise), tuple(map(float, m.peaks)), m.spread, m.problems)
            for m in sorted(result.muscles, key=lambda m: m.channel)
        )
        profile = cls(
            name=check_name(name),
            references=refs,
            filters=canonical(spec),
            channels=info.channels,
            units=units or ("uV" if scale else info.units),
            source_units=info.units,
            scale=scale,
            frontend=frontend,
            firmware=info.firmware,
            source=source or info.description,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            protocols=tuple(p.to_dict() for p in protocols),
        )
        profile.normalizer()  # validates mvc > noise once more, as live will
        return profile

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "schema": self.schema,
            "name": self.name,
            "created": self.created,
            "muscles": {r.name: r.to_dict() for r in self.references},
            "fs": self.fs,
            "channels": self.channels,
            "filters": self.filters.to_dict(),
            "units": self.units,
            "source_units": self.source_units,
            "scale": self.scale,
            "frontend": self.frontend,
            "firmware": self.firmware,
            "source": self.source,
            "quality": {"ok": self.ok, "messages": [p.message for p in self.problems]},
            "protocols": [dict(p) for p in self.protocols],
            "missing": dict(self.missing),
            "method": METHOD,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "profile") -> Profile:
        """Validate a parsed profile; any problem is a one-line :class:`ProfileError` naming ``where``."""
        return _parse(data, where)


def canonical(spec: FilterSpec) -> FilterSpec:
    """The spec as a profile stores it (effective band edge filled in), so a saved profile equals a loaded one."""
    return FilterSpec.from_dict(spec.to_dict())


# --- validation ----------------------------------------------------------------------------------------
def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9)
    return a == b


def _same_scale(a: object, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return isinstance(a, int | float) and math.isclose(float(a), b, rel_tol=1e-9)


_FLAGS = {
    "window_ms": "--window-ms {v:g}",
    "mains": "--mains {v}",
    "band_low_hz": "--band-low {v:g}",
    "band_high_hz": "--band-high {v:g}",
}


def _flag(key: str, value: Any) -> str:
    if key in _FLAGS:
        return _FLAGS[key].format(v=value)
    if key == "notch_harmonics":
        return "--notch-harmonics" if value else "without --notch-harmonics"
    if key == "input_mode":
        return "--pre-rectified" if value == "pre-rectified" else "without --pre-rectified"
    return f"{key} {value}"


def check_name(name: str) -> str:
    """The name tidied (single spaces); refuses an empty or overlong one."""
    name = " ".join(str(name).split())
    if not name:
        raise ProfileError("the profile name is empty: give a name such as 'both sides, standard placement'")
    if len(name) > 100:
        raise ProfileError(f"the profile name is {len(name)} characters long: use at most 100")
    return name


class _InvalidError(Exception):
    """Internal: a field is wrong (message without the file name)."""


def _get(data: Mapping[str, Any], key: str, kinds: type | tuple[type, ...], what: str, *, optional: bool = False) -> Any:
    if key not in data or data[key] is None:
        if optional:
            return None
        raise _InvalidError(f"field {what} is missing")
    value = data[key]
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise _InvalidError(f"field {what} has the wrong type")
    if not isinstance(value, kinds):
        raise _InvalidError(f"field {what} has the wrong type ({type(value).__name__})")
    return value


def _number(data: Mapping[str, Any], key: str, what: str, *, optional: bool = False) -> float | None:
    value = _get(data, key, (int, float), what, optional=optional)
    if value is None:
        return None
    if not math.isfinite(value):
        raise _InvalidError(f"field {what} is not a finite number")
    return float(value)


def _parse(data: Any, where: str) -> Profile:
    try:
        if not isinstance(data, Mapping):
            raise _InvalidError("it is not a JSON object")
        fmt = data.get("format")
        if fmt != FORMAT:
            raise _InvalidError(f"field format is {fmt!r}, not {FORMAT!r}")
        schema = _get(data, "schema", int, "schema")
        if schema > SCHEMA:
            raise _InvalidError(f"schema {schema} was written by a newer emgfeedback (this one reads {SCHEMA}): upgrade")
        if schema < 1:
            raise _InvalidError(f"schema {schema} is not valid")
        name = _get(data, "name", str, "name")
        if not name.strip():
            raise _InvalidError("field name is empty")
        filters_raw = _get(data, "filters", dict, "filters")
        try:
            filters = FilterSpec.from_dict(dict(filters_raw))
        except (SettingsError, TypeError, ValueError) as exc:
            raise _InvalidError(f"field filters is invalid ({exc})") from None
        fs = _number(data, "fs", "fs", optional=True)
        if fs is not None and not math.isclose(fs, filters.fs):
            raise _InvalidError(f"field fs {fs:g} disagrees with filters.fs {filters.fs:g}")
        channels = _get(data, "channels", int, "channels")
        if not 1 <= channels <= 16:
            raise _InvalidError(f"field channels {channels} is out of range 1-16")
        muscles = _get(data, "muscles", dict, "muscles")
        if not muscles:
            raise _InvalidError("field muscles is empty")
        refs = []
        seen_channels: set[int] = set()
        for muscle, entry in muscles.items():
            what = f"muscles.{muscle}"
            if not isinstance(entry, Mapping):
                raise _InvalidError(f"field {what} is not an object")
            ch = _get(entry, "channel", int, f"{what}.channel")
            if not 0 <= ch < channels or ch in seen_channels:
                raise _InvalidError(f"field {what}.channel {ch} is out of range or used twice")
            seen_channels.add(ch)
            mvc = _number(entry, "mvc", f"{what}.mvc")
            noise = _number(entry, "noise", f"{what}.noise")
            assert mvc is not None and noise is not None
            if not mvc > noise >= 0:
                raise _InvalidError(f"field {what}.mvc {mvc:g} is not above {what}.noise {noise:g}")
            trials = entry.get("trials", [])
            if not isinstance(trials, list) or not all(isinstance(t, int | float) and not isinstance(t, bool) for t in trials):
                raise _InvalidError(f"field {what}.trials is not a list of numbers")
            spread_value = _number(entry, "spread", f"{what}.spread", optional=True) or 0.0
            verdicts_raw = entry.get("verdicts", [])
            try:
                verdicts = tuple(Problem.from_dict(v) for v in verdicts_raw)
            except (KeyError, TypeError, ValueError):
                raise _InvalidError(f"field {what}.verdicts is not a list of {{code, severity, message}}") from None
            refs.append(MuscleReference(str(muscle), ch, mvc, noise, tuple(map(float, trials)), spread_value, verdicts))
        scale = _number(data, "scale", "scale", optional=True)
        if scale is not None and not scale > 0:
            raise _InvalidError(f"field scale {scale:g} is not positive")
        protocols = data.get("protocols", [])
        if not isinstance(protocols, list) or not all(isinstance(p, Mapping) for p in protocols):
            raise _InvalidError("field protocols is not a list of objects")

        missing = data.get("missing", {})
        if not isinstance(missing, Mapping) or not all(
            isinstance(c, int) and not isinstance(c, bool) and 0 <= c < channels and c not in seen_channels
            for c in missing.values()
        ):
            raise _InvalidError("field missing is not an object of muscle: unused channel")

        def text(key: str, default: str | None = "") -> Any:
            value = _get(data, key, str, key, optional=True)
            return default if value is None else value

        return Profile(
            name=name,
            references=tuple(sorted(refs, key=lambda r: r.channel)),
            filters=filters,
            channels=channels,
            units=text("units", "counts"),
            source_units=text("source_units", text("units", "counts")),
            scale=scale,
            frontend=text("frontend", None),
            firmware=text("firmware", None),
            source=text("source"),
            created=text("created"),
            protocols=tuple(protocols),
            missing={str(k): int(v) for k, v in missing.items()},
            schema=schema,
        )
    except _InvalidError as exc:
        raise ProfileError(f"{where}: {exc}: fix or delete the file, or calibrate again") from None


# --- storage ----------------------------------------------------------------------------------------------
def slugify(name: str) -> str:
    """A safe file name for a display name: ``both sides, standard placement`` -> ``both-sides-standard-placement``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-")
    return slug or "profile"


def profile_path(name: str) -> Path:
    """Where the profile called ``name`` is (or would be) stored."""
    return paths.profiles_dir() / f"{slugify(name)}.json"


def read_profile_file(path: str | Path) -> Profile:
    """Read one profile file; corrupt or hand-broken files give a one-line :class:`ProfileError` naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile file: check the name with 'emgfeedback profiles list'") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot be read ({exc}): check its permissions or delete it") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(
            f"{path}: is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): fix or delete the file"
        ) from None
    profile = _parse(data, str(path))
    return replace(profile, path=path)


def save_profile(profile: Profile, *, overwrite: bool = True, path: Path | None = None) -> Path:
    """Write ``profile`` atomically, owner-only; refuse to overwrite another name's file with the same slug.

    ``path`` saves it to that file instead of the profiles folder. A failed write (disk full,
    read-only) raises the OSError and leaves no temporary file behind.
    """
    if path is None:
        path = profile_path(profile.name)
        if path.exists():
            try:
                existing = read_profile_file(path).name
            except ProfileError:
                existing = None  # a broken file with our slug: replace it
            if existing is not None and existing != profile.name:
                raise ProfileError(
                    f"profile {existing!r} is already stored as {path.name}: choose a name that differs in letters or digits"
                )
            if existing is not None and not overwrite:
                raise ProfileError(f"profile {profile.name!r} exists: delete it first or choose another name")
    return write_private(path, profile_json(profile).encode("utf-8"))


def profile_json(profile: Profile) -> str:
    """The profile file's text."""
    return json.dumps(profile.to_dict(), indent=2, allow_nan=False) + "\n"


def scan_profiles() -> list[tuple[Path, Profile | None, str | None]]:
    """Every profile file: (path, profile or None, error message or None), sorted by file name."""
    out: list[tuple[Path, Profile | None, str | None]] = []
    folder = paths.profiles_dir()
    remove_stale_parts(folder, legacy_glob=".*.tmp")  # profile writes of a run that was killed
    for path in sorted(folder.glob("*.json")):
        try:
            out.append((path, read_profile_file(path), None))
        except ProfileError as exc:
            out.append((path, None, str(exc)))
    return out


def list_profiles() -> list[Profile]:
    """The readable profiles, sorted by display name (see :func:`scan_profiles` for the broken ones)."""
    return sorted((p for _, p, _ in scan_profiles() if p is not None), key=lambda p: p.name.lower())


def find_profile_path(name: str) -> Path:
    """The file of the profile called ``name`` (display name, its slug, or a path to a .json file)."""
    candidate = Path(name).expanduser()
    if (name.endswith(".json") or os.sep in name) and candidate.is_file():
        return candidate
    path = profile_path(name)
    if path.is_file():
        return path
    for file, profile, _ in scan_profiles():
        if profile is not None and profile.name.lower() == " ".join(name.split()).lower():
            return file
    known = ", ".join(repr(p.name) for p in list_profiles()) or "none yet"
    raise ProfileError(f"no profile named {name!r} (known: {known}): calibrate one with 'emgfeedback calibrate --name ...'")


def load_profile(name: str) -> Profile:
    """Load a profile by display name, slug or path."""
    return read_profile_file(find_profile_path(name))


def delete_profile(name: str) -> Path:
    """Delete a profile by display name, slug or path (a broken file too); returns the path removed."""
    path = find_profile_path(name)
    path.unlink()
    return path
