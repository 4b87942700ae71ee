"""Calibration profiles, the model: each muscle's MVC and noise with the chain they were measured with.

A profile holds each muscle's MVC and resting noise in the envelope's units, with the filter
settings (estimator included), sample rate, channels and units they were measured with, so a
live run with other settings is refused rather than silently normalized wrong. Parsing lives in
``profile_parsing``, files in ``profile_store``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from emgfeedback.calibration.checks import Problem, Severity
from emgfeedback.calibration.protocol import MvcProtocol
from emgfeedback.calibration.results import CalibrationResult
from emgfeedback.config import FilterSpec, StreamInfo
from emgfeedback.dsp.normalize import MvcNormalizer
from emgfeedback.errors import ProfileError

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
        from emgfeedback.calibration.profile_parsing import parse_profile  # parsing builds Profiles: import late

        return parse_profile(data, where)


def canonical(spec: FilterSpec) -> FilterSpec:
    """The spec as a profile stores it (effective band edge filled in), so a saved profile equals a loaded one."""
    return FilterSpec.from_dict(spec.to_dict())


# --- comparing settings ----------------------------------------------------------------------------------------
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
    "envelope": "--envelope {v}",
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


def slugify(name: str) -> str:
    """A safe file name for a display name: ``both sides, standard placement`` -> ``both-sides-standard-placement``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-")
    return slug or "profile"
