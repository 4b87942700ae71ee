"""Find avrdude and its avrdude.conf: ``--avrdude PATH``, the PATH, or an Arduino IDE / arduino-cli install.

The Arduino IDE 2 and arduino-cli keep their tools in the same data folder ("Arduino15"):
``~/.arduino15`` on Linux, ``~/Library/Arduino15`` on macOS and ``%LOCALAPPDATA%\\Arduino15`` on
Windows, or ``$ARDUINO_DIRECTORIES_DATA`` when set. The Uno's core puts avrdude in
``packages/arduino/tools/avrdude/VERSION/{bin/avrdude, etc/avrdude.conf}``. The Arduino IDE 1.x
bundles one in its install folder under ``hardware/tools/avr/{bin,etc}``. Pure path logic: the
system, environment and home folder are parameters, so tests lay out fake installs per system.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

#: The three ways to get avrdude, said when none is found.
HOW_TO_GET = {
    "linux": "install it (Debian/Ubuntu: sudo apt install avrdude), install the Arduino IDE 2 or arduino-cli with the "
    "'Arduino AVR Boards' core, or give its path with --avrdude PATH",
    "darwin": "install it (brew install avrdude), install the Arduino IDE 2 or arduino-cli with the "
    "'Arduino AVR Boards' core, or give its path with --avrdude PATH",
    "win32": "install the Arduino IDE 2 (or arduino-cli) with the 'Arduino AVR Boards' core, put an avrdude.exe on "
    "the PATH, or give its path with --avrdude PATH",
}


@dataclass(frozen=True)
class Avrdude:
    """One usable avrdude: the program, the configuration of the same install, where it was found."""

    executable: Path
    config: Path | None
    origin: str

    def command_prefix(self) -> list[str]:
        """``avrdude [-C avrdude.conf]``: an Arduino install's avrdude needs its own configuration."""
        return [str(self.executable), *(["-C", str(self.config)] if self.config else [])]


def os_name(platform: str | None = None) -> str:
    """``linux``, ``darwin`` or ``win32`` (other POSIX systems count as linux)."""
    p = platform or sys.platform
    return p if p in ("darwin", "win32") else "linux"


def exe_name(system: str) -> str:
    return "avrdude.exe" if system == "win32" else "avrdude"


def arduino_data_dirs(system: str, env: Mapping[str, str], home: Path) -> list[Path]:
    """The Arduino IDE 2 / arduino-cli data folders to look in, most specific first."""
    dirs = []
    if env.get("ARDUINO_DIRECTORIES_DATA"):
        dirs.append(Path(env["ARDUINO_DIRECTORIES_DATA"]))
    if system == "win32":
        local = env.get("LOCALAPPDATA")
        dirs.append(Path(local) / "Arduino15" if local else home / "AppData" / "Local" / "Arduino15")
    elif system == "darwin":
        dirs.append(home / "Library" / "Arduino15")
    else:
        dirs.append(home / ".arduino15")
    return dirs


def ide1_dirs(system: str, env: Mapping[str, str], home: Path) -> list[Path]:
    """Install folders of the Arduino IDE 1.x, which bundles avrdude under hardware/tools/avr."""
    if system == "win32":
        return [Path(env[k]) / "Arduino" for k in ("ProgramFiles(x86)", "ProgramFiles") if env.get(k)]
    if system == "darwin":
        return [Path("/Applications/Arduino.app/Contents/Java"), home / "Applications" / "Arduino.app" / "Contents" / "Java"]
    return sorted(home.glob("arduino-1.*"), key=_version_key, reverse=True)  # the unpacked Linux tarball


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.name))


def in_data_dir(data: Path, system: str) -> Avrdude | None:
    """The newest avrdude the Arduino AVR core installed in ``data``."""
    tools = data / "packages" / "arduino" / "tools" / "avrdude"
    if not tools.is_dir():
        return None
    for version in sorted((p for p in tools.iterdir() if p.is_dir()), key=_version_key, reverse=True):
        exe = version / "bin" / exe_name(system)
        if exe.is_file():
            conf = version / "etc" / "avrdude.conf"
            return Avrdude(exe, conf if conf.is_file() else None, f"Arduino IDE 2 / arduino-cli ({data})")
    return None


def in_ide1(folder: Path, system: str) -> Avrdude | None:
    avr = folder / "hardware" / "tools" / "avr"
    exe = avr / "bin" / exe_name(system)
    if not exe.is_file():
        return None
    conf = avr / "etc" / "avrdude.conf"
    return Avrdude(exe, conf if conf.is_file() else None, f"Arduino IDE 1.x ({folder})")


def given(path: str | Path) -> Avrdude | None:
    """``--avrdude PATH``: the program itself, or an install folder holding bin/avrdude."""
    p = Path(path).expanduser()
    if p.is_dir():
        for exe in (p / "bin" / "avrdude", p / "bin" / "avrdude.exe", p / "avrdude", p / "avrdude.exe"):
            if exe.is_file():
                p = exe
                break
    if not p.is_file():
        return None
    return Avrdude(p, _conf_beside(p), "--avrdude")


def _conf_beside(exe: Path) -> Path | None:
    """The avrdude.conf of the install ``exe`` belongs to, when it has its own (Arduino-style layouts)."""
    for conf in (exe.parent.parent / "etc" / "avrdude.conf", exe.parent / "avrdude.conf"):
        if conf.is_file():
            return conf
    return None


def find_avrdude(
    explicit: str | Path | None = None,
    *,
    system: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> Avrdude | None:
    """The avrdude to use: ``explicit`` (only it), else the PATH, else an Arduino IDE 2 / arduino-cli, else an IDE 1.x."""
    system = os_name(system)
    if explicit is not None:
        return given(explicit)
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    on_path = which("avrdude")
    if on_path:
        return Avrdude(Path(on_path), None, "PATH")  # a system avrdude knows where its configuration is
    for data in arduino_data_dirs(system, env, home):
        found = in_data_dir(data, system)
        if found:
            return found
    for folder in ide1_dirs(system, env, home):
        found = in_ide1(folder, system)
        if found:
            return found
    return None


def not_found_message(system: str | None = None) -> str:
    """The one line said when no avrdude was found: the three ways to get one."""
    return f"avrdude not found: {HOW_TO_GET[os_name(system)]} (docs/install.md)"
