"""``emgfeedback process``: run the live chain offline over a recording and write the envelope CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

import numpy as np

from emgfeedback.commands._common import add_filter_args, chain_for, check_filter_flags, load_profile_by_name
from emgfeedback.config import FilterSpec
from emgfeedback.dsp.latency import cue_latency_ms
from emgfeedback.dsp.pipeline import Pipeline
from emgfeedback.errors import CommandError
from emgfeedback.io.files import Recording, load_recording, parse_columns
from emgfeedback.progress import Progress
from emgfeedback.session.outputs import atomic_output

#: Samples per processing block: bounds memory and drives the progress bar.
BLOCK = 60_000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "process",
        help="run the filter chain offline over a recording, write the envelope as CSV",
        description="Run the same causal chain as live (DC removal, band-pass, notch, envelope estimator) over a "
        "recording and write CSV with header time_s,ch0_envelope,... (envelope in the input's units).",
        epilog="example:\n"
        "  emgfeedback process knee_flexion.txt --fs 1000 --columns 1,3 --mains 60 --out knee.csv\n"
        "  (a text file of columns at 1 kHz, recorded where mains is 60 Hz)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "file", metavar="FILE", help="text recording: columns of numbers (space, tab or comma separated), or CSV with a header"
    )
    p.add_argument("--fs", type=float, default=None, metavar="HZ", help="sample rate (required unless the file states it)")
    p.add_argument("--columns", default=None, metavar="0,1,...", help="data columns to process (default: all)")
    p.add_argument("--out", default=None, metavar="OUT.csv", help="output CSV (default: standard output)")
    p.add_argument(
        "--profile",
        metavar="NAME",
        default=None,
        help="use a calibration profile's filter settings and estimator (a filter flag given must match them)",
    )
    add_filter_args(p, from_profile=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rec = load_recording(args.file).select(parse_columns(args.columns))
    fs = args.fs if args.fs is not None else rec.fs
    if fs is None:
        raise CommandError(f"{Path(args.file).name}: the sample rate is not in the file: give it with --fs")
    profile = load_profile_by_name(args.profile) if args.profile else None
    check_filter_flags(args, profile)  # a flag that contradicts the profile: one line, nothing written
    spec = chain_for(args, profile)(fs)
    out_path = Path(args.out) if args.out else None
    if out_path is None:
        try:
            _write(sys.stdout, rec, spec)
            sys.stdout.flush()
        except BrokenPipeError:
            raise  # piped into `head`: the CLI stops quietly
        except OSError as exc:
            raise CommandError(f"standard output cannot be written ({exc.strerror}): write to a file with --out") from None
        return 0
    if out_path.is_dir():
        raise CommandError(f"{out_path}: is a directory: give a file name for --out")
    if out_path.exists() and not out_path.is_file():  # a device or a pipe (/dev/stdout, a FIFO): write in place
        try:
            with out_path.open("w", encoding="utf-8", newline="") as stream:
                _write(stream, rec, spec)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise CommandError(f"{out_path}: cannot be written ({exc.strerror}): choose another --out") from None
    else:
        with atomic_output(out_path) as stream:  # a failure (disk full) leaves no partial file
            _write(stream, rec, spec)
    print(
        f"wrote {rec.data.shape[0]} rows x {rec.channels} channels to {out_path} "
        f"(estimator {spec.estimator.value}, measured cue delay ~{cue_latency_ms(spec):.0f} ms)",
        file=sys.stderr,
    )
    return 0


def _write(stream: TextIO, rec: Recording, spec: FilterSpec) -> None:
    """The envelope CSV of ``rec`` through the live chain, block by block (bounded memory, a progress bar)."""
    pipeline = Pipeline(spec)
    stream.write("time_s," + ",".join(f"ch{i}_envelope" for i in range(rec.channels)) + "\n")
    n = rec.data.shape[0]
    fmt = ["%.4f"] + ["%.6g"] * rec.channels
    with Progress(n, "processing", enabled=None if n > 10 * BLOCK else False) as progress:
        for start in range(0, n, BLOCK):
            block = rec.data[start : start + BLOCK]
            env = pipeline.process(block).envelope
            t = (start + np.arange(block.shape[0])) / spec.fs
            np.savetxt(stream, np.column_stack([t, env]), fmt=fmt, delimiter=",")
            progress.advance(block.shape[0])
