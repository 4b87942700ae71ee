"""``emgfeedback simulate-device``: a virtual board on a pty, for trying the serial path without hardware."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading

from emgfeedback.errors import CommandError
from emgfeedback.io.simulated import SCENARIOS
from emgfeedback.io.virtual_device import COUNTER, VirtualDevice
from emgfeedback.runtime.signals import on_stop_signal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate-device",
        help="open a pty that streams simulated sEMG like the firmware (prints its path first)",
        description="Open a pseudo-terminal that behaves like a board running our firmware (answers I, S, X, C, F) "
        "or a P2 / text sketch, streaming simulated sEMG in real time. The first line of output is the path to "
        "open; runs until Ctrl-C.",
        epilog="examples:\n  emgfeedback simulate-device --channels 2 --fs 1000\n"
        "  emgfeedback simulate-device --link /tmp/emg-board     then, in another terminal:\n"
        "  emgfeedback monitor --source /tmp/emg-board\n"
        "  emgfeedback simulate-device --protocol p2 --fs 250",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--scenario",
        default="backbend-hold",
        choices=[*SCENARIOS, COUNTER],
        help="what the muscles do (default backbend-hold; counter: channel c = (sample + 100 c) mod 1024)",
    )
    p.add_argument("--channels", type=int, default=4, help="channels, 1-4 (default 4; P2 always sends 6, the rest at 512)")
    p.add_argument("--fs", type=float, default=None, metavar="HZ", help="sample rate (default 1000; P2: 256)")
    p.add_argument("--protocol", default="frame", choices=["frame", "p2", "text"], help="what to speak (default frame)")
    p.add_argument(
        "--link", default=None, metavar="PATH", help="also make a symlink to the pty at PATH (like ln -sf; removed at exit)"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed of the simulated signals")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not hasattr(os, "openpty"):  # Windows has no pseudo-terminals
        raise CommandError(
            "simulate-device needs Linux or macOS (it opens a pseudo-terminal): on Windows use --source simulated instead"
        )
    fs = args.fs if args.fs is not None else (256.0 if args.protocol == "p2" else 1000.0)
    device = VirtualDevice(args.protocol, scenario=args.scenario, channels=args.channels, fs=fs, seed=args.seed, link=args.link)
    done = threading.Event()
    with on_stop_signal(lambda _name: done.set()), contextlib.ExitStack() as stack:
        stack.callback(device.stop)
        path = device.start()
        print(path, flush=True)
        print(
            f"simulate-device: {args.protocol} stream, {args.channels} ch at {fs:g} Hz ({args.scenario}) on {path}; "
            "Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        while not done.wait(0.5):
            pass
    print(f"simulate-device: sent {device.sent} samples, {device.dropped} not sent (no host or stopped)", file=sys.stderr)
    return 0
