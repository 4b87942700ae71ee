"""``emgfeedback profiles``: list, show or delete calibration profiles."""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from emgfeedback.errors import CommandError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "profiles",
        help="list, show or delete calibration profiles",
        description="Calibration profiles live in the user data directory, one JSON file each (owner-only).",
        epilog="examples:\n  emgfeedback profiles\n  emgfeedback profiles show 'both sides, standard placement' --json\n"
        "  emgfeedback profiles delete 'old placement'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", nargs="?", default="list", choices=["list", "show", "delete"], help="what to do (default list)")
    p.add_argument("name", nargs="?", default=None, help="profile name (for show and delete)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emgfeedback.calibration.profile import delete_profile, load_profile, scan_profiles
    from emgfeedback.paths import profiles_dir

    out = sys.stdout
    if args.action == "list":
        if args.name:
            raise CommandError(f"'profiles list' takes no name (got {args.name!r}): use 'profiles show NAME'")
        entries = scan_profiles()
        if args.json:
            rows = [
                {"file": str(path), "error": error} if profile is None else {"file": str(path), **_brief(profile)}
                for path, profile, error in entries
            ]
            json.dump(rows, out, indent=2)
            out.write("\n")
            return 0
        if not entries:
            print(f"no profiles yet in {profiles_dir()}: make one with 'emgfeedback calibrate --name NAME ...'", file=out)
            return 0
        for path, profile, error in entries:
            if profile is None:
                print(f"{path.name}: unreadable ({error})", file=out)
                continue
            b = _brief(profile)
            state = "ok" if b["ok"] else "has problems"
            if b["missing"]:
                state += f"; missing {', '.join(b['missing'])}"
            print(
                f"{profile.name}: {', '.join(b['muscles'])}; {b['fs']:g} Hz, {b['window_ms']:g} ms window, "
                f"mains {b['mains']}; {b['created'] or 'no date'}; {state}",
                file=out,
            )
        return 0
    if not args.name:
        raise CommandError(f"give the profile name: emgfeedback profiles {args.action} NAME")
    if args.action == "delete":
        path = delete_profile(args.name)
        if args.json:
            json.dump({"deleted": str(path)}, out)
            out.write("\n")
        else:
            print(f"deleted {path}", file=out)
        return 0
    profile = load_profile(args.name)
    if args.json:
        json.dump({**profile.to_dict(), "file": str(profile.path)}, out, indent=2)
        out.write("\n")
        return 0
    f = profile.filters
    print(f"{profile.name}  ({profile.path})", file=out)
    print(
        f"  created {profile.created or 'unknown'}; source {profile.source or 'unknown'}; "
        f"firmware {profile.firmware or 'unknown'}",
        file=out,
    )
    print(
        f"  {profile.fs:g} Hz, {profile.channels} channels in {profile.source_units}; band {f.band_low_hz:g}-{f.band_high:g} Hz, "
        f"mains notch {f.mains.value}, envelope {f.window_ms:g} ms, {f.input_mode.value} input",
        file=out,
    )
    from emgfeedback.calibration.checks import times_rest

    for r in profile.references:
        ratio = r.mvc / r.noise if r.noise > 0 else float("inf")
        trials = ", ".join(f"{t:.4g}" for t in r.trials)
        line = (
            f"  {r.name} (channel {r.channel}): MVC {r.mvc:.4g} {profile.units}, noise {r.noise:.3g} {profile.units}, "
            f"{times_rest(ratio)} rest"
        )
        print(line + (f"; trials {trials}" if trials else ""), file=out)
        for p in r.verdicts:
            print(f"    {p.severity.value}: {p.message}", file=out)
    for muscle, channel in profile.missing.items():
        print(
            f"  {muscle} (channel {channel}): missing: redo it alone with "
            f"emgfeedback calibrate --source SRC --only {muscle} --update {shlex.quote(profile.name)}",
            file=out,
        )
    return 0


def _brief(profile: object) -> dict:
    from emgfeedback.calibration.profile import Profile

    assert isinstance(profile, Profile)
    return {
        "name": profile.name,
        "created": profile.created,
        "muscles": [f"{m}={c}" for m, c in profile.muscles.items()],
        "fs": profile.fs,
        "window_ms": profile.filters.window_ms,
        "mains": profile.filters.mains.value,
        "units": profile.units,
        "ok": profile.ok,
        "missing": [f"{m}={c}" for m, c in profile.missing.items()],
    }
