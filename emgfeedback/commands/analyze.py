"""``emgfeedback analyze``: fatigue within holds (MDF, MNF, RMS trends) of any recording file."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import numpy as np

from emgfeedback.commands._common import add_filter_args, filter_spec
from emgfeedback.commands._recording import add_reader_args, choose, open_file
from emgfeedback.errors import CommandError
from emgfeedback.io.files import Recording


def hold_span(text: str) -> tuple[float, float]:
    """``12.5-40`` -> (12.5, 40.0), seconds from the file's first sample."""
    try:
        a, b = (float(p) for p in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"hold {text!r} is not START-END in seconds, e.g. 12.5-40") from None
    if not (math.isfinite(a) and math.isfinite(b) and 0 <= a < b):
        raise argparse.ArgumentTypeError(f"hold {text!r} must have 0 <= START < END, e.g. 12.5-40")
    return a, b


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="fatigue within holds of a recording: median/mean frequency slopes and RMS change",
        description="Runs the live filter chain (offset, band-pass, mains notch) over the file, then for each hold "
        "the same causal 1 s windows every 250 ms as the live hold summary: MDF at start and end, MDF and MNF "
        "slopes in Hz/s and the RMS change in %%. A falling MDF (negative slope) is the standard sign of fatigue.",
        epilog="examples:\n  emgfeedback analyze hold.csv --fs 1000 --hold 5-65\n"
        "  emgfeedback analyze trial.txt --columns 0,1 --mains 60 --hold 2-30 --hold 40-70 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="a recording (any file `emgfeedback inspect` reads)")
    p.add_argument("--fs", type=float, default=None, metavar="HZ", help="sample rate, if the file does not state it")
    p.add_argument(
        "--columns", default=None, metavar="A,B,...", help="channels to analyze, by index or name (default: the EMG ones)"
    )
    add_reader_args(p)
    p.add_argument(
        "--hold", type=hold_span, action="append", required=True, metavar="START-END", help="a hold, seconds (repeatable)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_filter_args(p)
    p.set_defaults(func=run)


def read_file(args: argparse.Namespace) -> Recording:
    """The file through the readers (any format ``inspect`` reads): the channels asked for, at the file's or --fs's rate."""
    rec = open_file(args, args.file)
    try:
        sel = choose(args, rec)  # refuses two rates at once and says what it cut
        data = sel.read()
    finally:
        rec.close()
    units = tuple(c.units or "units" for c in sel.channels)
    return Recording(rec.path, np.ascontiguousarray(data), sel.fs, sel.names, units, sel)


def analyze(rec: Recording, holds: list[tuple[float, float]], args: argparse.Namespace) -> dict[str, Any]:
    """The ``holds`` JSON: the live chain over the whole file, then each hold's fatigue figures."""
    from emgfeedback.dsp.pipeline import Pipeline
    from emgfeedback.dsp.spectra import analyze_span

    assert rec.fs is not None
    fs = float(rec.fs)
    pipeline = Pipeline(filter_spec(args, fs))
    filtered = pipeline.process(np.asarray(rec.data, dtype=np.float64)).filtered
    n = filtered.shape[0]
    out = []
    for a, b in holds:
        i, j = round(a * fs), round(b * fs)
        if j > n:
            raise CommandError(f"hold {a:g}-{b:g} s ends after the recording ({n / fs:.2f} s): shorten it")
        channels = analyze_span(filtered[i:j], fs, rec.names)
        out.append({"start_s": i / fs, "end_s": j / fs, "channels": channels})
    return {"file": str(rec.path), "fs": fs, "holds": out}


def _fmt(v: object, spec: str) -> str:
    return "--" if v is None else format(v, spec)


def run(args: argparse.Namespace) -> int:
    rec = read_file(args)
    result = analyze(rec, args.hold, args)
    out = sys.stdout
    if args.json:
        json.dump(result, out, indent=2)
        out.write("\n")
        return 0
    for h in result["holds"]:
        print(f"hold {h['start_s']:.2f}-{h['end_s']:.2f} s", file=out)
        for c in h["channels"]:
            print(
                f"  {c['name']:<18} MDF {_fmt(c['mdf_start_hz'], '.1f')} -> {_fmt(c['mdf_end_hz'], '.1f')} Hz "
                f"({_fmt(c['mdf_slope_hz_per_s'], '+.3f')} Hz/s), MNF {_fmt(c['mnf_slope_hz_per_s'], '+.3f')} Hz/s, "
                f"RMS {_fmt(c['rms_change_pct'], '+.1f')} %",
                file=out,
            )
    return 0
