"""``emgfeedback live``: the dashboard on a real sensor (or any source)."""

from __future__ import annotations

import argparse

from emgfeedback.commands._common import (
    add_filter_args,
    add_lsl_args,
    add_source_args,
    chain_for,
    check_filter_args,
    check_filter_flags,
    default_profile,
    load_profile_by_name,
    lsl_publisher,
    positive,
    source_options,
)
from emgfeedback.commands._training import add_program_args, open_program_source, program_from_args, require_profile
from emgfeedback.config import parse_band
from emgfeedback.runtime.acquisition import Acquisition
from emgfeedback.runtime.live import LiveOptions, ProfileLike, RecorderFactory, build_acquisition


def add_dashboard_args(p: argparse.ArgumentParser) -> None:
    """Flags shared by ``live`` and ``demo``."""
    p.add_argument("--band", default="30-50", metavar="LOW-HIGH", help="target band in %%MVC (default 30-50)")
    p.add_argument("--auto-hold", action="store_true", help="start holds automatically when the muscles enter the band")
    p.add_argument("--theme", choices=["dark", "light"], default=None, help="colour theme (default: last used, dark)")
    p.add_argument("--fullscreen", action="store_true", help="start full screen (F11 toggles)")
    p.add_argument("--record", action="store_true", help="record the session from the start (R toggles)")
    p.add_argument("--screenshot", metavar="PNG", default=None, help="save a screenshot of the window just before quitting")
    p.add_argument(
        "--quit-after",
        type=positive("give the seconds before quitting, e.g. 3"),
        metavar="SECONDS",
        default=None,
        help="quit after SECONDS (for tests and docs)",
    )
    add_lsl_args(p)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "live",
        help="live biofeedback dashboard: gauges, band, holds, audio cues",
        description="Show each muscle's %MVC against the target band, time backbend holds (Space) and play cues.",
        epilog="examples:\n  emgfeedback live --source /dev/ttyACM0 --profile standard\n"
        "  emgfeedback live --source simulated --screenshot live.png --quit-after 3\n"
        "  emgfeedback live --source /dev/ttyACM0 --profile standard --program underbutt-isolation",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_source_args(p)
    p.add_argument(
        "--profile",
        metavar="NAME",
        default=None,
        help="calibration profile (see `emgfeedback profiles`); its filter settings are used, and a filter flag "
        "given must match them (simulated sources: the demo profile)",
    )
    add_filter_args(p, from_profile=True)
    add_dashboard_args(p)
    add_program_args(p)
    p.set_defaults(func=run)


def run_with(args: argparse.Namespace, spec: str, profile: ProfileLike | None, *, backlog_s: float = 0.0) -> int:
    """Build the acquisition factory and open the dashboard."""
    from emgfeedback.ui.app import ensure_display

    program = program_from_args(args, spec)  # a bad program or a missing profile fails before any window
    require_profile(program, profile)
    ensure_display(offscreen_ok=args.screenshot is not None or args.quit_after is not None)
    band = parse_band(args.band)
    options = source_options(args)
    # validate the filter flags now, at a nominal rate, so bad flags fail before any window opens
    check_filter_args(args)
    check_filter_flags(args, profile)
    publisher = lsl_publisher(args, spec)  # a missing mne-lsl is refused before any window opens

    def make(profile_: ProfileLike | None) -> Acquisition:
        live = LiveOptions(
            filters=chain_for(args, profile_),
            profile=profile_,
            band=band,
            auto_start=args.auto_hold,
            scale=profile_.scale if profile_ is not None else None,
            program=program,
            ease_out_pct=args.ease_out,
        )
        source = open_program_source(spec, options, program, args.speed)
        if backlog_s and hasattr(source, "backlog_s"):
            source.backlog_s = backlog_s
        acq = build_acquisition(source, live)
        if publisher is not None:
            publisher.attach(acq, profile=profile_.name if profile_ is not None else None)
        return acq

    from emgfeedback.ui.app import run_dashboard
    from emgfeedback.ui.main_window import DashboardConfig

    config = DashboardConfig(
        band=band, muscle_bands={}, source_text=spec, profile_name=profile.name if profile else None, theme=args.theme
    )
    recorder = _recorder_factory(profile)
    return run_dashboard(
        make,
        profile,
        config,
        screenshot=args.screenshot,
        quit_after=args.quit_after,
        recorder_factory=recorder,
        fullscreen=args.fullscreen,
        record=args.record,
        lsl=publisher,
    )


def _recorder_factory(profile: ProfileLike | None) -> RecorderFactory:
    from emgfeedback.session.recorder import dashboard_recorder_factory

    return dashboard_recorder_factory(profile)


def run(args: argparse.Namespace) -> int:
    profile = load_profile_by_name(args.profile) if args.profile else default_profile(args.source, args.channels)
    return run_with(args, args.source, profile)
