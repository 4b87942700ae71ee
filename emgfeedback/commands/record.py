"""``emgfeedback record``: record a session headless into the session store (Ctrl-C or SIGTERM stops it cleanly)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time

import numpy as np

from emgfeedback.commands._common import (
    SECONDS,
    add_filter_args,
    add_lsl_args,
    add_source_args,
    chain_for,
    check_filter_args,
    check_filter_flags,
    default_profile,
    load_profile_by_name,
    lsl_publisher,
    source_options,
)
from emgfeedback.commands._training import (
    add_program_args,
    open_program_source,
    program_from_args,
    program_report,
    program_status,
    require_profile,
)
from emgfeedback.config import parse_band
from emgfeedback.errors import CommandError
from emgfeedback.feedback import State
from emgfeedback.frontends import PRESETS
from emgfeedback.runtime.acquisition import Acquisition
from emgfeedback.runtime.live import LiveOptions, build_acquisition
from emgfeedback.runtime.signals import on_stop_signal
from emgfeedback.session.recorder import SessionMeta, SessionRecorder

#: Longest wait for the source to deliver its first block before giving up.
OPEN_TIMEOUT_S = 30.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record",
        help="record a session headless (no window) into the session store",
        description="Record raw samples, envelopes, %MVC, band states and events (holds, over-clench, gaps) into "
        "the local session store until Ctrl-C, SIGTERM, --seconds or the end of the source. Commits at least "
        "every 0.25 s: a crash loses at most that.",
        epilog="examples:\n  emgfeedback record --source /dev/ttyACM0 --profile standard --auto-hold\n"
        "  emgfeedback record --source simulated --seconds 60\n"
        "  emgfeedback record --source /dev/ttyACM0 --profile standard --program underbutt-isolation\n"
        "  emgfeedback sessions",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_source_args(p)
    p.add_argument(
        "--profile",
        metavar="NAME",
        default=None,
        help="calibration profile; its filter settings are used, and a filter flag given must match them "
        "(simulated: the demo one)",
    )
    p.add_argument("--seconds", type=SECONDS, default=None, metavar="N", help="stop after N seconds of signal")
    p.add_argument("--auto-hold", action="store_true", help="start holds when every muscle enters the band")
    p.add_argument("--band", default="30-50", metavar="LOW-HIGH", help="target band in %%MVC (default 30-50)")
    p.add_argument("--person", default=None, metavar="NAME", help="whose session (reports group progress by it)")
    p.add_argument("--frontend", default=None, choices=sorted(PRESETS), help="sensor board, so raw samples export in uV")
    p.add_argument("--note", default=None, help="free text stored with the session")
    p.add_argument("--status-every", type=float, default=5.0, metavar="S", help="seconds between status lines (0: none)")
    add_program_args(p)
    add_filter_args(p, from_profile=True)
    add_lsl_args(p)
    p.set_defaults(func=run)


def _status(acq: Acquisition, recorder: SessionRecorder) -> str:
    """One status line: time, holds, the latest state of each muscle, problems."""
    info = acq.info
    w = recorder.writer
    if info is None or w is None:
        return "waiting for the source..."
    seconds = (w.expected or 0) - (w.first_index or 0)
    parts = [f"{seconds / info.fs:7.1f} s", f"holds {w.holds}"]
    snap = acq.snapshot()
    if snap.hold is not None:
        parts[-1] += " (holding)"
    if snap.program is not None:
        parts.append(program_status(snap.program))
    block = recorder.last_block
    if block is not None and block.percent.size:
        pct = block.percent[-1]
        states = block.states[-1]
        names = acq.engine.names if acq.engine is not None else list(info.names)
        parts += [
            f"{n} {'--' if not np.isfinite(p) else f'{p:.0f}%'} {State(int(s)).key}"
            for n, p, s in zip(names, pct.tolist(), states.tolist(), strict=False)
        ]
    if w.stats.gaps:
        parts.append(f"gaps {w.stats.gaps}")
    if recorder.overflows:
        parts.append(f"dropped blocks {recorder.overflows}")
    return "  ".join(parts)


#: record plays no cue and shows no gauge: it processes the stream in 100 ms batches (far less CPU).
RECORD_BATCH_S = 0.1


def run(args: argparse.Namespace) -> int:
    band = parse_band(args.band)
    program = program_from_args(args, args.source)
    check_filter_args(args)  # bad filter flags fail now, before the device opens
    profile = load_profile_by_name(args.profile) if args.profile else default_profile(args.source, args.channels)
    check_filter_flags(args, profile)
    options = LiveOptions(
        filters=chain_for(args, profile),
        profile=profile,
        band=band,
        auto_start=args.auto_hold,
        scale=profile.scale if profile is not None else None,
        program=program,
        ease_out_pct=args.ease_out,
        batch_s=RECORD_BATCH_S,
    )
    require_profile(program, profile)
    publisher = lsl_publisher(args, args.source)  # a missing mne-lsl is refused before the device opens
    source = open_program_source(args.source, source_options(args), program, args.speed)
    acq = build_acquisition(source, options)
    if publisher is not None:
        publisher.attach(
            acq,
            profile=profile.name if profile is not None else None,
            frontend=args.frontend or (profile.frontend if profile is not None else None),
        )
        print(f"publishing on LSL: {publisher.describe()}", file=sys.stderr, flush=True)
    meta = SessionMeta(
        source=args.source,
        profile=profile.name if profile is not None else None,
        person=args.person,
        frontend=args.frontend or (profile.frontend if profile is not None else None),
        note=args.note,
        extra={"program": program.name} if program is not None else {},
    )
    recorder = SessionRecorder(meta=meta).attach(acq)  # opens the store: a store error stops us here
    stop = threading.Event()
    reason = {"why": "stopped"}

    def on_signal(name: str) -> None:
        reason["why"] = "stopped by " + name
        stop.set()

    status = "complete"
    failure: str | None = None
    with contextlib.ExitStack() as stack:
        stack.enter_context(on_stop_signal(on_signal))
        stack.callback(lambda: recorder.stop(status))
        if publisher is not None:
            stack.callback(publisher.close)  # after the source stopped: nothing is pushed any more
        stack.callback(acq.stop)  # runs first: the source stops, then what it delivered is committed
        acq.start()
        t_open = time.monotonic()
        announced = False
        next_status = time.monotonic() + args.status_every
        if profile is None:
            print("note: no calibration profile: %MVC and band states are not recorded (give --profile)", file=sys.stderr)
        while not stop.is_set():
            stop.wait(0.1)
            if not announced and recorder.session_id is not None:
                announced = True
                print(
                    f"recording session {recorder.session_id} from {args.source} into {recorder.path} (Ctrl-C to stop)",
                    file=sys.stderr,
                    flush=True,
                )
            if recorder.error is not None:
                failure, status = f"recording failed: {recorder.error}", "interrupted"
                break
            view = acq.snapshot().program
            if view is not None and view.done:
                reason["why"] = f"program {view.name} finished"
                break
            if acq.finished.is_set():
                if acq.error:
                    failure, status = f"source failed: {acq.error}", "interrupted"
                else:
                    reason["why"] = "end of source"
                break
            if not announced and time.monotonic() - t_open > OPEN_TIMEOUT_S:
                failure, status = f"no data from {args.source} within {OPEN_TIMEOUT_S:g} s: check the device", "interrupted"
                break
            if args.seconds is not None and acq.info is not None and acq.samples >= args.seconds * acq.info.fs:
                reason["why"] = f"{args.seconds:g} s recorded"
                break
            if args.status_every > 0 and time.monotonic() >= next_status:
                print(_status(acq, recorder), file=sys.stderr, flush=True)
                next_status += args.status_every
    if recorder.error is not None and failure is None:
        failure = f"recording failed: {recorder.error}"
    sid = recorder.session_id
    w = recorder.writer
    if sid is None or w is None:
        raise CommandError(failure or f"no data arrived from {args.source}: nothing was recorded")
    seconds = ((w.committed_index or 0) - (w.first_index or 0)) / w.fs
    print(f"session {sid} {status}: {seconds:.1f} s, {w.holds} holds, {w.stats.gaps} gaps ({reason['why']})")
    view = acq.snapshot().program
    if view is not None:
        print(program_report(view))
    if failure:
        raise CommandError(f"{failure} (session {sid} keeps the {seconds:.1f} s recorded)")
    return 0
