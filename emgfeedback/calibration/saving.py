"""What a calibration saves: the muscles that passed (a partial profile names the missing ones),
or, for a muscle redone alone, the existing profile with that muscle replaced.

Nothing good is thrown away because another muscle failed; a redo is merged only into a
profile made with the same chain (filters, rate, units and scale), so %MVC keeps one meaning.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from emgfeedback.calibration.checks import Severity
from emgfeedback.calibration.profile import Profile
from emgfeedback.calibration.results import CalibrationResult, MuscleResult
from emgfeedback.config import FilterSpec, StreamInfo
from emgfeedback.errors import ProfileError
from emgfeedback.muscles import display_name


def first_failure(muscle: MuscleResult) -> str:
    """The message that says why ``muscle`` was left out."""
    fails = [p.message for p in muscle.problems if p.severity is Severity.FAIL]
    if fails:
        return fails[0]
    return f"{muscle.label}: no usable reference (MVC not above the resting noise): repeat its trials"


def calibrated_profile(
    name: str,
    result: CalibrationResult,
    spec: FilterSpec,
    info: StreamInfo,
    *,
    update: Profile | None = None,
    **details: Any,
) -> Profile:
    """The profile to save: the muscles of ``result`` that passed, the others listed as missing.

    ``details`` go to :meth:`Profile.from_result` (``protocols``, ``scale``, ``units``, ``source``).

    With ``update`` (an existing profile) the passed muscles replace or fill in its muscles and the
    result is saved under its name; its chain must match this one. Refuses (one line) a cancelled
    run or one where no muscle passed.
    """
    if result.cancelled:
        raise ProfileError("the calibration was cancelled: nothing to save")
    if update is not None:
        update.check_compatible(spec, info, scale=details.get("scale"))
    kept = result.kept
    if not kept:
        why = first_failure(result.left_out[0]) if result.left_out else "no muscle was calibrated"
        raise ProfileError(f"not saved: {why}")
    profile = Profile.from_result(
        update.name if update is not None else name,
        replace(result, muscles=kept),
        spec,
        info,
        **details,
    )
    missing = {m.name: m.channel for m in result.left_out}
    if update is None:
        return replace(profile, missing=missing)
    return merged(update, profile, missing)


def merged(old: Profile, new: Profile, missing: dict[str, int]) -> Profile:
    """``old`` with ``new``'s references put in (same muscle: replaced); a muscle that failed again keeps
    its old reference if it had one, else stays in ``missing``."""
    fresh = {r.name for r in new.references}
    refs = sorted([r for r in old.references if r.name not in fresh] + list(new.references), key=lambda r: r.channel)
    have = {r.name for r in refs}
    still = {m: c for m, c in {**old.missing, **missing}.items() if m not in have}
    owners: dict[int, str] = {}
    for muscle, channel in [(r.name, r.channel) for r in refs] + list(still.items()):
        other = owners.setdefault(channel, muscle)
        if other != muscle:
            raise ProfileError(
                f"channel {channel} would hold both {other} and {muscle} in profile {old.name!r}: give each muscle its "
                "own channel with --muscles, or calibrate a new profile"
            )
    protocols = {str(p.get("muscle")): p for p in old.protocols}
    protocols.update({str(p.get("muscle")): p for p in new.protocols})
    return replace(
        old,
        references=tuple(refs),
        channels=max(old.channels, new.channels),
        missing=still,
        protocols=tuple(protocols.values()),
        created=new.created,
        path=None,
    )


def muscles_of(profile: Profile) -> dict[str, int]:
    """Every muscle of a profile's placement, calibrated or missing: name -> channel."""
    return {**profile.muscles, **profile.missing}


def missing_text(profile: Profile) -> str:
    """``Hamstring, right (channel 3)``: the muscles a partial profile lacks, for messages."""
    return ", ".join(f"{display_name(m)} (channel {c})" for m, c in sorted(profile.missing.items(), key=lambda kv: kv[1]))
