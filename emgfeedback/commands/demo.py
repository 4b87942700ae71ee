"""``emgfeedback demo``: the dashboard on the built-in simulated sensor, no hardware needed."""

from __future__ import annotations

import argparse

from emgfeedback.commands._common import add_filter_args, filter_spec
from emgfeedback.commands._training import ATHLETE, add_program_args
from emgfeedback.commands.live import add_dashboard_args, run_with


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the live dashboard on the simulated sensor (backbend holds, demo calibration)",
        description="Live biofeedback on simulated:backbend-hold with the built-in demo profile: two backbend "
        "holds that drift in and out of the band and over-clench the glute max. Holds start automatically; "
        "Space starts and stops them by hand.",
        epilog="examples:\n  emgfeedback demo\n  emgfeedback demo --screenshot demo.png --quit-after 3\n"
        "  emgfeedback demo --program underbutt-isolation   (a simulated athlete follows the program)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--scenario", default="backbend-hold", help="simulated scenario (default backbend-hold)")
    p.add_argument("--channels", type=int, default=4, help="simulated muscles, 1-4 (default 4)")
    add_filter_args(p)
    add_dashboard_args(p)
    add_program_args(p)
    p.set_defaults(func=run, auto_hold=True)


def run(args: argparse.Namespace) -> int:
    from emgfeedback.calibration import demo_profile

    for name, value in (("protocol", "auto"), ("baud", None), ("fs", None), ("columns", None)):
        setattr(args, name, getattr(args, name, value))
    args.auto_hold = True
    # start 12 s into the scenario so the first screen already shows a hold under way
    profile = demo_profile(args.channels, filter_spec(args, 1000.0))  # made with the chain the flags ask for
    if args.program:  # the simulated athlete follows the program from its start
        return run_with(args, ATHLETE, profile)
    return run_with(args, f"simulated:{args.scenario}", profile, backlog_s=12.0)
