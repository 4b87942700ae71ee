"""``emgfeedback salvage --out DIR``: copy every readable session of a damaged store into a new data folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emgfeedback.paths import sessions_path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "salvage",
        help="copy every readable session of a damaged store into a new, intact store",
        description="Read the session store (never changing it) and copy every session that can still be read, "
        "whole and with its id, into DIR/sessions.sqlite3. DIR becomes a data folder: use it with "
        "EMGFEEDBACK_HOME=DIR, or move its store into place. Sessions that cannot be read are listed. "
        "Exit 0: every session was recovered; 1: some could not be read.",
        epilog="examples:\n  emgfeedback salvage --out ~/emg-recovered\n  EMGFEEDBACK_HOME=~/emg-recovered emgfeedback sessions",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder for the recovered store")
    p.add_argument("--store", default=None, metavar="FILE", help="the store to read (default: the one in the data folder)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emgfeedback.session.salvage import salvage

    source = Path(args.store).expanduser() if args.store else sessions_path()
    out = Path(args.out).expanduser()
    if out.resolve() == source.parent.resolve():
        from emgfeedback.errors import CommandError

        raise CommandError(f"--out {out} is the folder of the store being salvaged: give a new or empty folder")

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    report = salvage(source, out, on_session=say)
    if report.problem:
        print(f"{source}: {report.problem}", file=sys.stderr)
    for sid, why in report.lost:
        if sid is None:
            print(f"not recovered: {why}", file=sys.stderr)
    total = len(report.recovered) + len(report.lost)
    ids = ", ".join(str(s.id) for s in report.recovered) or "none"
    print(
        f"salvaged {len(report.recovered)} of {total} session(s) ({ids}) into {report.target}; "
        f"{source} was not changed. Use it with: EMGFEEDBACK_HOME={out} emgfeedback sessions"
    )
    return 0 if report.complete else 1
