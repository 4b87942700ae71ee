"""``emgfeedback coach``: one screen for a class, every athlete's muscles live over Lab Streaming Layer."""

from __future__ import annotations

import argparse

from emgfeedback.commands._common import positive


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "coach",
        help="one screen for a class: every athlete's %%MVC gauges, hold timer and connection, over LSL",
        description="Find the athletes' NAME-mvc streams on the local network (each athlete runs "
        "`emgfeedback live --lsl --lsl-name NAME`) and show one row per athlete: name, a gauge per muscle in its "
        "state colour, the hold timer and the connection (live / stale / gone). Keys 1-9 focus one athlete, "
        "Esc shows all, F11 full screen, Ctrl+Q quits.",
        epilog="examples:\n  emgfeedback coach\n  emgfeedback coach --stream ana --stream ben --fullscreen\n"
        "  emgfeedback coach --screenshot class.png --quit-after 5",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--stream",
        action="append",
        default=None,
        metavar="NAME",
        help="an athlete's --lsl-name (repeat for each; default: every MVC stream found)",
    )
    p.add_argument("--fullscreen", action="store_true", help="start full screen (F11 toggles)")
    p.add_argument("--screenshot", metavar="PNG", default=None, help="save a screenshot just before quitting")
    p.add_argument(
        "--quit-after",
        type=positive("give the seconds before quitting, e.g. 5"),
        metavar="SECONDS",
        default=None,
        help="quit after SECONDS (for tests and docs)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emgfeedback.io import extras

    extras.lsl()  # a missing mne-lsl: one line with the install command, before any window opens
    from emgfeedback.ui.coach_window import run_coach

    return run_coach(args.stream, screenshot=args.screenshot, quit_after=args.quit_after, fullscreen=args.fullscreen)
