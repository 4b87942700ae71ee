"""The package imports, and its main commands run, where the POSIX-only modules do not exist (Windows)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSIX_ONLY = ("fcntl", "termios", "pty", "tty", "grp", "pwd", "resource")

#: Runs in a fresh interpreter. pyserial is imported first because it picks its back end by platform
#: (serialwin32 on Windows, serialposix here); everything of ours is imported after the block.
SCRIPT = r"""
import importlib, json, pkgutil, sys
import serial, serial.tools.list_ports  # noqa: F401 - third-party, platform-adaptive
for name in {blocked!r}:
    sys.modules[name] = None  # import NAME now raises ImportError, as on Windows
import emgfeedback
from emgfeedback import cli
failed = {{}}
names = [m.name for m in pkgutil.walk_packages(emgfeedback.__path__, "emgfeedback.") if not m.name.endswith("__main__")]
for name in names:
    try:
        importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001
        failed[name] = repr(exc)
codes = {{}}
for argv in {commands!r}:
    try:
        codes[" ".join(argv)] = cli.main(argv)
    except SystemExit as exc:
        codes[" ".join(argv)] = exc.code
print("RESULT " + json.dumps({{"imported": len(names), "failed": failed, "codes": codes}}))
"""


def test_every_module_imports_and_main_commands_run_without_posix_modules(real_data: Path, tmp_path: Path) -> None:
    import json

    out = tmp_path / "envelope.csv"
    commands = [
        ["--help"],
        *([name, "--help"] for name in ("demo", "live", "doctor", "devices", "process", "calibrate", "export", "flash")),
        ["simulate-device", "--help"],
        ["process", str(real_data / "biosppy_emg_1.txt"), "--out", str(out)],
    ]
    script = SCRIPT.format(blocked=POSIX_ONLY, commands=commands)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line is not None, proc.stderr[-3000:]
    result = json.loads(line.removeprefix("RESULT "))
    assert result["failed"] == {}
    assert result["imported"] > 50
    assert set(result["codes"].values()) == {0}, result["codes"]
    assert out.stat().st_size > 1000
    assert "Traceback" not in proc.stderr


def test_simulate_device_on_windows_says_it_needs_linux_or_macos(monkeypatch, capsys) -> None:
    import os

    from emgfeedback import cli

    monkeypatch.delattr(os, "openpty")  # as on Windows
    assert cli.main(["simulate-device"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs Linux or macOS" in err[0] and "--source simulated" in err[0]
