"""Serial ports as each system shows them: boards named by USB ids, macOS cu. twins, busy-port wording."""

from __future__ import annotations

import errno

import pytest
import serial
from serial.tools.list_ports_common import ListPortInfo

from emgfeedback.commands.devices import describe_ports
from emgfeedback.io.port_errors import explain_open_error
from emgfeedback.io.usb_boards import board_name


def usb_port(device: str, vid: int, pid: int, description: str, manufacturer: str | None = None) -> ListPortInfo:
    """A port as pyserial's list_ports builds it on that system."""
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.description, info.manufacturer = vid, pid, description, manufacturer
    info.serial_number = "85736323838351F0E1C1"
    info.hwid = f"USB VID:PID={vid:04X}:{pid:04X} SER={info.serial_number}"
    return info


# real VID:PIDs, with each system's port names and descriptions
WINDOWS = [
    usb_port("COM3", 0x2341, 0x0043, "Arduino Uno (COM3)", "Arduino LLC (www.arduino.cc)"),
    usb_port("COM5", 0x1A86, 0x7523, "USB-SERIAL CH340 (COM5)", "wch.cn"),
    usb_port("COM7", 0x2341, 0x8036, "Arduino Leonardo (COM7)", "Arduino LLC (www.arduino.cc)"),
    usb_port("COM9", 0x10C4, 0xEA60, "Silicon Labs CP210x USB to UART Bridge (COM9)", "Silicon Labs"),
]
MACOS = [
    usb_port("/dev/cu.usbmodem1101", 0x2341, 0x0043, "Arduino Uno", "Arduino (www.arduino.cc)"),
    usb_port("/dev/tty.usbmodem1101", 0x2341, 0x0043, "Arduino Uno", "Arduino (www.arduino.cc)"),
    usb_port("/dev/cu.usbserial-1420", 0x1A86, 0x7523, "USB Serial"),
    usb_port("/dev/tty.usbserial-1420", 0x1A86, 0x7523, "USB Serial"),
    usb_port("/dev/cu.usbmodem14301", 0x16C0, 0x0483, "USB Serial", "Teensyduino"),
    usb_port("/dev/cu.usbmodem1234561", 0x303A, 0x1001, "USB JTAG/serial debug unit", "Espressif"),
]
LINUX = [
    usb_port("/dev/ttyACM0", 0x2341, 0x0043, "Arduino Uno", "Arduino (www.arduino.cc)"),
    usb_port("/dev/ttyUSB0", 0x0403, 0x6001, "FT232R USB UART", "FTDI"),
    usb_port("/dev/ttyACM1", 0x2341, 0x8037, "Arduino Micro", "Arduino LLC"),
    usb_port("/dev/ttyACM2", 0x303A, 0x0002, "ESP32-S2", "Espressif"),
]


def test_windows_ports_are_com_names_with_boards_named() -> None:
    ports = {p.device: p for p in describe_ports(WINDOWS)}
    assert ports["COM3"].board == "Arduino Uno R3"
    assert ports["COM5"].board == "Nano/Uno clone (CH340)"
    assert ports["COM7"].board == "Arduino Leonardo"
    assert ports["COM9"].board.startswith("CP2102")
    assert all(p.likely_arduino for p in ports.values())


def test_macos_lists_the_cu_device_not_its_tty_twin() -> None:
    devices = [p.device for p in describe_ports(MACOS)]
    assert "/dev/cu.usbmodem1101" in devices and "/dev/tty.usbmodem1101" not in devices
    assert "/dev/cu.usbserial-1420" in devices and "/dev/tty.usbserial-1420" not in devices
    named = {p.device: p.board for p in describe_ports(MACOS)}
    assert named["/dev/cu.usbmodem14301"] == "Teensy (USB serial)"
    assert named["/dev/cu.usbmodem1234561"] == "ESP32-S3 (USB serial/JTAG)"
    lonely_tty = usb_port("/dev/tty.usbmodem9", 0x2341, 0x0043, "Arduino Uno")
    assert [p.device for p in describe_ports([lonely_tty])] == ["/dev/tty.usbmodem9"]  # no twin: kept


def test_linux_ports_and_the_devices_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from serial.tools import list_ports

    from emgfeedback import cli

    named = {p.device: p.board for p in describe_ports(LINUX)}
    assert named == {
        "/dev/ttyACM0": "Arduino Uno R3",
        "/dev/ttyUSB0": "FTDI FT232R USB-serial (older Nano, Duemilanove)",
        "/dev/ttyACM1": "Arduino Micro",
        "/dev/ttyACM2": "ESP32-S2 (native USB)",
    }
    monkeypatch.setattr(list_ports, "comports", lambda: list(LINUX))
    assert cli.main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "/dev/ttyACM0  2341:0043  Arduino Uno  <- likely board: Arduino Uno R3" in out
    assert cli.main(["devices", "--json"]) == 0
    assert '"board": "Arduino Micro"' in capsys.readouterr().out


def test_unknown_product_falls_back_to_the_vendor() -> None:
    assert board_name(0x2341, 0xFFFF) == "Arduino"
    assert board_name(0x1A86, None) == "CH340 USB-serial"
    assert board_name(None, None) == ""


@pytest.mark.parametrize(
    ("system", "exc"),
    [
        ("linux", serial.SerialException(errno.EBUSY, "could not open port /dev/ttyACM0: [Errno 16] Device or resource busy")),
        (
            "linux",
            serial.SerialException("Could not exclusively lock port /dev/ttyACM0: [Errno 11] Resource temporarily unavailable"),
        ),
        ("darwin", serial.SerialException(errno.EBUSY, "could not open port /dev/cu.usbmodem1101: [Errno 16] Resource busy")),
        ("win32", serial.SerialException("could not open port 'COM5': PermissionError(13, 'Access is denied.', None, 5)")),
    ],
)
def test_a_busy_port_names_the_program_that_holds_it(system: str, exc: Exception) -> None:
    line = explain_open_error("PORT", exc, system=system)
    assert line.startswith("PORT: port busy: another program holds it") and "Arduino IDE" in line


def test_other_open_errors_per_system() -> None:
    denied = serial.SerialException(errno.EACCES, "could not open port /dev/ttyACM0: [Errno 13] Permission denied")
    assert "dialout" in explain_open_error("/dev/ttyACM0", denied, system="linux")
    assert "dialout" not in explain_open_error("/dev/cu.x", denied, system="darwin")
    missing = serial.SerialException("could not open port 'COM4': FileNotFoundError(2, 'The system cannot find the file')")
    assert "Device Manager" in explain_open_error("COM4", missing, system="win32")
