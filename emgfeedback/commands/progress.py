"""``emgfeedback progress``: how training went per session and per week (holds, band, over-clench, programs, fatigue, MVC)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "progress",
        help="progress per session and per week: hold time, time in band, over-clench, program success, fatigue, MVC",
        description="Reads the stored hold summaries (no samples). Per session and per ISO week: holds and hold time, "
        "time in band %%, over-clench episodes per minute of hold, program success rate, the median-frequency "
        "(fatigue) slope; and each calibration's MVC per muscle, so drift in electrode placement shows.",
        epilog="examples:\n  emgfeedback progress\n  emgfeedback progress --profile standard --since 2026-11-01 --json\n"
        "  emgfeedback progress --report progress.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--profile", metavar="NAME", default=None, help="only sessions recorded with this calibration profile")
    p.add_argument("--since", metavar="DATE", default=None, help="only sessions on or after this day (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--report", metavar="OUT.html", default=None, help="also write an HTML report with one plot per figure")
    p.set_defaults(func=run)


def _f(v: object, spec: str = ".0f") -> str:
    return "--" if v is None else format(v, spec)


def run(args: argparse.Namespace) -> int:
    from emgfeedback.session.store import SessionStore
    from emgfeedback.session.trends import collect, parse_date

    since = parse_date(args.since) if args.since else None
    with SessionStore() as store:
        data = collect(store, profile=args.profile, since=since)
    if args.report:
        from emgfeedback.session.trends_report import write_report

        path = write_report(data, Path(args.report))
        print(f"wrote {path}", file=sys.stderr)
    out = sys.stdout
    if args.json:
        json.dump(data.as_dict(), out, indent=2)
        out.write("\n")
        return 0
    if not data.sessions:
        print("no sessions yet" + (f" for profile {args.profile!r}" if args.profile else "") + ": record one with "
              "'emgfeedback record' or the dashboard (R)", file=out)  # fmt: skip
        return 0
    head = f"{'':<18}{'holds':>6}{'hold s':>8}{'in band':>9}{'clench/min':>11}{'success':>9}{'MDF Hz/s':>10}"
    for title, periods in (("week", data.weeks), ("session", data.sessions)):
        print(f"per {title}:\n{head}", file=out)
        for p in periods:
            d = p.as_dict()
            print(
                f"{p.label:<18}{d['holds']:>6}{d['hold_time_s']:>8.0f}{_f(d['time_in_band_pct']):>8}%"
                f"{_f(d['overclench_per_min'], '.2f'):>11}{_f(d['program_success_pct']):>8}%"
                f"{_f(d['mdf_slope_hz_per_s'], '+.3f'):>10}",
                file=out,
            )
    if data.calibrations:
        print("calibrations (MVC per muscle):", file=out)
        for c in data.calibrations:
            mvcs = ", ".join(f"{m} {v:.1f}" for m, v in c.mvc.items())
            print(f"  {c.date} {c.profile}: {mvcs} {c.units}", file=out)
    return 0
