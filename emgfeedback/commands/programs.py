"""``emgfeedback programs``: list the training programs, or show one."""

from __future__ import annotations

import argparse
import json
import sys

from emgfeedback.errors import CommandError, ProgramError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "programs",
        help="list the training programs, or show one",
        description="Training programs are TOML files: the shipped ones, plus yours in the user programs folder "
        "(a file there with a shipped program's name replaces it). The format is in docs/programs.md.",
        epilog="examples:\n  emgfeedback programs\n  emgfeedback programs show underbutt-isolation\n"
        "  emgfeedback programs --json\n  emgfeedback record --source /dev/ttyACM0 --profile standard --program first-week",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", nargs="?", default="list", choices=["list", "show"], help="what to do (default list)")
    p.add_argument("name", nargs="?", default=None, help="program name or .toml file (for show)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _minutes(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


def run(args: argparse.Namespace) -> int:
    from emgfeedback.paths import programs_dir
    from emgfeedback.training.program import load_program, shipped_files, user_files

    out = sys.stdout
    if args.action == "list":
        if args.name:
            raise CommandError(f"'programs list' takes no name (got {args.name!r}): use 'programs show NAME'")
        rows: list[dict[str, object]] = []
        for name in sorted({*shipped_files(), *user_files()}):
            try:
                program = load_program(name)
            except ProgramError as exc:
                rows.append({"name": name, "error": str(exc)})
                continue
            rows.append(
                {
                    "name": program.name,
                    "title": program.title,
                    "duration_s": program.duration_s,
                    "exercises": [e.name for e in program.exercises],
                    "source": program.source,
                }
            )
        if args.json:
            json.dump(rows, out, indent=2)
            out.write("\n")
            return 0
        for row in rows:
            if "error" in row:
                print(f"{row['name']}: unreadable ({row['error']})", file=out)
            else:
                print(f"{row['name']:<22} {_minutes(float(str(row['duration_s']))):>6}  {row['title']}", file=out)
        print(f"(your own programs go in {programs_dir()}; see docs/programs.md)", file=out)
        return 0
    if not args.name:
        raise CommandError("give the program name: emgfeedback programs show NAME")
    program = load_program(args.name)
    if args.json:
        json.dump(program.as_dict(), out, indent=2)
        out.write("\n")
        return 0
    print(f"{program.title} ({program.name}, {_minutes(program.duration_s)}, {program.source})", file=out)
    if program.description:
        print(program.description, file=out)
    for i, ex in enumerate(program.exercises, 1):
        print(f"\n{i}. {ex.name}: {ex.sets} x {ex.reps} x {ex.work_s:g} s, rest {ex.rest_s:g} s"
              + (f", {ex.set_rest_s:g} s between sets" if ex.sets > 1 else ""), file=out)  # fmt: skip
        print(f"   position: {ex.position}", file=out)
        print(f"   feel:     {ex.feel}", file=out)
        print(f"   mistake:  {ex.mistake}", file=out)
        bands = ", ".join(f"{m} {b.low:g}-{b.high:g} %MVC" for m, b in ex.bands) or "the session's band"
        print(f"   bands:    {bands}", file=out)
        print(f"   success:  {ex.success.describe()}", file=out)
    return 0
