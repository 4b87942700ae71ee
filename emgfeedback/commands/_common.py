"""Flags and helpers shared by several commands."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from emgfeedback.config import MAX_FS, Envelope, FilterSpec, InputMode, Mains, parse_envelope, parse_mains
from emgfeedback.errors import CommandError, SettingsError
from emgfeedback.io.files import parse_columns
from emgfeedback.io.spec import SourceOptions, describe_spec
from emgfeedback.runtime.live import ProfileLike
from emgfeedback.runtime.lsl_out import LslPublisher


def add_source_args(parser: argparse.ArgumentParser, *, required: bool = True, default: str | None = None) -> None:
    """--source and the options some sources need."""
    parser.add_argument(
        "--source",
        required=required and default is None,
        default=default,
        metavar="SRC",
        help="serial port or pyserial URL (/dev/ttyACM0, COM3, loop://), simulated[:SCENARIO], replay:FILE, "
        "lsl:NAME (lsl:type=EMG, lsl:source_id=ID) or brainflow:BOARD[?key=value&...]",
    )
    parser.add_argument(
        "--protocol", default="auto", choices=["auto", "frame", "text", "p2"], help="serial stream format (default: auto-detect)"
    )
    parser.add_argument("--baud", type=int, default=None, help="serial baud rate (default 500000; P2: 57600; text: 115200)")
    parser.add_argument(
        "--fs",
        type=float,
        default=None,
        metavar="HZ",
        help="sample rate in Hz (required for text streams and files that do not state it)",
    )
    parser.add_argument("--channels", type=int, default=None, help="channel count for simulated sources (1-4)")
    parser.add_argument(
        "--columns",
        default=None,
        metavar="COLS",
        help="channels of a replayed file, by index or name: 1,3 or RF,VM (default: its EMG channels)",
    )


def add_lsl_args(parser: argparse.ArgumentParser) -> None:
    """--lsl and --lsl-name: publish the run on Lab Streaming Layer (off by default: any machine on the network sees it)."""
    parser.add_argument(
        "--lsl",
        action="store_true",
        help="publish raw EMG, %%MVC + band states and event markers as LSL streams (visible on the local network)",
    )
    parser.add_argument(
        "--lsl-name",
        default="emgfeedback",
        metavar="NAME",
        help="LSL stream name (default emgfeedback; the coach shows it as the athlete's name)",
    )


def lsl_publisher(args: argparse.Namespace, device: str) -> LslPublisher | None:
    """The LSL publisher --lsl asks for (None without --lsl); refuses a missing mne-lsl with the install hint."""
    if not getattr(args, "lsl", False):
        return None
    name = str(args.lsl_name).strip()
    if not name:
        raise CommandError("--lsl-name is empty: give a stream name, e.g. --lsl-name ana")
    return LslPublisher(name, device=device)


def positive(fix: str) -> Callable[[str], float]:
    """An argparse type for a finite number above zero; ``fix`` says what to give instead."""

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number: {fix}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{text} is not a positive number: {fix}")
        return value

    return convert


#: The --seconds type of ``record`` and ``monitor``: a finite duration above zero.
SECONDS = positive("give a duration in seconds, e.g. 60")


def mains_flag(text: str) -> Mains:
    """An argparse type for --mains: 50, 60 or off (the same rule as a profile's setting)."""
    try:
        return parse_mains(text)
    except SettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def envelope_flag(text: str) -> Envelope:
    """An argparse type for --envelope: rms or adaptive (the same rule as a profile's setting)."""
    try:
        return parse_envelope(text)
    except SettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def source_options(args: argparse.Namespace, *, realtime: bool = True) -> SourceOptions:
    """SourceOptions from the flags :func:`add_source_args` added."""
    return SourceOptions(
        fs=args.fs,
        channels=args.channels,
        columns=parse_columns(args.columns),
        protocol=args.protocol,
        baud=args.baud,
        realtime=realtime,
    )


def add_filter_args(parser: argparse.ArgumentParser, *, from_profile: bool = False) -> None:
    """Flags for the filter chain; each defaults to None so "given" means typed, and a profile's setting stands otherwise."""
    dflt = "the profile's, else " if from_profile else ""
    same = " (default: the profile's)" if from_profile else ""
    parser.add_argument("--mains", type=mains_flag, default=None, help=f"mains notch: 50, 60 or off (default {dflt}50)")
    parser.add_argument("--notch-harmonics", action="store_true", default=None, help=f"also notch the mains harmonics{same}")
    parser.add_argument(
        "--window-ms",
        type=float,
        default=None,
        metavar="MS",
        help=f"RMS envelope window in ms (default {dflt}150; shorter = faster cues, noisier)",
    )
    parser.add_argument(
        "--envelope",
        type=envelope_flag,
        default=None,
        metavar="EST",
        help=f"amplitude estimator: rms (moving RMS over --window-ms) or adaptive (quicker, calm at an edge) (default {dflt}rms)",
    )
    parser.add_argument("--band-low", type=float, default=None, metavar="HZ", help=f"band-pass lower edge (default {dflt}20)")
    parser.add_argument(
        "--band-high", type=float, default=None, metavar="HZ", help=f"band-pass upper edge (default {dflt}min(450, 0.45 fs))"
    )
    parser.add_argument(
        "--pre-rectified",
        action="store_true",
        default=None,
        help=f"the sensor outputs an envelope (MyoWare ENV): smooth only, no band-pass{same}",
    )


#: Filter flag (argparse dest) -> the FilterSpec field it sets.
FILTER_FLAGS = {
    "mains": "mains",
    "notch_harmonics": "notch_harmonics",
    "window_ms": "window_ms",
    "envelope": "envelope",
    "band_low": "band_low_hz",
    "band_high": "band_high_hz",
    "pre_rectified": "input_mode",
}


def given_filters(args: argparse.Namespace) -> dict[str, Any]:
    """The FilterSpec fields set by filter flags actually given; a flag left out is absent."""
    out: dict[str, Any] = {}
    for flag, key in FILTER_FLAGS.items():
        value = getattr(args, flag, None)
        if value is not None:
            out[key] = InputMode.PRE_RECTIFIED if key == "input_mode" else value
    return out


def filter_spec(args: argparse.Namespace, fs: float) -> FilterSpec:
    """The FilterSpec the flags of :func:`add_filter_args` describe at rate ``fs`` (defaults for flags not given)."""
    return FilterSpec(fs=fs, **given_filters(args))


def check_filter_args(args: argparse.Namespace) -> None:
    """Refuse now, before a device opens, filter flags that are wrong at any rate.

    Flags that depend on the rate (a band edge near Nyquist) are checked at ``--fs`` when given, and
    otherwise when the source opens and states its real rate, so a 2 kHz board may use ``--band-high 800``.
    """
    filter_spec(args, args.fs if args.fs is not None else MAX_FS)


def load_profile_by_name(name: str) -> ProfileLike:
    """The calibration profile called ``name`` (display name, slug or path), from the calibration package."""
    from emgfeedback.calibration import load_profile

    return load_profile(name)


def chain_for(args: argparse.Namespace, profile: ProfileLike | None) -> Callable[[float], FilterSpec]:
    """The filter chain: the profile's own (so %MVC means what the calibration measured), with the given flags on top.

    A given flag that differs from the profile makes the profile refuse the chain when the source opens.
    """
    if profile is None:
        return lambda fs: filter_spec(args, fs)
    spec = profile.filters
    given = given_filters(args)
    return lambda fs: spec.with_(fs=fs, **given)


def check_filter_flags(args: argparse.Namespace, profile: ProfileLike | None) -> None:
    """Refuse now, before a device opens, filter flags that contradict the profile (only the flags given are compared)."""
    if profile is not None:
        profile.check_filters(chain_for(args, profile)(profile.filters.fs))


def default_profile(spec: str, channels: int | None) -> ProfileLike | None:
    """The demo profile for simulated sources (so %MVC means something); None otherwise."""
    if describe_spec(spec) != "simulated":
        return None
    from emgfeedback.calibration import demo_profile

    return demo_profile(channels or 4)
