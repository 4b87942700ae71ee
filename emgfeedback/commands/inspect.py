"""``emgfeedback inspect FILE``: what a recording holds, as read: format, duration, channels, notes.

The first thing to run on a file from another system: it shows which channels are EMG, each
channel's rate and length, and what the reader ignored or assumed, before any command uses it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from emgfeedback.commands._recording import add_reader_args, open_file
from emgfeedback.io.readers import Recording


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "inspect",
        help="show what a recording file holds: format, duration, channels (name, units, rate, samples, kind)",
        description="Read a recording (text/CSV, OpenBCI, BrainFlow, OpenSignals, Delsys, DataLOG, Arduino log, "
        "EDF/BDF, XDF) and show its format, duration, one row per channel and what was cut or ignored.",
        epilog="example:\n  emgfeedback inspect knee_flexion.txt\n  emgfeedback inspect session.edf --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="the recording to inspect")
    p.add_argument("--json", action="store_true", help="print JSON (keys format, duration_s, channels, notes)")
    add_reader_args(p)
    p.set_defaults(func=run)


def as_dict(rec: Recording) -> dict[str, Any]:
    """The ``inspect --json`` document."""
    notes = list(rec.notes)
    notes += [f"annotation at {a.onset_s:.3f} s: {a.text}" for a in rec.annotations[:20]]
    if len(rec.annotations) > 20:
        notes.append(f"... and {len(rec.annotations) - 20} more annotation(s)")
    duration = rec.duration_s
    return {
        "format": rec.format,
        "duration_s": None if duration is None else round(duration, 6),
        "channels": [
            {
                "index": c.index,
                "name": c.name,
                "units": c.units,
                "fs": c.fs,
                "samples": c.samples,
                "kind": c.kind.value,
                "notes": list(c.notes),
            }
            for c in rec.channels
        ],
        "notes": notes,
    }


def _table(doc: dict[str, Any]) -> str:
    duration = (
        "unknown (no rate in the file: give --fs to other commands)"
        if doc["duration_s"] is None
        else f"{doc['duration_s']:.3f} s"
    )
    lines = [f"format: {doc['format']}", f"duration: {duration}", ""]
    rows = [("index", "name", "units", "fs (Hz)", "samples", "kind", "notes")]
    for c in doc["channels"]:
        fs = "?" if c["fs"] is None else f"{c['fs']:.6g}"
        rows.append((str(c["index"]), c["name"], c["units"] or "-", fs, str(c["samples"]), c["kind"], "; ".join(c["notes"])))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for r in rows:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(6)) + "  " + r[6])
    if doc["notes"]:
        lines += ["", "notes:", *(f"  - {n}" for n in doc["notes"])]
    emg = [c for c in doc["channels"] if c["kind"] == "emg"]
    lines.append("")
    if emg:
        lines.append(f"EMG channels (used when --columns is not given): {', '.join(str(c['index']) for c in emg)}")
    else:
        lines.append("no channel looks like EMG: choose channels with --columns INDEX,... or NAME,...")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    rec = open_file(args, args.file)
    try:
        doc = as_dict(rec)
    finally:
        rec.close()
    if args.json:
        json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(_table(doc))
    return 0
