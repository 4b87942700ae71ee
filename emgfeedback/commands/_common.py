"""Flags and helpers shared by several commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from emgfeedback.config import FilterSpec, parse_mains
from emgfeedback.errors import CliError
from emgfeedback.io.files import parse_columns
from emgfeedback.io.spec import SourceOptions, describe_spec
from emgfeedback.live import ProfileLike


def add_source_args(parser: argparse.ArgumentParser, *, required: bool = True, default: str | None = None) -> None:
    """--source and the options some sources need."""
    parser.add_argument(
        "--source",
        required=required and default is None,
        default=default,
        metavar="SRC",
        help="serial port or pyserial URL (/dev/ttyACM0, COM3, loop://), simulated[:SCENARIO] or replay:FILE",
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
    parser.add_argument("--columns", default=None, metavar="0,1,...", help="data columns to use from a replayed file")


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


def add_filter_args(parser: argparse.ArgumentParser) -> None:
    """Flags for the filter chain."""
    parser.add_argument("--mains", default="50", help="mains notch: 50, 60 or off (default 50)")
    parser.add_argument("--notch-harmonics", action="store_true", help="also notch the mains harmonics")
    parser.add_argument(
        "--window-ms",
        type=float,
        default=150.0,
        metavar="MS",
        help="RMS envelope window in ms (default 150; shorter = faster cues, noisier)",
    )
    parser.add_argument("--band-low", type=float, default=20.0, metavar="HZ", help="band-pass lower edge (default 20)")
    parser.add_argument(
        "--band-high", type=float, default=None, metavar="HZ", help="band-pass upper edge (default min(450, 0.45 fs))"
    )
    parser.add_argument(
        "--pre-rectified", action="store_true", help="the sensor outputs an envelope (MyoWare ENV): smooth only, no band-pass"
    )


def filter_spec(args: argparse.Namespace, fs: float) -> FilterSpec:
    """The FilterSpec the flags of :func:`add_filter_args` describe, at rate ``fs``."""
    return FilterSpec(
        fs=fs,
        band_low_hz=args.band_low,
        band_high_hz=args.band_high,
        mains=parse_mains(args.mains),
        notch_harmonics=args.notch_harmonics,
        window_ms=args.window_ms,
        input_mode="pre-rectified" if args.pre_rectified else "raw",
    )


def load_profile_by_name(name: str) -> ProfileLike:
    """The calibration profile called ``name`` (display name, slug or path), from the calibration package."""
    try:
        from emgfeedback.calibration import load_profile
    except ImportError:
        raise CliError(f"profile {name!r} cannot be loaded: calibration profiles are not available in this build") from None
    return load_profile(name)


def _filter_flags_given(args: argparse.Namespace) -> bool:
    """Whether any filter flag differs from its default."""
    defaults = argparse.ArgumentParser()
    add_filter_args(defaults)
    return any(getattr(args, k) != v for k, v in vars(defaults.parse_args([])).items())


def chain_for(args: argparse.Namespace, profile: ProfileLike | None) -> Callable[[float], FilterSpec]:
    """The filter chain: the profile's own (so %MVC means what the calibration measured) unless flags are given."""
    spec = getattr(profile, "filters", None)
    if isinstance(spec, FilterSpec) and not _filter_flags_given(args):
        return lambda fs: spec.with_(fs=fs)
    return lambda fs: filter_spec(args, fs)


def default_profile(spec: str, channels: int | None) -> ProfileLike | None:
    """The demo profile for simulated sources (so %MVC means something); None otherwise."""
    if describe_spec(spec) != "simulated":
        return None
    try:
        from emgfeedback.calibration import demo_profile
    except ImportError:
        return None
    return demo_profile(channels or 4)
