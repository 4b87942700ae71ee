"""``emgfeedback devices``: list the serial ports, name each board by its USB ids, point at the likely Arduino."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Protocol

from emgfeedback.io.usb_boards import VENDORS, board_name, prefer_callout

#: USB vendor IDs of Arduino boards and the USB-serial bridges clones use (the family shown as ``kind``).
KNOWN_VIDS = VENDORS
#: Words in a port's description or manufacturer that suggest a board.
HINTS = ("arduino", "ch340", "ch341", "ch9102", "wch", "ftdi", "ft232", "cp210", "usb-serial", "usb serial", "uart")


@dataclass(frozen=True)
class Port:
    """One serial port as the user sees it."""

    device: str
    description: str
    hwid: str
    vid: int | None
    pid: int | None
    manufacturer: str | None
    serial_number: str | None
    likely_arduino: bool
    kind: str
    board: str


class PortInfo(Protocol):
    """What pyserial's ``ListPortInfo`` gives on every system."""

    device: str
    description: str
    hwid: str
    vid: int | None
    pid: int | None
    manufacturer: str | None
    serial_number: str | None


def classify(device: str, description: str, *, vid: int | None = None, manufacturer: str | None = None) -> str:
    """What the port probably is ("Arduino", "CH340 USB-serial", ...), or "" if nothing suggests a board."""
    if vid in KNOWN_VIDS:
        return KNOWN_VIDS[vid]
    text = f"{description} {manufacturer or ''}".lower()
    if any(h in text for h in HINTS):
        return "Arduino" if "arduino" in text else "USB-serial"
    if vid is not None and ("ttyACM" in device or "usbmodem" in device):
        return "USB CDC device"
    return ""


def describe_ports(infos: Iterable[PortInfo], include_all: bool = False) -> list[Port]:
    """Ports as people see them, likely boards first; on macOS only the ``cu.`` twin of each device."""
    infos = list(infos)
    keep = set(prefer_callout(p.device for p in infos))
    out = []
    for p in infos:
        description = p.description or ""
        hwid = p.hwid or ""
        if p.device not in keep or (not include_all and hwid in ("", "n/a") and description in ("", "n/a")):
            continue
        kind = classify(p.device, description, vid=p.vid, manufacturer=p.manufacturer)
        board = board_name(p.vid, p.pid) or kind
        out.append(Port(p.device, description, hwid, p.vid, p.pid, p.manufacturer, p.serial_number, bool(kind), kind, board))
    return sorted(out, key=lambda port: (not port.likely_arduino, port.device))


def list_ports(include_all: bool = False) -> list[Port]:
    """The serial ports pyserial finds on this system (``COM5``, ``/dev/cu.usbmodem1101``, ``/dev/ttyACM0``)."""
    from serial.tools import list_ports as lp

    return describe_ports(lp.comports(), include_all)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "devices",
        help="list serial ports and mark the likely Arduino",
        description="List the serial ports. Each board is named by its USB vendor/product ID (Arduino Uno, Nano "
        "clones with a CH340, Leonardo/Micro, Teensy, ESP32-S2/S3, CP210x and FTDI bridges); those are marked as "
        "likely boards. Open one with --source PORT (on macOS the /dev/cu. port is listed, not its tty. twin).",
        epilog="examples:\n  emgfeedback devices\n  emgfeedback devices --json\n"
        "  emgfeedback monitor --source /dev/ttyACM0      then check the stream",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print a JSON list of ports")
    p.add_argument("--all", action="store_true", help="also list legacy ports with no hardware behind them")
    p.add_argument(
        "--lsl", action="store_true", help="list the Lab Streaming Layer streams on the network instead (needs the lsl extra)"
    )
    p.set_defaults(func=run)


def _id(port: Port) -> str:
    return f"{port.vid:04X}:{port.pid:04X}" if port.vid is not None and port.pid is not None else "-"


def run_lsl(as_json: bool) -> int:
    """The LSL streams found within 2 s, each with the --source that reads it."""
    from emgfeedback.io.lsl_source import list_streams

    streams = list_streams()
    if as_json:
        print(json.dumps(streams))
        return 0
    if not streams:
        print("no LSL streams found: start the sending program (OpenBCI GUI, Chords, emgfeedback live --lsl) and try again")
        return 0
    width = max(len(s["source"]) for s in streams)
    for s in streams:
        print(f"{s['source']:<{width}}  {s['type']:<8} {s['channels']:>2} ch  {s['fs']:g} Hz  on {s['host']}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.lsl:
        return run_lsl(args.json)
    ports = list_ports(args.all)
    if args.json:
        print(json.dumps([asdict(p) for p in ports]))
        return 0
    if not ports:
        print("no serial ports found: plug the board in with a data-capable USB cable, then run this again")
        return 0
    width = max(len(p.device) for p in ports)
    for port in ports:
        mark = f"  <- likely board: {port.board}" if port.likely_arduino else ""
        print(f"{port.device:<{width}}  {_id(port):<9}  {port.description}{mark}")
    likely = [p for p in ports if p.likely_arduino]
    if likely:
        print(f"\ncheck the stream with: emgfeedback monitor --source {likely[0].device}")
    return 0
