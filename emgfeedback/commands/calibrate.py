"""``emgfeedback calibrate``: a guided MVC calibration in the terminal, or a profile from a recording.

Live: rest baseline, then each muscle's maximal contractions with a countdown and a
level bar, driven by the same state machine and chain as the GUI wizard and live view.
With nobody at the keyboard (no terminal on stdin) failed trials repeat automatically up
to a limit. ``--from-recording`` makes a profile from MVC trials recorded elsewhere.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from emgfeedback.commands._calibrate_profile import base_muscles, check_target, finish, only_names, select, stdin_is_terminal
from emgfeedback.commands._calibrate_simulated import simulated_source
from emgfeedback.commands._common import (
    add_filter_args,
    add_source_args,
    chain_for,
    check_filter_flags,
    filter_spec,
    source_options,
)
from emgfeedback.commands._profile_save import check_destination
from emgfeedback.commands._recording import add_reader_args
from emgfeedback.errors import CommandError
from emgfeedback.io.sources import Source
from emgfeedback.muscles import KINDS, STANDARD, muscle_kind

SIM_REST_BETWEEN_S = 5.0
#: Distinct muscle names suggested for the columns of a recording, in order.
SUGGESTED_MUSCLES = ("hamstring_left", "hamstring_right", "glute_max_left", "glute_max_right")
#: Give up when the source delivers nothing for this long (a sensor that does not stream).
NO_DATA_S = 5.0
STREAM_FORMATS = ("auto", "frame", "text", "p2")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="guided MVC calibration (or from a recording): saves a profile",
        description="Measure each muscle's resting noise and maximal voluntary contraction (MVC) with the live\n"
        "chain and save them as a named profile. Live: a rest baseline, then 3 maximal pushes per muscle with\n"
        "rests between, following the MVC protocols (glute max: prone hip extension, knee bent 90 degrees;\n"
        "high hamstring: prone knee flexion). MVC = the highest 500 ms mean of the envelope across the trials.\n"
        "A muscle that fails is left out and the others are saved (the profile names the missing ones); redo it\n"
        "alone with --only MUSCLE --update PROFILE.",
        epilog="examples:\n"
        "  emgfeedback calibrate --source /dev/ttyACM0 --name 'both sides, standard placement' \\\n"
        "      --muscles glute_max_left=0,hamstring_left=1,glute_max_right=2,hamstring_right=3\n"
        "  emgfeedback calibrate --source simulated --name demo --fast\n"
        "  emgfeedback calibrate --source /dev/ttyACM0 --only hamstring_right --update 'both sides, standard placement'\n"
        "  emgfeedback calibrate --from-recording trials.txt --fs 1000 --columns 1,3 \\\n"
        "      --muscles hamstring_left,hamstring_right --mains 60 --name 'from lab'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        conflict_handler="resolve",
    )
    add_source_args(p, required=False)
    p.add_argument(
        "--protocol",
        action="append",
        default=[],
        metavar="FILE",
        help="an MVC test protocol (TOML; repeatable); it replaces the built-in test of its muscle kind",
    )
    p.add_argument(
        "--stream-protocol",
        default="auto",
        choices=STREAM_FORMATS,
        help="serial stream format (what --protocol means in other commands; default: auto-detect)",
    )
    p.add_argument("--name", default=None, help="profile name, e.g. 'both sides, standard placement' (not with --update)")
    p.add_argument(
        "--only",
        default=None,
        metavar="MUSCLE[,MUSCLE]",
        help="calibrate only these muscles (their channels: --muscles, else the --update profile's, else the source's)",
    )
    p.add_argument(
        "--update",
        default=None,
        metavar="PROFILE",
        help="merge the muscles measured now into this saved profile (same filters and rate), e.g. to redo one muscle",
    )
    p.add_argument(
        "--muscles",
        default=None,
        metavar="MAP",
        help="muscle=channel list, e.g. glute_max_left=0,hamstring_left=1 (default: the source's channel names when they "
        "are muscles); with --from-recording a name per column: hamstring_left,hamstring_right",
    )
    p.add_argument(
        "--rest-between",
        type=float,
        default=None,
        metavar="S",
        help=f"rest between trials, seconds (default: the protocol's, 30; {SIM_REST_BETWEEN_S:g} for the simulated person)",
    )
    p.add_argument("--trials", type=int, default=None, metavar="N", help="contractions per muscle (default: the protocol's, 3)")
    p.add_argument(
        "--fast",
        action="store_true",
        help="read a simulated or replayed source as fast as possible "
        "(automatic for a simulated source when stdin is not a terminal)",
    )
    p.add_argument(
        "--max-attempts",
        type=int,
        default=3,
        metavar="N",
        help="without a keyboard, tries per trial before a failed one is skipped (default 3)",
    )
    p.add_argument("--from-recording", default=None, metavar="FILE", help="make the profile from a recording of MVC trials")
    add_reader_args(p)  # --format, --stream: how to read the --from-recording file
    p.add_argument(
        "--rest-seconds",
        type=float,
        default=1.0,
        metavar="S",
        help="with --from-recording: length of the quietest stretch taken as rest (default 1)",
    )
    p.add_argument(
        "--save-to",
        default=None,
        metavar="FILE",
        help="save the profile to this .json file instead of the profiles folder (use it with --profile FILE)",
    )
    add_filter_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    _check_flags(args)  # before any file is read or source opened, and naming the flag, not a protocol file
    check_destination(args.save_to)  # a read-only or full disk is refused before the trials, not after
    if args.from_recording:
        if not args.name:
            raise CommandError("give --name NAME for the profile made from the recording")
        return _from_recording(args)
    if not args.source:
        raise CommandError("give --source SRC (a serial port, simulated or replay:FILE) or --from-recording FILE")
    return _live(args)


# --- shared ------------------------------------------------------------------------------------------
def _check_flags(args: argparse.Namespace) -> None:
    """Refuse a bad --name, --trials, --rest-between or --max-attempts up front, naming the flag."""
    from emgfeedback.calibration.profile import check_name
    from emgfeedback.calibration.protocol import TIMING_LIMITS

    if args.name is not None:
        check_name(args.name)
    if args.from_recording and (args.only or args.update):
        flag = "--only" if args.only else "--update"
        raise CommandError(
            f"{flag} works with a live calibration (--source): with --from-recording make a new profile (--name), "
            "choosing columns with --columns"
        )
    if args.trials is not None:
        low, high = TIMING_LIMITS["trials"]
        if not low <= args.trials <= high:
            raise CommandError(f"--trials {args.trials} is out of range: use {low:g} to {high:g}")
    if args.rest_between is not None:
        low, high = TIMING_LIMITS["rest_between_s"]
        if not low <= args.rest_between <= high:  # also NaN
            raise CommandError(f"--rest-between {args.rest_between:g} is out of range: use {low:g} to {high:g} seconds")
    if args.max_attempts < 1:
        raise CommandError(f"--max-attempts {args.max_attempts} is below 1: use 1 or more")


def _check_rest_between(rest_between: float | None, protocols: dict) -> None:
    """The rest between trials holds the next countdown: refuse one shorter than a protocol's countdown."""
    if rest_between is None or not protocols:
        return
    countdown = max(p.timing.countdown_s for p in protocols.values())
    if rest_between < countdown:
        raise CommandError(
            f"--rest-between {rest_between:g} is shorter than the {countdown:g} s countdown that runs inside it: "
            f"use --rest-between {countdown:g} or more"
        )


def _protocols(args: argparse.Namespace) -> dict:
    from emgfeedback.calibration.protocol import available_protocols

    for item in args.protocol:
        if item in STREAM_FORMATS and not Path(item).exists():
            raise CommandError(
                f"--protocol takes an MVC protocol file here: for the serial stream format use --stream-protocol {item}"
            )
    return available_protocols(args.protocol)


# --- from a recording -----------------------------------------------------------------------------------
def _from_recording(args: argparse.Namespace) -> int:
    from emgfeedback.calibration.offline import calibrate_recording
    from emgfeedback.calibration.profile import Profile
    from emgfeedback.calibration.saving import calibrated_profile
    from emgfeedback.commands._recording import choose, open_file
    from emgfeedback.config import StreamInfo

    out = sys.stdout
    rec = open_file(args, args.from_recording)
    try:
        sel = choose(args, rec)  # any format the readers know; says what it cut, and whether a channel is an envelope
        data = sel.read()
    finally:
        rec.close()
    fs = sel.fs
    name = rec.path.name
    if fs is None:
        raise CommandError(f"{name}: the sample rate is not in the file: give it with --fs")
    names = _column_muscles(args.muscles, len(sel.channels), sel.names)
    spec = filter_spec(args, fs)
    result = calibrate_recording(data, names, spec, rest_s=args.rest_seconds)
    units = sel.units
    info = StreamInfo(
        fs=float(fs), channels=len(sel.channels), units=units, channel_names=sel.names, description=f"replay:{name}"
    )
    cols = ",".join(map(str, sel.indices)) if args.columns else "all"
    print(
        f"{name}: {data.shape[0] / fs:.1f} s at {fs:g} Hz, columns {cols} "
        f"({', '.join(sel.names)}); rest = quietest {args.rest_seconds:g} s, MVC = highest 500 ms mean",
        file=out,
    )

    def make() -> Profile:
        return calibrated_profile(args.name, result, spec, info, units=units, source=f"recording:{name} columns {cols}")

    return finish(args, result, make, units, out)


def _column_muscles(text: str | None, columns: int, column_names: tuple[str, ...]) -> list[str]:
    """One distinct muscle name per column from --muscles; warns (stderr) about names that are not known muscles."""
    if not text:
        fits = columns <= len(SUGGESTED_MUSCLES)
        example = ("" if fits else "--columns 1,3 ") + f"--muscles {','.join(SUGGESTED_MUSCLES[: columns if fits else 2])}"
        raise CommandError(f"name the muscle of each column with --muscles (one distinct name per column), e.g. {example}")
    names = [n.strip() for n in text.split(",") if n.strip()]
    if any("=" in n for n in names):
        raise CommandError(
            "with --from-recording, --muscles takes one name per column (choose columns with --columns): "
            "e.g. --columns 1,3 --muscles hamstring_left,hamstring_right"
        )
    if len(names) != columns:
        raise CommandError(
            f"--muscles names {len(names)} muscle(s) for {columns} columns ({', '.join(column_names)}): "
            "give one name per column, or pick columns with --columns"
        )
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:
        raise CommandError(
            f"muscle {twice} is named twice in --muscles: give each column its own muscle, e.g. hamstring_left,hamstring_right"
        )
    for name in names:
        if muscle_kind(name) not in KINDS:
            print(
                f"warning: {name} is not a known muscle (known: {', '.join(STANDARD)}): the profile keeps that name",
                file=sys.stderr,
            )
    return names


# --- live -------------------------------------------------------------------------------------------------
def _is_simulated(spec: str) -> bool:
    return spec == "simulated" or spec.startswith("simulated:")


def _live(args: argparse.Namespace) -> int:
    from emgfeedback.calibration.machine import auto_policy
    from emgfeedback.calibration.plan import CalibrationPlan, default_muscles, parse_muscle_map
    from emgfeedback.calibration.profile import Profile
    from emgfeedback.calibration.runner import CalibrationRun
    from emgfeedback.calibration.saving import calibrated_profile
    from emgfeedback.calibration.terminal import TerminalPrompter
    from emgfeedback.io.spec import describe_spec, open_source

    out = sys.stdout
    update = check_target(args)  # a wrong --update name fails before the source opens
    check_filter_flags(args, update)  # flags given must match the profile's (its own settings stand otherwise)
    protocols = _protocols(args)
    interactive = stdin_is_terminal()
    simulated = _is_simulated(args.source)
    fast = args.fast or (simulated and not interactive)
    if args.fast and describe_spec(args.source) == "serial":
        raise CommandError("--fast works only with a simulated or replayed source: a sensor delivers in real time")
    only = only_names(args.only)
    muscles = base_muscles(args, update, parse_muscle_map)
    if muscles is not None:
        muscles = select(muscles, only, "--muscles" if args.muscles else f"profile {update.name!r}" if update else args.source)
    _check_rest_between(args.rest_between, protocols)
    rest_between = args.rest_between if args.rest_between is not None else (SIM_REST_BETWEEN_S if simulated else None)
    if simulated:
        source, muscles = simulated_source(
            args, muscles, only=only, protocols=protocols, rest_between=rest_between, fast=fast, update=update
        )
    else:
        opts = source_options(argparse.Namespace(**{**vars(args), "protocol": args.stream_protocol}), realtime=not fast)
        source = open_source(args.source, opts)
    try:
        source.open()
        info = source.info
        if muscles is None:
            found = default_muscles(info.names, protocols)
            if found is None:
                raise CommandError(
                    f"the channels of {args.source} ({', '.join(info.names)}) are not muscle names: map them with "
                    "--muscles, e.g. --muscles glute_max_left=0,hamstring_left=1"
                )
            muscles = select(found, only, args.source)
        spec = chain_for(args, update)(info.fs)
        if update is not None:
            update.check_compatible(spec, info, scale=None)  # refused before anything is measured
        plan = CalibrationPlan.build(muscles, protocols, channels=info.channels, rest_between_s=rest_between, trials=args.trials)
        run = CalibrationRun(plan, spec, info, policy=None if interactive else auto_policy(args.max_attempts))
        screen = TerminalPrompter(out, interactive=interactive, units=info.units)
        _print_plan(plan, spec, info, args, fast=fast, interactive=interactive, out=out)
        if interactive:
            screen.announce(plan.tests[0])  # where to lie and what to push against, before the rest baseline
            screen.ask("Get into position, stay relaxed, and press Enter to start (Ctrl+C cancels) ")
            _restart(source, describe_spec(args.source))
        screen.handle(run.machine, run.machine.start())
        last_data = time.monotonic()
        while not run.machine.finished:
            try:
                chunk = source.read(0.1)
            except EOFError:
                screen.end_line()
                raise CommandError(
                    f"{args.source} ended before the calibration finished: use a longer recording or scenario"
                ) from None
            if chunk is None or chunk.samples.shape[0] == 0:
                if time.monotonic() - last_data > NO_DATA_S:
                    screen.end_line()
                    raise CommandError(
                        f"{args.source}: no data within {NO_DATA_S:g} s: the sensor stopped streaming mid-calibration; "
                        "check the cable and the port (try 'emgfeedback monitor')"
                    )
                continue
            screen.handle(run.machine, run.feed(chunk.samples))
            last_data = time.monotonic()  # after handle: time spent answering a question is not silence
        screen.end_line()
    finally:
        source.close()
    result = run.machine.result()

    def make() -> Profile:
        return calibrated_profile(
            args.name or "", result, spec, info, protocols=plan.protocols(), source=args.source, update=update
        )

    return finish(args, result, make, info.units, out)


def _restart(source: Source, kind: str) -> None:
    """Start the calibration's time now: reopen a simulated or replayed source, drop a sensor's stale samples."""
    if kind != "serial":
        source.close()
        source.open()
        return
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and source.read(0.0) is not None:
        pass


def _print_plan(
    plan: object, spec: object, info: object, args: argparse.Namespace, *, fast: bool, interactive: bool, out: TextIO
) -> None:
    from emgfeedback.calibration.plan import CalibrationPlan
    from emgfeedback.config import FilterSpec, StreamInfo
    from emgfeedback.dsp.latency import describe_envelope

    assert isinstance(plan, CalibrationPlan) and isinstance(spec, FilterSpec) and isinstance(info, StreamInfo)
    muscles = ", ".join(f"{t.label} = channel {t.channel}" for t in plan.tests)
    print(
        f"calibrating {muscles} on {args.source} ({info.fs:g} Hz, envelope {describe_envelope(spec)}, "
        f"mains notch {spec.mains.value})",
        file=out,
    )
    for proto in plan.protocols():
        tm = proto.timing
        print(
            f"  {proto.title}: {tm.trials} x {tm.contract_s:g} s, {tm.rest_between_s:g} s rest between [{proto.source}]", file=out
        )
    mode = "faster than real time" if fast else "real time"
    who = "you decide on failed trials" if interactive else f"no keyboard: failed trials repeat up to {args.max_attempts} tries"
    print(f"  about {plan.duration_s():.0f} s of signal, {mode}; {who}", file=out)
