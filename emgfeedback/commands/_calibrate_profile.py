"""What ``emgfeedback calibrate`` does with a result: print it, keep the muscles that passed, save or
update the profile, and say which muscles are still missing and how to redo one alone."""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from emgfeedback.calibration.checks import times_rest
from emgfeedback.calibration.profile import Profile, load_profile, profile_json, profile_path, save_profile
from emgfeedback.calibration.results import CalibrationResult
from emgfeedback.calibration.saving import first_failure, missing_text, muscles_of
from emgfeedback.commands._profile_save import keep
from emgfeedback.errors import CommandError

#: Builds the profile to save from the finished result (partial or merged into ``--update``).
Build = Callable[[], Profile]


def check_target(args: argparse.Namespace) -> Profile | None:
    """The profile ``--update`` names (loaded now, so a wrong name fails before anything runs), else None."""
    if not args.update:
        if not args.name:
            raise CommandError("give --name NAME for the new profile, or --update PROFILE to redo muscles of a saved one")
        return None
    profile = load_profile(args.update)
    if args.name and " ".join(args.name.split()) != profile.name:
        raise CommandError(
            f"--update saves into profile {profile.name!r}: leave out --name {args.name!r}, or drop --update for a new profile"
        )
    return profile


def only_names(text: str | None) -> list[str]:
    """The muscles of ``--only a,b`` (empty: all)."""
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def select(muscles: Mapping[str, int], only: list[str], where: str) -> dict[str, int]:
    """``muscles`` restricted to ``--only``; a muscle that is not there is named with the ones that are."""
    if not only:
        return dict(muscles)
    unknown = next((m for m in only if m not in muscles), None)
    if unknown is not None:
        raise CommandError(
            f"--only {unknown}: {where} has no muscle {unknown} (it has {', '.join(muscles) or 'none'}): "
            f"check the name, or map it with --muscles {unknown}=CHANNEL"
        )
    return {m: muscles[m] for m in only}


def base_muscles(args: argparse.Namespace, update: Profile | None, parse: Callable[[str], dict[str, int]]) -> dict | None:
    """The muscle map before ``--only``: ``--muscles``, else the updated profile's (calibrated and missing), else None."""
    if args.muscles:
        return parse(args.muscles)
    if update is not None:
        return muscles_of(update)
    return None


def summary(result: CalibrationResult, units: str, out: TextIO) -> None:
    """One line per muscle (MVC, noise, trials, spread), then every finding."""
    for m in result.muscles:
        if not math.isfinite(m.mvc):
            noise = f"noise {m.noise:.3g} {units}" if math.isfinite(m.noise) else "no rest measured"
            print(f"  {m.label} (channel {m.channel}): no usable trial ({noise}): repeat its trials", file=out)
            continue
        ratio = m.mvc / m.noise if m.noise > 0 else math.inf
        trials = ", ".join(f"{p:.4g}" for p in m.peaks)
        spread = f", spread {100 * m.spread:.0f} %" if len(m.peaks) > 1 else ""
        left_out = "" if m.ok else " -- left out"
        print(
            f"  {m.label} (channel {m.channel}): MVC {m.mvc:.4g} {units}, noise {m.noise:.3g} {units}, "
            f"{times_rest(ratio)} rest; trials {trials or 'none'}{spread}{left_out}",
            file=out,
        )
    for problem in result.problems:
        print(f"  {problem.severity.value}: {problem.message}", file=out)


def stdin_is_terminal() -> bool:
    """Whether a person can answer a prompt (not a script, a pipe or a CI job without standard input)."""
    stdin = sys.stdin
    try:
        return stdin is not None and stdin.isatty()
    except (ValueError, OSError):
        return False


def finish(args: argparse.Namespace, result: CalibrationResult, build: Build, units: str, out: TextIO) -> int:
    """Print the result and save what passed; refuse (one line) when nothing did."""
    print("result:", file=out)
    summary(result, units, out)
    if result.cancelled or not result.kept:
        why = first_failure(result.left_out[0]) if result.left_out and not result.cancelled else "cancelled"
        raise CommandError(f"calibration not saved: {why}")
    profile = build()
    save_to = getattr(args, "save_to", None)
    target = Path(save_to).expanduser() if save_to else profile_path(profile.name)
    existed = target.exists()
    try:
        path = save_profile(profile, path=target if save_to else None)
    except OSError as exc:  # the disk filled during the trials: keep the result, say where
        raise keep(profile_json(profile), profile.name, target, exc, interactive=stdin_is_terminal(), out=out) from None
    redone = ", ".join(m.name for m in result.kept)
    if args.update:
        print(f"updated profile {profile.name!r} ({redone} measured now): {path}", file=out)
    else:
        print(f"{'replaced' if existed else 'saved'} profile {profile.name!r}: {path}", file=out)
    if profile.complete:
        if result.left_out or args.update:
            print(f"profile {profile.name!r} has every muscle: {', '.join(profile.muscles)}", file=out)
        return 0
    print(
        f"partial profile: {len(profile.references)} of {len(profile.references) + len(profile.missing)} muscles; "
        f"missing {missing_text(profile)}",
        file=out,
    )
    redo = ",".join(sorted(profile.missing, key=lambda m: profile.missing[m]))
    spec = getattr(args, "source", None) or ""
    if spec.startswith("simulated:calibration:"):  # the simulated person's options made the failure: redo without
        spec = "simulated"
    source = f"--source {shlex.quote(spec)} " if spec else ""
    print(f"  redo it alone: emgfeedback calibrate {source}--only {redo} --update {shlex.quote(profile.name)}", file=out)
    return 0
