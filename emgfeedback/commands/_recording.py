"""Flags and helpers for commands that read a recording file (process, inspect, calibrate --from-recording)."""

from __future__ import annotations

import argparse
import sys

from emgfeedback.config import check_fs
from emgfeedback.errors import CommandError
from emgfeedback.io.readers import NAMES, Recording, Selection, open_recording, parse_columns, select


def add_reader_args(parser: argparse.ArgumentParser) -> None:
    """--format and --stream: how to read the file when its content is not enough."""
    parser.add_argument(
        "--format",
        default=None,
        metavar="NAME",
        help=f"read the file as this format instead of the detected one ({', '.join(NAMES)})",
    )
    parser.add_argument("--stream", default=None, metavar="NAME", help="XDF: the stream to use, by name or type")


def open_file(args: argparse.Namespace, path: str) -> Recording:
    """The recording at ``path``, read as ``--format`` says or as its content tells."""
    return open_recording(path, format=getattr(args, "format", None), stream=getattr(args, "stream", None))


def choose(args: argparse.Namespace, rec: Recording) -> Selection:
    """The channels ``--columns`` asks for (default: the EMG ones) at ``--fs`` or the file's rate; says what it cut."""
    if args.fs is not None:
        check_fs(args.fs)  # a bad --fs is refused before anything is compared with it
    sel = select(rec, parse_columns(args.columns), fs=args.fs)
    if sel.fs is None:
        raise CommandError(f"{rec.path.name}: the sample rate is not in the file: give it with --fs")
    for line in sel.messages:
        print(line, file=sys.stderr)
    return sel
