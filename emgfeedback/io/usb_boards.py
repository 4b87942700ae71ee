"""Which board a serial port is, from its USB vendor/product id: the same on Windows, macOS and Linux.

pyserial's ``list_ports`` gives every system's ports with their USB ids (``COM5``,
``/dev/cu.usbmodem1101``, ``/dev/ttyACM0``); the ids, not the port names, say what is behind them.
macOS lists each USB serial device twice, as ``/dev/cu.X`` and ``/dev/tty.X``: the ``cu.`` one opens
without waiting for a carrier signal, so it is the one to use.
"""

from __future__ import annotations

from collections.abc import Iterable

#: USB vendor ids: the family shown when the product id is not in :data:`BOARDS`.
VENDORS = {
    0x2341: "Arduino",
    0x2A03: "Arduino",  # arduino.org boards
    0x1A86: "CH340 USB-serial",  # WCH: the chip on most Nano and Uno clones
    0x0403: "FTDI USB-serial",
    0x10C4: "CP210x USB-serial",  # Silicon Labs
    0x16C0: "Teensy",  # PJRC (Van Ooijen Technische Informatica's shared id)
    0x303A: "ESP32",  # Espressif native USB
}

#: (vendor id, product id) -> the board or bridge people know it as.
BOARDS: dict[tuple[int, int], str] = {
    (0x2341, 0x0001): "Arduino Uno",
    (0x2341, 0x0043): "Arduino Uno R3",
    (0x2A03, 0x0043): "Arduino Uno R3",
    (0x2341, 0x0243): "Arduino Uno R3",
    (0x2341, 0x0069): "Arduino Uno R4 Minima",
    (0x2341, 0x1002): "Arduino Uno R4 WiFi",
    (0x2341, 0x0010): "Arduino Mega 2560",
    (0x2341, 0x0042): "Arduino Mega 2560 R3",
    (0x2341, 0x0036): "Arduino Leonardo (bootloader)",
    (0x2341, 0x8036): "Arduino Leonardo",
    (0x2A03, 0x8036): "Arduino Leonardo",
    (0x2341, 0x0037): "Arduino Micro (bootloader)",
    (0x2341, 0x8037): "Arduino Micro",
    (0x2341, 0x0058): "Arduino Nano Every",
    (0x2341, 0x8057): "Arduino Nano 33 IoT",
    (0x1A86, 0x7523): "Nano/Uno clone (CH340)",
    (0x1A86, 0x5523): "Nano/Uno clone (CH341)",
    (0x1A86, 0x55D4): "Nano/Uno clone (CH9102)",
    (0x16C0, 0x0483): "Teensy (USB serial)",
    (0x16C0, 0x0489): "Teensy (serial + MIDI)",
    (0x16C0, 0x0478): "Teensy (bootloader)",
    (0x303A, 0x0002): "ESP32-S2 (native USB)",
    (0x303A, 0x1001): "ESP32-S3 (USB serial/JTAG)",
    (0x303A, 0x0009): "ESP32-S3 (native USB)",
    (0x10C4, 0xEA60): "CP2102/CP2104 USB-serial (ESP32 and clone boards)",
    (0x10C4, 0xEA70): "CP2105 USB-serial",
    (0x0403, 0x6001): "FTDI FT232R USB-serial (older Nano, Duemilanove)",
    (0x0403, 0x6015): "FTDI FT231X USB-serial",
    (0x0403, 0x6014): "FTDI FT232H USB-serial",
    (0x0403, 0x6010): "FTDI FT2232 USB-serial",
}


def board_name(vid: int | None, pid: int | None) -> str:
    """The board's name from its USB ids, else its vendor family, else ""."""
    if vid is None:
        return ""
    if pid is not None and (vid, pid) in BOARDS:
        return BOARDS[(vid, pid)]
    return VENDORS.get(vid, "")


def prefer_callout(devices: Iterable[str]) -> list[str]:
    """Drop macOS ``/dev/tty.X`` entries whose ``/dev/cu.X`` twin is listed (order kept)."""
    names = list(devices)
    present = set(names)
    return [d for d in names if not (d.startswith("/dev/tty.") and "/dev/cu." + d.removeprefix("/dev/tty.") in present)]
