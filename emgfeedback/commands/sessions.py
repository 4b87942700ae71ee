"""``emgfeedback sessions``: list the recorded sessions (id, date, duration, holds, profile, status)."""

from __future__ import annotations

import argparse
import json
import sys

from emgfeedback.paths import sessions_path
from emgfeedback.session.store import SessionStore, warn_if_damaged


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sessions",
        help="list recorded sessions",
        description="List the sessions in the local store. A session whose recorder died (crash, kill, power) "
        "shows as interrupted; everything committed before that is kept.",
        epilog="examples:\n  emgfeedback sessions\n  emgfeedback sessions --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _duration(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def run(args: argparse.Namespace) -> int:
    if not sessions_path().exists():
        if args.json:
            print("[]")
        else:
            print("no sessions recorded yet: record one with emgfeedback record", file=sys.stderr)
        return 0
    with SessionStore(create=False, write=False) as store:
        sessions = store.sessions()
        holds = store.hold_counts()
        warn_if_damaged(store)  # once the list read: a damaged list is the error instead
    rows = [{**s.as_dict(), "holds": holds.get(s.id, 0)} for s in sessions]  # None: its events are damaged
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no sessions recorded yet: record one with emgfeedback record", file=sys.stderr)
        return 0
    profiles = [(s.profile or "-") + (f" ({s.person})" if s.person else "") for s in sessions]
    width = max(16, *(len(p) for p in profiles))  # the STATUS column stays aligned under long profile names
    print(f"{'ID':>4}  {'DATE':<16}  {'DURATION':>8}  {'HOLDS':>5}  {'PROFILE':<{width}}  STATUS")
    for s, r, profile in zip(sessions, rows, profiles, strict=True):
        print(
            f"{s.id:>4}  {s.started.strftime('%Y-%m-%d %H:%M'):<16}  {_duration(s.duration_s):>8}  "
            f"{'?' if r['holds'] is None else r['holds']:>5}  {profile:<{width}}  {s.status}"
        )
    return 0
