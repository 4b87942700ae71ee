"""``emgfeedback doctor``: check this machine (packages, Qt, sound, serial access, data, AVR tools) and say how to fix it."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="check that this machine is ready (packages, Qt, sound, serial permission, data folder, avrdude)",
        description="Check Python and the packages, that Qt can open a window (and which system libraries are "
        "missing if not), the sound output, the serial ports and your permission to open them, the data "
        "directory, the calibration profiles and the AVR tools. Prints a table and the fix for each problem. "
        "Exit status 0 when everything emgfeedback needs works, 1 otherwise (warnings do not count).",
        epilog="examples:\n  emgfeedback doctor\n  emgfeedback doctor --json > doctor.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--json", action="store_true", help="machine-readable output: {emgfeedback, python, platform, ok, checks: [...]}"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emgfeedback.doctor import run_doctor

    report = run_doctor()
    if args.json:
        json.dump(report.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(report.text())
    return 0 if report.ok else 1
