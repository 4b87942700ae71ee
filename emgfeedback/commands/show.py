"""``emgfeedback show ID``: one session's summary (holds, time in band, over-clench, gaps)."""

from __future__ import annotations

import argparse
import json

from emgfeedback.muscles import display_name
from emgfeedback.session.export_json import summary_document
from emgfeedback.session.store import SessionStore, warn_if_damaged
from emgfeedback.session.summary import SessionSummary, summarize
from emgfeedback.training.describe import fatigue_lines, underbutt_lines


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "show",
        help="show one session's summary",
        description="Holds with time in band, mean and peak %MVC and over-clench per muscle; gaps; settings.",
        epilog="examples:\n  emgfeedback show 3\n  emgfeedback show 3 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("id", type=int, metavar="ID", help="session id (see emgfeedback sessions)")
    p.add_argument("--json", action="store_true", help="the same document as export --format json")
    p.set_defaults(func=run)


def _num(value: object, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def text(summary: SessionSummary) -> str:
    """The human-readable summary."""
    info = summary.info
    meta = info.meta
    totals = summary.totals()
    stream = meta.get("stream") or {}
    lines = [
        f"session {info.id}  {info.started.strftime('%Y-%m-%d %H:%M:%S')}  {info.duration_s:.1f} s  {info.status}",
        f"source {meta.get('source') or '-'}  {info.channels} channels at {info.fs:g} Hz  "
        f"firmware {meta.get('firmware') or '-'}  profile {info.profile or '-'}"
        + (f"  person {info.person}" if info.person else ""),
        f"units: raw {meta.get('raw_units') or '-'}, envelope {meta.get('envelope_units') or '-'}"
        + (f"  ({stream.get('description')})" if stream.get("description") else ""),
        f"holds {totals['holds']} ({totals['hold_time_s']:.1f} s)  time in band {_num(totals['time_in_band_pct'], '{:.0f} %')}  "
        f"synergy {_num(totals['synergy_pct'], '{:.0f} %')}  over-clench episodes {totals['overclench_episodes']} "
        f"({totals['overclench_s']:.1f} s)  gaps {totals['gaps']} ({totals['gap_s']:.2f} s)",
    ]
    for h in summary.holds:
        note = " (recomputed: the hold was still running when recording ended)" if h.get("open_at_end") else ""
        lead = h.get("hamstring_lead_s")
        lines.append(
            f"\nhold {h['hold']}: from {h['session_start_s']:.1f} s for {h['duration_s']:.1f} s, synergy "
            f"{_num(h.get('synergy_pct'), '{:.0f} %')}, hamstring lead {_num(lead, '{:+.2f} s')}{note}"
        )
        lines.append(f"  {'muscle':<24} {'in band':>8} {'mean':>6} {'peak':>6} {'over':>5} {'over s':>7}")
        for m in h.get("muscles", []):
            lines.append(
                f"  {display_name(m['muscle']):<24} {_num(m.get('time_in_band_pct'), '{:.0f} %'):>8} "
                f"{_num(m.get('mean_pct_mvc'), '{:.0f}'):>6} {_num(m.get('peak_pct_mvc'), '{:.0f}'):>6} "
                f"{m.get('overclench_count', 0):>5} {_num(m.get('overclench_s')):>7}"
            )
        tags = h.get("program")
        if tags:
            verdict = {True: "succeeded", False: "failed", None: "abandoned (paused)"}[tags.get("success")]
            pct = tags.get("success_pct")
            lines.append(
                f"  program {tags['program']}: {tags['exercise']}, set {tags['set']} rep {tags['rep']} {verdict}"
                + (f" ({pct:.0f} % of the rep met the rule)" if pct is not None else "")
            )
        lines += [f"  underbutt {text}" for text in underbutt_lines(h.get("underbutt"))]
        lines += [f"  fatigue {text}" for text in fatigue_lines(h.get("fatigue"))]
    if summary.markers:
        lines.append(
            f"\n{len(summary.markers)} marker(s): " + ", ".join(str(m.get("text") or m["kind"]) for m in summary.markers[:10])
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    with SessionStore(create=False, write=False) as store:
        summary = summarize(store, args.id)
        warn_if_damaged(store)  # after the session read intact: its own damage is the error instead
    print(json.dumps(summary_document(summary), indent=2) if args.json else text(summary))
    return 0
