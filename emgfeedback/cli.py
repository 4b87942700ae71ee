"""The ``emgfeedback`` command line: one sub-command per module in ``emgfeedback.commands``.

Each command module defines ``register(subparsers)`` and sets ``func`` on its parser.
Expected failures (bad settings, bad files, missing ports) print one line and exit
non-zero without a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

from emgfeedback import __version__, commands
from emgfeedback.errors import UserError

EPILOG = """examples:
  emgfeedback demo                     dashboard on the built-in simulated sensor
  emgfeedback devices                  find the Arduino
  emgfeedback calibrate --source /dev/ttyACM0 --name standard
  emgfeedback live --source /dev/ttyACM0 --profile standard
"""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line naming the fix, like every other error (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}: see '{self.prog} --help'\n")


def _named_command(argv: Sequence[str] | None, modules: list[str]) -> str | None:
    """The command module ``argv`` names, if it names one (so only that module needs importing)."""
    first = next((a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")), None)
    name = first.replace("-", "_") if first else None
    return name if name in modules else None


def build_parser(argv: Sequence[str] | None = ()) -> Parser:
    """The top-level parser: with every command module's sub-command, or only the one ``argv`` names.

    Importing one command module instead of all keeps a light command (``inspect``) from paying
    for the heavy imports (scipy, Qt) of the others: the difference between 0.3 s and 2 s.
    """
    parser = Parser(
        prog="emgfeedback",
        description="Surface-EMG biofeedback for backbends: keep the high hamstring and glute max at 30-50 %MVC.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"emgfeedback {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    modules = sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))
    only = _named_command(argv, modules)
    for name in [only] if only else modules:
        importlib.import_module(f"emgfeedback.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"emgfeedback: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("emgfeedback: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # piped into `head`: stop quietly; send what is still buffered nowhere, not to a closed pipe
        with contextlib.suppress(OSError, ValueError):  # a stdout without a file descriptor (captured) has nothing left
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
