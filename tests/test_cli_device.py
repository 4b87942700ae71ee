"""The device commands end to end: simulate-device in a subprocess, monitor on it, devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import VirtualBoard

from emgfeedback.cli import build_parser, main
from emgfeedback.commands.devices import classify

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def device(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VirtualBoard]:
    args = getattr(request, "param", ())
    dev = VirtualBoard(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    yield dev
    dev.stop()


@pytest.mark.parametrize("device", [("--channels", "3", "--fs", "500", "--link", "{tmp}/board")], indirect=True)
def test_monitor_json_on_simulate_device(device: VirtualBoard, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert device.path == str(tmp_path / "board") and os.path.islink(device.path)
    t = time.monotonic()
    code = main(["monitor", "--source", device.path, "--seconds", "5", "--json"])
    assert code == 0 and time.monotonic() - t < 8.0
    out, err = capsys.readouterr()
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["protocol"] == "frame" and summary["fs"] == 500 and summary["channels"] == 3
    assert summary["lost"] == 0 and summary["rejected"] == 0 and summary["reconnects"] == 0
    assert 2400 <= summary["frames"] <= 2600
    assert abs(summary["measured_fs"] - 500) < 15
    assert [c["quality"] for c in summary["per_channel"]] == ["OK"] * 3
    assert "\x1b[" not in err  # not a terminal: plain lines
    code, err = device.stop()
    assert code == 0 and "sent" in err
    assert not os.path.lexists(tmp_path / "board")


@pytest.mark.parametrize("device", [("--protocol", "p2", "--fs", "250", "--scenario", "counter")], indirect=True)
def test_monitor_plain_lines_on_a_p2_device(device: VirtualBoard, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", "--source", device.path, "--fs", "250", "--seconds", "1.5"]) == 0
    out = capsys.readouterr().out
    assert "p2 at" in out and "250 Hz x 6 ch" in out and "lost 0" in out and "\x1b[" not in out


def test_monitor_missing_port_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", "--source", str(tmp_path / "ttyACM7"), "--seconds", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such serial port" in err and "emgfeedback devices" in err


@pytest.mark.parametrize("source", ["simulated", "/dev/ttyACM0"])
def test_columns_with_a_live_source_is_refused_not_ignored(source: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", "--source", source, "--columns", "0,1", "--seconds", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--columns picks columns of a replayed file" in err and "--muscles" in err


def test_devices_json_is_a_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "--json"]) == 0
    ports = json.loads(capsys.readouterr().out)
    assert isinstance(ports, list)
    for port in ports:
        assert {"device", "description", "likely_arduino", "vid", "pid"} <= set(port)


def test_devices_subprocess_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "emgfeedback", "devices", "--json"], capture_output=True, cwd=ROOT, timeout=30, check=False
    )
    assert done.returncode == 0 and isinstance(json.loads(done.stdout), list)


@pytest.mark.parametrize(
    ("device", "description", "vid", "manufacturer", "kind"),
    [
        ("/dev/ttyACM0", "Arduino Uno", 0x2341, "Arduino (www.arduino.cc)", "Arduino"),
        ("/dev/ttyACM0", "Nano Every", 0x2A03, None, "Arduino"),
        ("/dev/ttyUSB0", "USB2.0-Serial", 0x1A86, None, "CH340 USB-serial"),
        ("/dev/ttyUSB1", "FT232R USB UART", 0x0403, "FTDI", "FTDI USB-serial"),
        ("/dev/ttyUSB2", "CP2102 USB to UART Bridge Controller", 0x10C4, "Silicon Labs", "CP210x USB-serial"),
        ("COM5", "USB-SERIAL CH340 (COM5)", None, "wch.cn", "USB-serial"),
        ("/dev/ttyS0", "n/a", None, None, ""),
        ("/dev/ttyACM3", "Some Modem", 0x1234, "Acme", "USB CDC device"),
    ],
)
def test_port_classification(device: str, description: str, vid: int | None, manufacturer: str | None, kind: str) -> None:
    assert classify(device, description, vid=vid, manufacturer=manufacturer) == kind


@pytest.mark.parametrize("command", ["devices", "monitor", "simulate-device"])
def test_help_has_an_example_epilog(command: str) -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    text = sub.choices[command].format_help()  # type: ignore[union-attr]
    assert "example" in text and f"emgfeedback {command}" in text
