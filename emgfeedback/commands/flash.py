"""``emgfeedback flash``: upload the bundled firmware to an Uno or Nano with avrdude, streaming its output."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from emgfeedback.avrdude import Avrdude, find_avrdude, not_found_message
from emgfeedback.errors import CommandError

#: The firmware image shipped inside the package (built by ``make -C firmware bundle``).
BUNDLED_HEX = "firmware/emgfeedback-uno.hex"


@dataclass(frozen=True)
class Board:
    """What avrdude needs to know about a board's bootloader."""

    name: str
    part: str
    baud: int
    description: str


BOARDS = {
    "uno": Board("uno", "atmega328p", 115200, "Arduino Uno (optiboot, 115200 baud)"),
    "nano": Board("nano", "atmega328p", 115200, "Arduino Nano with the new bootloader (115200 baud; boards since 2018)"),
    "nano-old": Board(
        "nano-old", "atmega328p", 57600, "Arduino Nano with the old bootloader (57600 baud; most clones, CH340 USB chip)"
    ),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "flash",
        help="upload the emgfeedback firmware to an Arduino Uno or Nano (needs avrdude)",
        description="Write the bundled firmware (or --hex FILE) to the board with avrdude: "
        "avrdude -p atmega328p -c arduino -P PORT -b BAUD -D -U flash:w:HEX:i. Close every program that has the port "
        "open first (the dashboard, a serial monitor, the Arduino IDE). avrdude verifies the flash after writing.",
        epilog="examples:\n  emgfeedback flash --port /dev/ttyACM0\n  emgfeedback flash --port /dev/ttyUSB0 --board nano-old\n"
        "  emgfeedback flash --port COM3 --dry-run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--port", default=None, metavar="PORT", help="the board's serial port (see emgfeedback devices)")
    p.add_argument("--hex", default=None, metavar="FILE", help="firmware image in Intel HEX format (default: the bundled one)")
    p.add_argument(
        "--board",
        default="uno",
        choices=list(BOARDS),
        help="uno, nano (new bootloader, 115200 baud) or nano-old (old bootloader, 57600 baud; try it when "
        "a Nano answers 'not in sync') (default uno)",
    )
    p.add_argument(
        "--avrdude",
        default=None,
        metavar="PATH",
        help="the avrdude program (or its install folder) to use; default: the PATH, then an Arduino IDE 2 or "
        "arduino-cli install, then an Arduino IDE 1.x (each with its own avrdude.conf)",
    )
    p.add_argument("--dry-run", action="store_true", help="print the exact avrdude command instead of running it")
    p.set_defaults(func=run)


def bundled_hex() -> Path:
    """Where the bundled firmware image is (it may be missing in a source checkout that was never built)."""
    return Path(str(resources.files("emgfeedback").joinpath(BUNDLED_HEX)))


def avrdude_command(port: str, hex_path: Path | str, board: str = "uno", avrdude: str | Avrdude = "avrdude") -> list[str]:
    """The exact avrdude call: ``-D`` skips the chip erase (the bootloader erases each page as it writes)."""
    b = BOARDS[board]
    prefix = avrdude.command_prefix() if isinstance(avrdude, Avrdude) else [avrdude]
    return [*prefix, "-p", b.part, "-c", "arduino", "-P", port, "-b", str(b.baud), "-D", "-U", f"flash:w:{hex_path}:i"]


def check_hex(path: Path) -> None:
    """One-line errors for a missing or non-HEX image."""
    if not path.is_file():
        raise CommandError(f"{path}: no such firmware file: give the image with --hex FILE")
    try:
        with path.open("rb") as f:
            head = f.read(64).lstrip()
    except OSError as exc:
        raise CommandError(f"{path}: cannot be read ({exc.strerror}): check its permissions") from None
    if not head.startswith(b":"):
        raise CommandError(f"{path}: is not an Intel HEX file (it should start with ':'): give a .hex file built for the board")


def failure_hint(output: str, board: str) -> str:
    """What to try after avrdude failed, judged from its output."""
    text = output.lower()
    if "permission denied" in text:
        return "you may not open the port: sudo usermod -aG dialout $USER, log out and back in (emgfeedback doctor checks it)"
    if "busy" in text:
        return "another program has the port open: close the dashboard, serial monitors and the Arduino IDE, then retry"
    if "no such file" in text or "can't open device" in text or "cannot open" in text:
        return "the port is not there: check the cable and the name with emgfeedback devices"
    if "not in sync" in text or "not responding" in text or "getsync" in text:
        other = "--board nano-old" if board != "nano-old" else "--board nano"
        return (
            f"the bootloader did not answer: check --port, press reset just before flashing, or try {other} "
            "(old-bootloader Nanos talk at 57600 baud)"
        )
    if "signature" in text:
        return "the chip is not an ATmega328P: emgfeedback flash supports the Uno and the Nano"
    return "read avrdude's messages above; docs/flashing.md lists the usual causes"


def run(args: argparse.Namespace) -> int:
    hex_path = Path(args.hex).expanduser() if args.hex else bundled_hex()
    if not args.port:
        raise CommandError(
            "give the board's serial port with --port, e.g. --port /dev/ttyACM0 (list them with: emgfeedback devices)"
        )
    avrdude = find_avrdude(args.avrdude)
    if args.avrdude and avrdude is None:
        raise CommandError(f"{args.avrdude}: no avrdude there: give the avrdude program or its install folder")
    command = avrdude_command(args.port, hex_path, args.board, avrdude=avrdude or "avrdude")
    if args.dry_run:
        print(shlex.join(command))
        if not hex_path.is_file():
            print(f"note: {hex_path} does not exist yet", file=sys.stderr)
        if avrdude is None:
            print(f"note: {not_found_message()}", file=sys.stderr)
        else:
            print(f"note: avrdude from {avrdude.origin}", file=sys.stderr)
        return 0
    if not args.hex and not hex_path.is_file():
        raise CommandError(
            f"the bundled firmware {hex_path} is missing: build it with 'make -C firmware bundle' "
            "or give an image with --hex FILE"
        )
    check_hex(hex_path)
    if avrdude is None:
        raise CommandError(not_found_message())
    if args.port.startswith("/dev/") and not os.path.exists(args.port):
        raise CommandError(f"{args.port}: no such port: plug the board in and check the name with emgfeedback devices")
    board = BOARDS[args.board]
    print(f"flashing {hex_path.name} to {board.description} on {args.port} (avrdude from {avrdude.origin})", file=sys.stderr)
    print("$ " + shlex.join(command), file=sys.stderr, flush=True)
    code, output = _stream(command)
    if code != 0:
        raise CommandError(f"avrdude failed (exit status {code}): {failure_hint(output, args.board)}")
    print(
        f"flashed {args.port}: the board restarts and streams; check it with: emgfeedback monitor --source {args.port}",
        file=sys.stderr,
    )
    return 0


def _stream(command: list[str]) -> tuple[int, str]:
    """Run ``command``, copying its output to stderr as it comes (avrdude draws progress bars without newlines)."""
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as exc:
        raise CommandError(f"{command[0]} could not be started ({exc.strerror}): {not_found_message()}") from None
    assert proc.stdout is not None
    tail = bytearray()
    err = sys.stderr.buffer if hasattr(sys.stderr, "buffer") else None
    try:
        while chunk := proc.stdout.read1(4096):
            if err is not None:
                err.write(chunk)
                err.flush()
            else:
                sys.stderr.write(chunk.decode(errors="replace"))
            tail += chunk
            del tail[:-8192]
    finally:
        code = proc.wait()
    return code, tail.decode(errors="replace")
