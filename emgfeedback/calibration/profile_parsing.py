"""Calibration profiles, parsing: a JSON object checked field by field into a :class:`Profile`.

Any problem is one :class:`ProfileError` line naming the file and the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from emgfeedback.calibration.checks import Problem
from emgfeedback.calibration.profile_model import FORMAT, SCHEMA, MuscleReference, Profile
from emgfeedback.config import FilterSpec
from emgfeedback.errors import ProfileError, SettingsError


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


def parse_profile(data: Any, where: str) -> Profile:
    """Validate a parsed profile; any problem is a one-line :class:`ProfileError` naming ``where``."""
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
