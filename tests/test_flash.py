"""``emgfeedback flash``: the exact avrdude command per board, one-line errors, and a fake avrdude that records its arguments."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from emgfeedback import cli
from emgfeedback.commands import flash

HEX = ":100000000C945C000C946E000C946E000C946E00CA\n:00000001FF\n"

FAKE_AVRDUDE = """#!{python}
import json, os, sys
with open(os.environ["FAKE_AVRDUDE_LOG"], "w") as f:
    json.dump(sys.argv[1:], f)
sys.stderr.write("avrdude: AVR device initialized and ready to accept instructions\\n")
sys.stderr.write("Writing | ################################################## | 100% 0.50s\\n")
if os.environ.get("FAKE_AVRDUDE_FAIL"):
    sys.stderr.write("avrdude: stk500_getsync() attempt 10 of 10: not in sync: resp=0x00\\n")
    sys.exit(1)
sys.stderr.write("avrdude: 5120 bytes of flash verified\\n")
"""


@pytest.fixture
def hex_file(tmp_path: Path) -> Path:
    path = tmp_path / "fw.hex"
    path.write_text(HEX, encoding="ascii")
    return path


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    """A directory holding a fake ``avrdude`` (a Python script that logs its arguments)."""
    d = tmp_path / "bin"
    d.mkdir()
    script = d / "avrdude"
    script.write_text(FAKE_AVRDUDE.format(python=sys.executable), encoding="utf-8")
    script.chmod(0o755)
    return d


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["flash", *argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.mark.parametrize(("board", "baud"), [("uno", 115200), ("nano", 115200), ("nano-old", 57600)])
def test_dry_run_prints_the_exact_command_per_board(
    board: str, baud: int, hex_file: Path, fake_bin: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(fake_bin))
    code, out, _ = run(capsys, "--port", "/dev/ttyACM0", "--hex", str(hex_file), "--board", board, "--dry-run")
    assert code == 0
    expected = f"{fake_bin / 'avrdude'} -p atmega328p -c arduino -P /dev/ttyACM0 -b {baud} -D -U flash:w:{hex_file}:i"
    assert out.strip() == expected
    assert shlex.split(out) == flash.avrdude_command("/dev/ttyACM0", hex_file, board, avrdude=str(fake_bin / "avrdude"))


def test_dry_run_defaults_to_the_uno_and_the_bundled_hex(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no avrdude anywhere: the command names plain avrdude
    monkeypatch.setenv("HOME", str(tmp_path))
    code, out, _ = run(capsys, "--port", "COM3", "--dry-run")
    assert code == 0
    args = shlex.split(out)
    assert args[:9] == ["avrdude", "-p", "atmega328p", "-c", "arduino", "-P", "COM3", "-b", "115200"]
    assert args[-1] == f"flash:w:{flash.bundled_hex()}:i"
    assert flash.bundled_hex().as_posix().endswith("emgfeedback/firmware/emgfeedback-uno.hex")


def test_missing_port_is_a_one_line_error(hex_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--hex", str(hex_file))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--port" in err and "emgfeedback devices" in err


def test_missing_avrdude_gives_the_install_hint(
    hex_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    monkeypatch.setenv("HOME", str(tmp_path))  # and no Arduino install in the home folder
    monkeypatch.delenv("ARDUINO_DIRECTORIES_DATA", raising=False)
    code, _, err = run(capsys, "--port", "/dev/ttyACM0", "--hex", str(hex_file))
    assert code == 2
    assert err.count("\n") == 1
    assert "avrdude not found" in err and "sudo apt install avrdude" in err
    assert "Arduino IDE 2" in err and "--avrdude PATH" in err  # the three ways to get one
    code, out, err = run(capsys, "--port", "/dev/ttyACM0", "--hex", str(hex_file), "--dry-run")
    assert code == 0 and out.startswith("avrdude ") and "sudo apt install avrdude" in err


def test_missing_bundled_hex_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(flash, "bundled_hex", lambda: tmp_path / "emgfeedback-uno.hex")
    code, _, err = run(capsys, "--port", "/dev/ttyACM0")
    assert code == 2 and err.count("\n") == 1
    assert "bundled firmware" in err and "is missing" in err and "--hex FILE" in err


def test_bad_hex_files_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--port", "/dev/ttyACM0", "--hex", str(tmp_path / "nope.hex"))
    assert code == 2 and "no such firmware file" in err
    elf = tmp_path / "fw.elf"
    elf.write_bytes(b"\x7fELF\x01\x01\x01")
    code, _, err = run(capsys, "--port", "/dev/ttyACM0", "--hex", str(elf))
    assert code == 2 and "is not an Intel HEX file" in err


def _env(fake_bin: Path, log: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "FAKE_AVRDUDE_FAIL"}
    env.update(PATH=f"{fake_bin}{os.pathsep}{env.get('PATH', '')}", FAKE_AVRDUDE_LOG=str(log), **extra)
    return env


@pytest.mark.parametrize(("board", "baud"), [("uno", "115200"), ("nano-old", "57600")])
def test_fake_avrdude_receives_the_right_arguments(board: str, baud: str, fake_bin: Path, hex_file: Path, tmp_path: Path) -> None:
    master, slave = os.openpty()  # a real device node under /dev/pts for --port
    port = os.ttyname(slave)
    log = tmp_path / "argv.json"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "emgfeedback", "flash", "--port", port, "--hex", str(hex_file), "--board", board],
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(fake_bin, log),
            check=False,
        )
    finally:
        os.close(master)
        os.close(slave)
    assert proc.returncode == 0, proc.stderr
    argv = json.loads(log.read_text(encoding="utf-8"))
    assert argv == ["-p", "atmega328p", "-c", "arduino", "-P", port, "-b", baud, "-D", "-U", f"flash:w:{hex_file}:i"]
    assert "5120 bytes of flash verified" in proc.stderr  # avrdude's output is streamed through
    assert f"flashed {port}" in proc.stderr


def test_avrdude_failure_gives_a_hint(fake_bin: Path, hex_file: Path, tmp_path: Path) -> None:
    master, slave = os.openpty()
    port = os.ttyname(slave)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "emgfeedback", "flash", "--port", port, "--hex", str(hex_file), "--board", "nano"],
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(fake_bin, tmp_path / "argv.json", FAKE_AVRDUDE_FAIL="1"),
            check=False,
        )
    finally:
        os.close(master)
        os.close(slave)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("emgfeedback: error: avrdude failed (exit status 1)")
    assert "--board nano-old" in last


def test_port_that_does_not_exist(fake_bin: Path, hex_file: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "emgfeedback", "flash", "--port", "/dev/ttyACM97", "--hex", str(hex_file)],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(fake_bin, tmp_path / "argv.json"),
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "emgfeedback: error: /dev/ttyACM97: no such port: plug the board in and check the name with emgfeedback devices"
    )
    assert not (tmp_path / "argv.json").exists()  # avrdude was not run


def test_failure_hints() -> None:
    assert "dialout" in flash.failure_hint('ser_open(): can\'t open device "/dev/ttyACM0": Permission denied', "uno")
    assert "close" in flash.failure_hint("ser_open(): can't open device: Device or resource busy", "uno")
    assert "--board nano" in flash.failure_hint("stk500_recv(): programmer is not responding", "nano-old")
    assert "ATmega328P" in flash.failure_hint("Device signature = 0x1e950f... expected signature", "uno")


def test_bundled_hex_is_an_intel_hex_image_that_fits_the_uno() -> None:
    path = flash.bundled_hex()
    flash.check_hex(path)  # exists, starts with ':'
    end = 0
    for line in path.read_text(encoding="ascii").split():
        raw = bytes.fromhex(line[1:])
        count, address, kind = raw[0], int.from_bytes(raw[1:3], "big"), raw[3]
        assert len(raw) == count + 5, line
        assert sum(raw) % 256 == 0, f"bad checksum: {line}"
        if kind == 0:
            end = max(end, address + count)
    assert 0 < end <= 32256  # the Uno's 32 KiB flash minus the 512-byte optiboot bootloader
