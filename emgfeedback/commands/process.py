"""``emgfeedback process``: run the live chain offline over a recording and write the envelope CSV.

With ``--profile`` it also writes each muscle's %MVC and band state, computed by the same chain,
normalization and feedback engine (hysteresis, dwell) a live run builds, block by block.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

import numpy as np

from emgfeedback.commands._common import add_filter_args, chain_for, check_filter_flags, filter_spec, load_profile_by_name
from emgfeedback.commands._recording import add_reader_args, choose, open_file
from emgfeedback.config import StreamInfo, parse_band
from emgfeedback.dsp.latency import cue_latency_ms
from emgfeedback.dsp.pipeline import Pipeline
from emgfeedback.errors import CommandError
from emgfeedback.feedback import FeedbackEngine, State
from emgfeedback.io.readers import Selection
from emgfeedback.progress import Progress
from emgfeedback.runtime.live import LiveOptions, ProfileLike, channel_names, make_feedback, make_pipeline
from emgfeedback.session.outputs import atomic_output

#: Samples per processing block: bounds memory and drives the progress bar.
BLOCK = 60_000
STATE_KEYS = np.array([State(i).key for i in range(len(State))], dtype=object)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "process",
        help="run the filter chain offline over a recording, write the envelope as CSV",
        description="Run the same causal chain as live (DC removal, band-pass, notch, envelope estimator) over a "
        "recording and write CSV with header time_s,ch0_envelope,... (envelope in the input's units). "
        "With --profile, the profile's filter settings and estimator are used, and the CSV also has <muscle>_percent "
        "and <muscle>_state (below/in/over/unknown) per channel, as live. "
        "Run `emgfeedback inspect FILE` first to see the file's channels.",
        epilog="examples:\n"
        "  emgfeedback process knee_flexion.txt --columns BF,ST --mains 60 --out knee.csv\n"
        "  emgfeedback process log.txt --fs 1000 --columns 1,3 --profile standard --out states.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="a recording: text/CSV, OpenBCI, OpenSignals, Delsys, EDF/BDF, XDF, ...")
    p.add_argument("--fs", type=float, default=None, metavar="HZ", help="sample rate (required unless the file states it)")
    p.add_argument(
        "--columns", default=None, metavar="COLS", help="channels by index or name, e.g. 1,3 or RF,VM (default: the EMG ones)"
    )
    p.add_argument("--out", default=None, metavar="OUT.csv", help="output CSV (default: standard output)")
    p.add_argument(
        "--profile",
        default=None,
        metavar="NAME",
        help="calibration profile: its filter settings and estimator (a filter flag given must match them), and "
        "<muscle>_percent and <muscle>_state columns, exactly as live",
    )
    p.add_argument("--band", default="30-50", metavar="LOW-HIGH", help="target band in %%MVC with --profile (default 30-50)")
    add_reader_args(p)
    add_filter_args(p, from_profile=True)
    p.set_defaults(func=run)


class _Chain:
    """The pipeline (and, with a profile, the feedback engine) a live run over this selection would build."""

    def __init__(self, args: argparse.Namespace, sel: Selection, profile: ProfileLike | None) -> None:
        assert sel.fs is not None
        self.engine: FeedbackEngine | None = None
        self.muscles: list[str] = []
        if profile is None:
            self.pipeline = Pipeline(filter_spec(args, sel.fs))
            return
        info = StreamInfo(
            fs=sel.fs,
            channels=len(sel.channels),
            units=sel.units,
            channel_names=sel.names,
            description=f"replay:{sel.recording.path.name}",
        )
        opts = LiveOptions(
            filters=chain_for(args, profile),
            profile=profile,
            band=parse_band(args.band),
            scale=profile.scale if profile is not None else None,
        )
        self.pipeline = make_pipeline(info, opts)
        self.engine = make_feedback(info, opts)
        self.muscles = channel_names(info, profile)


def run(args: argparse.Namespace) -> int:
    profile = load_profile_by_name(args.profile) if args.profile else None
    check_filter_flags(args, profile)
    rec = open_file(args, args.file)
    try:
        sel = choose(args, rec)
        if sel.fs is None:
            raise CommandError(f"{Path(args.file).name}: the sample rate is not in the file: give it with --fs")
        chain = _Chain(args, sel, profile)
        return _output(args, sel, chain)
    finally:
        rec.close()


def _output(args: argparse.Namespace, sel: Selection, chain: _Chain) -> int:
    out_path = Path(args.out) if args.out else None
    if out_path is None:
        try:
            _write(sys.stdout, sel, chain)
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
                _write(stream, sel, chain)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise CommandError(f"{out_path}: cannot be written ({exc.strerror}): choose another --out") from None
    else:
        with atomic_output(out_path) as stream:  # a failure (disk full) leaves no partial file
            _write(stream, sel, chain)
    print(
        f"wrote {sel.samples} rows x {len(sel.channels)} channels to {out_path} "
        f"(estimator {chain.pipeline.spec.estimator.value}, measured cue delay ~{cue_latency_ms(chain.pipeline.spec):.0f} ms)",
        file=sys.stderr,
    )
    return 0


def write_rows(stream: TextIO, table: np.ndarray, fmt: list[str]) -> None:
    """Rows of ``table`` as CSV in one C-level format call (numpy's savetxt formats row by row in Python)."""
    row = ",".join(fmt) + "\n"
    stream.write((row * table.shape[0]) % tuple(table.ravel().tolist()))


def _write(stream: TextIO, sel: Selection, chain: _Chain) -> None:
    """The CSV of ``sel`` through the chain, block by block (bounded memory, a progress bar)."""
    k = len(sel.channels)
    header = ["time_s", *(f"ch{i}_envelope" for i in range(k))]
    fmt = ["%.4f"] + ["%.6g"] * k
    if chain.engine is not None:
        for muscle in chain.muscles:
            header += [f"{muscle}_percent", f"{muscle}_state"]
            fmt += ["%.3f", "%s"]
    stream.write(",".join(header) + "\n")
    fs = chain.pipeline.spec.fs
    n = sel.samples
    start = 0
    with Progress(n, "processing", enabled=None if n > 10 * BLOCK else False) as progress:
        for block in sel.blocks(BLOCK):
            out = chain.pipeline.process(block)
            t = (start + np.arange(block.shape[0])) / fs
            if chain.engine is None:
                table = np.column_stack([t, out.envelope])
            else:
                states = chain.engine.process(start, out.percent).states
                table = np.empty((block.shape[0], 1 + 3 * k), dtype=object)
                table[:, 0] = t
                table[:, 1 : 1 + k] = out.envelope
                table[:, 1 + k :: 2] = out.percent
                table[:, 2 + k :: 2] = STATE_KEYS[states.astype(np.int64)]
            write_rows(stream, table, fmt)
            start += block.shape[0]
            progress.advance(block.shape[0])
