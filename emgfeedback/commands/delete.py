"""``emgfeedback delete ID``: remove a session and its samples from the store (the freed pages are overwritten)."""

from __future__ import annotations

import argparse
import sys

from emgfeedback.session.store import SessionStore


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "delete",
        help="delete a recorded session",
        description="Delete a session, its samples and events. On a terminal it asks first (unless --yes); "
        "in scripts (no terminal) it does not ask.",
        epilog="examples:\n  emgfeedback delete 3\n  emgfeedback delete 3 --yes",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("id", type=int, metavar="ID", help="session id (see emgfeedback sessions)")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with SessionStore(create=False) as store:
        info = store.session(args.id)
        if not args.yes and sys.stdin.isatty():
            answer = input(
                f"delete session {info.id} ({info.started.strftime('%Y-%m-%d %H:%M')}, {info.duration_s:.0f} s)? [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                print("not deleted", file=sys.stderr)
                return 1
        store.delete_session(info.id)
    print(f"deleted session {info.id}")
    return 0
