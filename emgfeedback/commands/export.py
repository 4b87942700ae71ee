"""``emgfeedback export ID --format csv|edf|json|report``: write a session for other tools or a coach."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emgfeedback.errors import CommandError
from emgfeedback.progress import Progress
from emgfeedback.session.outputs import prepare_out_dir
from emgfeedback.session.store import SessionStore, warn_if_damaged
from emgfeedback.session.summary import summarize

FORMATS = ("csv", "edf", "json", "report")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a session as CSV, EDF+, JSON or an HTML report",
        description="csv: session-ID.csv (time_s, per muscle %MVC and state) and session-ID-raw.csv (raw and "
        "envelope); edf: session-ID.edf, EDF+ with raw and envelope channels, holds and over-clench as "
        "annotations; json: session-ID.json, the session and per-hold statistics; report: session-ID.html, "
        "plots and tables for a coach. Files are created readable by you only.",
        epilog="examples:\n  emgfeedback export 3 --format report --out ~/Desktop\n  emgfeedback export 3 --format csv,edf",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("id", type=int, metavar="ID", help="session id (see emgfeedback sessions)")
    p.add_argument("--format", default="json", metavar="FMT", help="csv, edf, json, report, a comma list, or all (default json)")
    p.add_argument("--out", default=None, metavar="DIR", help="output directory (default: the current one)")
    p.set_defaults(func=run)


def parse_formats(text: str) -> list[str]:
    """``csv,edf`` -> ['csv', 'edf']; ``all`` -> every format."""
    items = [t.strip().lower() for t in text.split(",") if t.strip()]
    if items == ["all"]:
        return list(FORMATS)
    bad = [t for t in items if t not in FORMATS]
    if bad or not items:
        raise CommandError(f"format {bad[0] if bad else text!r} is not known: use {', '.join(FORMATS)} or all")
    return list(dict.fromkeys(items))


def run(args: argparse.Namespace) -> int:
    formats = parse_formats(args.format)
    with SessionStore(create=False, write=False) as store:
        summary = summarize(store, args.id)  # an unknown id fails here, before any file is made
        out = prepare_out_dir(Path(args.out) if args.out else None)
        total = max(summary.info.samples, 1)
        written: list[Path] = []
        for fmt in formats:
            if fmt == "json":
                from emgfeedback.session.export_json import export_json

                written.append(export_json(summary, out))
                continue
            with Progress(total, f"exporting {fmt}") as progress:
                if fmt == "csv":
                    from emgfeedback.session.export_csv import export_csv

                    written += export_csv(store, args.id, out, progress.advance)
                elif fmt == "edf":
                    from emgfeedback.session.export_edf import export_edf

                    written.append(export_edf(store, args.id, out, summary, progress.advance))
                else:
                    from emgfeedback.session.report import export_report

                    written.append(export_report(store, summary, out, progress.advance))
        warn_if_damaged(store)  # after the session read intact: its own damage is the error instead
    for path in written:
        print(path)
    print(f"exported session {args.id} ({', '.join(formats)}) to {out}", file=sys.stderr)
    return 0
