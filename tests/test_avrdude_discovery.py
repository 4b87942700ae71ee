"""``flash`` finds avrdude where each system's Arduino installs put it: fake install trees laid out per system."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from emgfeedback import cli
from emgfeedback.avrdude import find_avrdude, not_found_message


def make_tool(root: Path, version: str, exe: str) -> tuple[Path, Path]:
    """An Arduino AVR core's avrdude: packages/arduino/tools/avrdude/VERSION/{bin/EXE, etc/avrdude.conf}."""
    base = root / "packages" / "arduino" / "tools" / "avrdude" / version
    (base / "bin").mkdir(parents=True)
    (base / "etc").mkdir()
    program = base / "bin" / exe
    program.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    program.chmod(0o755)
    conf = base / "etc" / "avrdude.conf"
    conf.write_text("# avrdude.conf\n", encoding="utf-8")
    return program, conf


def nothing_on_path(_name: str) -> str | None:
    return None


@pytest.mark.parametrize(
    ("system", "data_dir", "exe"),
    [
        ("linux", Path(".arduino15"), "avrdude"),
        ("darwin", Path("Library") / "Arduino15", "avrdude"),
        ("win32", Path("AppData") / "Local" / "Arduino15", "avrdude.exe"),
    ],
)
def test_arduino_ide2_and_cli_data_folder_per_system(tmp_path: Path, system: str, data_dir: Path, exe: str) -> None:
    home = tmp_path / "home"
    make_tool(home / data_dir, "6.3.0-arduino17", exe)
    newest, conf = make_tool(home / data_dir, "8.0.0-arduino1", exe)
    env = {"LOCALAPPDATA": str(home / "AppData" / "Local")} if system == "win32" else {}
    found = find_avrdude(system=system, env=env, home=home, which=nothing_on_path)
    assert found is not None
    assert found.executable == newest and found.config == conf  # the newest version, with its own avrdude.conf
    assert "Arduino IDE 2 / arduino-cli" in found.origin
    assert found.command_prefix() == [str(newest), "-C", str(conf)]


def test_arduino_cli_data_folder_from_its_environment_variable(tmp_path: Path) -> None:
    program, conf = make_tool(tmp_path / "custom-data", "7.1.0-arduino3", "avrdude")
    env = {"ARDUINO_DIRECTORIES_DATA": str(tmp_path / "custom-data")}
    found = find_avrdude(system="linux", env=env, home=tmp_path / "home", which=nothing_on_path)
    assert found is not None and found.executable == program and found.config == conf


def test_path_wins_and_needs_no_config(tmp_path: Path) -> None:
    make_tool(tmp_path / ".arduino15", "8.0.0-arduino1", "avrdude")
    found = find_avrdude(system="linux", env={}, home=tmp_path, which=lambda name: "/usr/bin/avrdude")
    assert found is not None and str(found.executable) == "/usr/bin/avrdude" and found.config is None
    assert found.origin == "PATH"


def test_arduino_ide1_bundle_on_windows(tmp_path: Path) -> None:
    avr = tmp_path / "Program Files (x86)" / "Arduino" / "hardware" / "tools" / "avr"
    (avr / "bin").mkdir(parents=True)
    (avr / "etc").mkdir()
    (avr / "bin" / "avrdude.exe").write_bytes(b"MZ")
    (avr / "etc" / "avrdude.conf").write_text("#\n", encoding="utf-8")
    env = {"ProgramFiles(x86)": str(tmp_path / "Program Files (x86)"), "LOCALAPPDATA": str(tmp_path / "nowhere")}
    found = find_avrdude(system="win32", env=env, home=tmp_path / "home", which=nothing_on_path)
    assert found is not None and found.executable.name == "avrdude.exe" and found.config == avr / "etc" / "avrdude.conf"


def test_none_found_names_the_three_ways(tmp_path: Path) -> None:
    for system in ("linux", "darwin", "win32"):
        assert find_avrdude(system=system, env={}, home=tmp_path, which=nothing_on_path) is None
        message = not_found_message(system)
        assert "Arduino IDE 2" in message and "arduino-cli" in message and "--avrdude PATH" in message
    assert "apt install avrdude" in not_found_message("linux") and "brew install avrdude" in not_found_message("darwin")


def test_flash_dry_run_uses_the_found_install_with_its_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    program, conf = make_tool(tmp_path / ".arduino15", "8.0.0-arduino1", "avrdude")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("ARDUINO_DIRECTORIES_DATA", raising=False)
    assert cli.main(["flash", "--port", "/dev/ttyACM0", "--dry-run"]) == 0
    out = capsys.readouterr()
    assert shlex.split(out.out)[:3] == [str(program), "-C", str(conf)]
    assert "Arduino IDE 2 / arduino-cli" in out.err
    # --avrdude PATH: the program or its install folder, with that install's avrdude.conf
    for given in (program, program.parent.parent):
        assert cli.main(["flash", "--port", "COM5", "--avrdude", str(given), "--dry-run"]) == 0
        assert shlex.split(capsys.readouterr().out)[:3] == [str(program), "-C", str(conf)]
    assert cli.main(["flash", "--port", "COM5", "--avrdude", str(tmp_path / "nope"), "--dry-run"]) == 2
    assert "no avrdude there" in capsys.readouterr().err
