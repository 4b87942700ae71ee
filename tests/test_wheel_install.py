"""The built wheel, installed with pip alone into a fresh virtual environment, runs the app on its own.

The must-show of issue 13 (and issue 10's "protocols load from a built wheel"): no checkout on the
path, no system site-packages, no editable install. Dependencies come from pip's cache or index as
configured on the machine (a local wheelhouse through PIP_FIND_LINKS works too), so it stays fast.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = "Scripts" if os.name == "nt" else "bin"

#: Printed by the installed interpreter: where each run-time resource comes from.
WHERE = r"""
import json, emgfeedback
from emgfeedback.calibration.protocol import builtin_protocols, shipped_protocols_folder
from emgfeedback.commands.flash import bundled_hex
from emgfeedback.ui import sounds
from emgfeedback.ui.sounds import cue_sounds
print(json.dumps({
    "package": emgfeedback.__file__,
    "protocols": str(shipped_protocols_folder()),
    "protocol_muscles": sorted(builtin_protocols()),
    "hex": str(bundled_hex()),
    "hex_ok": bundled_hex().is_file(),
    "sounds": sounds.__file__,
    "cues": len(cue_sounds()),
}))
"""


def run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """(venv, env, work folder): the wheel built from this checkout, installed with pip into a new venv."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    # build from a clean copy: setuptools reuses ./build, where stale files from older builds could ride along
    source = tmp / "source"
    junk = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis")
    shutil.copytree(ROOT, source, ignore=junk)
    built = run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(tmp / "dist")], env, tmp)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheel = next((tmp / "dist").glob("emgfeedback-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"emgfeedback/firmware/emgfeedback-uno.hex", "emgfeedback/calibration/protocols/glute_max.toml"} <= names
    assert "emgfeedback/calibration/protocols/hamstring.toml" in names and "emgfeedback/ui/sounds.py" in names
    base = getattr(sys, "_base_executable", sys.executable)
    made = run([base, "-m", "venv", str(tmp / "venv")], env, tmp)
    assert made.returncode == 0, made.stderr
    python = tmp / "venv" / BIN / "python"
    pip = run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", str(wheel)], env, tmp, timeout=900)
    assert pip.returncode == 0, pip.stderr[-3000:]
    home = tmp / "home"
    home.mkdir(mode=0o700)
    env |= {"QT_QPA_PLATFORM": "offscreen", "EMGFEEDBACK_HOME": str(home), "EMGFEEDBACK_AUDIO": "null"}
    work = tmp / "work"  # not the checkout: nothing can be imported from it by accident
    work.mkdir()
    return tmp / "venv", env, work


@pytest.mark.slow
def test_resources_load_from_the_installed_package(installed: tuple[Path, dict[str, str], Path]) -> None:
    venv, env, work = installed
    proc = run([str(venv / BIN / "python"), "-c", WHERE], env, work)
    assert proc.returncode == 0, proc.stderr
    where = json.loads(proc.stdout)
    site = str(venv.resolve())
    for key in ("package", "protocols", "hex", "sounds"):
        assert str(Path(where[key]).resolve()).startswith(site), (key, where[key])
        assert not str(Path(where[key]).resolve()).startswith(str(ROOT)), key
    assert where["protocol_muscles"] == ["glute_max", "hamstring"]
    assert where["hex_ok"] and where["cues"] >= 6


@pytest.mark.slow
def test_demo_doctor_and_the_offline_commands_run_from_the_wheel(
    installed: tuple[Path, dict[str, str], Path], real_data: Path
) -> None:
    venv, env, work = installed
    exe = str(venv / BIN / "emgfeedback")
    shot = work / "demo.png"
    demo = run([exe, "demo", "--record", "--screenshot", str(shot), "--quit-after", "3"], env, work)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert shot.stat().st_size > 10_000 and "Traceback" not in demo.stderr
    doctor = run([exe, "doctor", "--json"], env, work)
    report = json.loads(doctor.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    for name in ("PySide6", "miniaudio", "numpy", "scipy", "qt libraries"):
        assert checks[name]["status"] in ("ok", "info"), checks[name]
    assert checks["audio output"]["status"] == "ok"  # miniaudio's null device, through the installed package
    assert "the check itself failed" not in doctor.stdout
    envelope = work / "envelope.csv"
    process = run([exe, "process", str(real_data / "biosppy_emg_1.txt"), "--out", str(envelope)], env, work)
    assert process.returncode == 0, process.stderr
    assert envelope.stat().st_size > 1000
    calibrate = run([exe, "calibrate", "--source", "simulated", "--name", "wheel", "--trials", "1", "--fast"], env, work)
    assert calibrate.returncode == 0, calibrate.stdout[-2000:] + calibrate.stderr[-2000:]
    export = run([exe, "export", "1", "--format", "all", "--out", str(work / "export")], env, work)
    assert export.returncode == 0, export.stderr
    assert any(p.suffix == ".html" for p in (work / "export").iterdir())


def test_protocols_load_from_the_checkout() -> None:
    """From a checkout (no build step) the same loader reads the top-level calibration/ folder."""
    from emgfeedback.calibration.protocol import builtin_protocols, shipped_protocols_folder

    assert Path(str(shipped_protocols_folder())) == ROOT / "calibration"
    assert sorted(builtin_protocols()) == ["glute_max", "hamstring"]
