"""``emgfeedback doctor``: each probe is simulated (monkeypatched System methods) and the command reports it right."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from emgfeedback import cli, doctor
from emgfeedback.avrdude import Avrdude
from emgfeedback.doctor import AudioProbe, Port, QtProbe, Status, System

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = {
    "numpy": "2.0.1",
    "scipy": "1.13.0",
    "pyserial": "3.5",
    "PySide6-Essentials": "6.11.3",
    "pyqtgraph": "0.13.7",
    "edfio": "0.4.18",
    "platformdirs": "4.3.0",
    "matplotlib": "3.9.0",
    "packaging": "24.1",
    "miniaudio": "1.71",
    "mne-lsl": "1.14.0",
    "brainflow": "5.23.0",
    "pyedflib": "0.1.42",
    "pyxdf": "1.17.5",
}


@pytest.fixture
def healthy(monkeypatch: pytest.MonkeyPatch, emg_home: Path) -> dict:
    """A Linux desktop where everything works; tests change one probe at a time through ``state``."""
    emg_home.chmod(0o700)
    state: dict = {
        "versions": dict(VERSIONS),
        "env": {"DISPLAY": ":0", "EMGFEEDBACK_HOME": str(emg_home)},
        "missing_libs": set(),
        "ldd_missing": [],
        "os": "linux",
        "probe": QtProbe(ok=True, platform="xcb", window=True),
        "audio": AudioProbe(ok=True, backend="PulseAudio"),
        "probe_calls": [],
        "ports": [Port("/dev/ttyACM0", "Arduino Uno")],
        "can_open": True,
        "session_groups": {"ana", "dialout"},
        "member_groups": {"ana", "dialout"},
        "tools": {"avrdude": "/usr/bin/avrdude", "arduino-builder": "/usr/bin/arduino-builder", "simavr": "/usr/bin/simavr"},
    }

    def probe(self: System, platform_name: str | None) -> QtProbe:
        state["probe_calls"].append(platform_name)
        return state["probe"]

    patches = {
        "python_version": lambda self: (3, 11, 7),
        "version": lambda self, dist: state["versions"].get(dist),
        "os_name": lambda self: state["os"],
        "audio_probe": lambda self: state["audio"],
        "avrdude": lambda self: Avrdude(Path(state["tools"]["avrdude"]), None, "PATH") if state["tools"].get("avrdude") else None,
        "env": lambda self, name: state["env"].get(name),
        "find_library": lambda self, name: None if name in state["missing_libs"] else f"lib{name}.so.1",
        "qt_xcb_plugin": lambda self: Path("/fake/PySide6/Qt/plugins/platforms/libqxcb.so"),
        "ldd_missing": lambda self, path: list(state["ldd_missing"]),
        "qt_probe": probe,
        "serial_ports": lambda self: list(state["ports"]),
        "can_open": lambda self, path: state["can_open"],
        "owner_group": lambda self, path: "dialout",
        "user": lambda self: "ana",
        "session_groups": lambda self: set(state["session_groups"]),
        "member_groups": lambda self, user: set(state["member_groups"]),
        "which": lambda self, tool: state["tools"].get(tool),
    }
    for name, fn in patches.items():
        monkeypatch.setattr(System, name, fn)
    return state


def by_name(report: doctor.Report) -> dict[str, doctor.Check]:
    out: dict[str, doctor.Check] = {}
    for c in report.checks:
        out.setdefault(c.name, c)
    return out


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(["doctor", *argv])
    return code, capsys.readouterr().out


def test_everything_fine_passes_and_exits_zero(healthy: dict, capsys: pytest.CaptureFixture[str]) -> None:
    report = doctor.run_doctor()
    assert report.ok
    bad = [c for c in report.checks if c.status is not Status.OK]
    assert bad == []
    names = [c.name for c in report.checks]
    for expected in ("python", "numpy", "PySide6", "qt libraries", "qt window", "audio output", "serial ports"):
        assert expected in names
    for expected in ("serial permission", "data directory", "profiles", "avrdude", "arduino-builder", "simavr"):
        assert expected in names
    assert healthy["probe_calls"] == [None]  # a desktop: Qt's default platform, a real window
    code, out = run_cli(capsys)
    assert code == 0
    assert "0 failure(s), 0 warning(s): everything emgfeedback needs works" in out
    assert "to fix:" not in out
    assert "Arduino Uno" in out


def test_missing_qt_window_library_is_reported_with_the_apt_fix(healthy: dict, capsys: pytest.CaptureFixture[str]) -> None:
    healthy["missing_libs"] = {"xkbcommon-x11", "xcb-cursor"}
    healthy["ldd_missing"] = ["libxkbcommon-x11.so.0", "libxcb-cursor.so.0", "libxcb-icccm.so.4"]
    healthy["probe"] = QtProbe(
        ok=False,
        error="qt.qpa.plugin: From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb platform plugin.",
    )
    checks = by_name(doctor.run_doctor())
    libs = checks["qt libraries"]
    assert libs.status is Status.FAIL
    assert "libxkbcommon-x11" in libs.detail and "libxcb-cursor" in libs.detail and "libxcb-icccm.so.4" in libs.detail
    assert libs.fix == "sudo apt install libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4"
    window = checks["qt window"]
    assert window.status is Status.FAIL
    assert "libxcb-cursor0 is needed" in window.detail
    assert window.fix == libs.fix
    code, out = run_cli(capsys)
    assert code == 1
    assert "qt libraries (fail): sudo apt install libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4" in out
    assert "emgfeedback needs the fixes above" in out


def test_missing_core_qt_library_fails_without_starting_qt(healthy: dict) -> None:
    healthy["missing_libs"] = {"EGL", "fontconfig"}
    report = doctor.run_doctor()
    libs = by_name(report)["qt libraries"]
    assert libs.status is Status.FAIL
    assert "libEGL" in libs.detail and "libfontconfig" in libs.detail and "not even offscreen" in libs.detail
    assert libs.fix == "sudo apt install libegl1 libfontconfig1"
    assert healthy["probe_calls"] == []
    assert not report.ok


def test_without_a_display_window_libraries_only_warn(healthy: dict, capsys: pytest.CaptureFixture[str]) -> None:
    healthy["env"].pop("DISPLAY")
    healthy["ldd_missing"] = ["libxcb-keysyms.so.1"]
    healthy["probe"] = QtProbe(ok=True, platform="offscreen", window=True)
    healthy["audio"] = AudioProbe(ok=False, error="no sound device (failed to init device)")
    checks = by_name(doctor.run_doctor())
    assert healthy["probe_calls"] == ["offscreen"]
    assert checks["qt libraries"].status is Status.WARN
    assert checks["qt libraries"].fix == "sudo apt install libxcb-keysyms1"
    assert checks["qt window"].status is Status.WARN
    assert "no display" in checks["qt window"].detail
    assert checks["audio output"].status is Status.WARN
    code, out = run_cli(capsys)
    assert code == 0
    assert "0 failure(s), 3 warning(s)" in out


def test_qt_not_installed_points_at_the_package_install(healthy: dict) -> None:
    del healthy["versions"]["PySide6-Essentials"]
    healthy["probe"] = doctor.parse_qt_probe(1, "", "Traceback ...\nModuleNotFoundError: No module named 'PySide6'\n")
    checks = by_name(doctor.run_doctor())
    assert checks["PySide6"].status is Status.FAIL
    assert checks["qt window"].status is Status.FAIL
    assert "No module named 'PySide6'" in checks["qt window"].detail
    assert "setup.sh" in (checks["qt window"].fix or "")


def test_forced_platform_is_respected(healthy: dict) -> None:
    healthy["env"] = {"QT_QPA_PLATFORM": "offscreen", "EMGFEEDBACK_HOME": healthy["env"]["EMGFEEDBACK_HOME"]}
    checks = by_name(doctor.run_doctor())
    assert healthy["probe_calls"] == ["offscreen"]
    assert checks["qt window"].status is Status.OK
    assert "QT_QPA_PLATFORM=offscreen" in checks["qt window"].detail


def test_no_audio_back_end_library_warns_and_the_dashboard_still_runs(healthy: dict) -> None:
    healthy["missing_libs"] = {"pulse", "asound"}
    healthy["audio"] = AudioProbe(ok=False, error="no sound device (cannot init context)")
    report = doctor.run_doctor()
    check = by_name(report)["audio library"]
    assert check.status is Status.WARN
    assert check.fix == "sudo apt install libpulse0"
    assert by_name(report)["audio output"].status is Status.WARN and "muted" in by_name(report)["audio output"].detail
    assert report.ok


def test_missing_audio_package_warns_with_the_pip_fix(healthy: dict) -> None:
    healthy["audio"] = AudioProbe(ok=False, error="no audio library (miniaudio does not load: No module named 'miniaudio')")
    check = by_name(doctor.run_doctor())["audio output"]
    assert check.status is Status.WARN and "muted" in check.detail
    assert "pip install" in (check.fix or "") and "miniaudio" in (check.fix or "")


def test_macos_skips_the_linux_only_checks(healthy: dict, capsys: pytest.CaptureFixture[str]) -> None:
    healthy["os"] = "darwin"
    healthy["env"].pop("DISPLAY")
    healthy["ports"] = [Port("/dev/cu.usbmodem1101", "Arduino Uno")]
    healthy["can_open"] = False  # never asked: macOS has no dialout group
    healthy["tools"] = {}
    healthy["audio"] = AudioProbe(ok=True, backend="Core Audio")
    checks = by_name(doctor.run_doctor())
    assert checks["qt libraries"].status is Status.INFO
    assert checks["qt window"].status is Status.OK
    assert "serial permission" not in checks
    assert checks["audio output"].detail.startswith("Core Audio")
    assert "brew install avrdude" in (checks["avrdude"].fix or "")
    code, out = run_cli(capsys)
    assert code == 0 and "docs/install.md" in out


def test_windows_data_folder_is_checked_without_posix_modes(healthy: dict, emg_home: Path) -> None:
    healthy["os"] = "win32"
    healthy["env"].pop("DISPLAY")
    healthy["ports"] = [Port("COM5", "USB-SERIAL CH340 (COM5)")]
    healthy["tools"] = {}
    emg_home.chmod(0o755)  # would fail on POSIX; Windows files are private by the profile's ACLs
    checks = by_name(doctor.run_doctor())
    assert checks["data directory"].status is Status.OK and "user profile" in checks["data directory"].detail
    assert "serial permission" not in checks and checks["serial ports"].status is Status.OK
    assert "Arduino IDE 2" in (checks["avrdude"].fix or "")


def test_user_not_in_dialout_gets_the_usermod_fix(healthy: dict, capsys: pytest.CaptureFixture[str]) -> None:
    healthy["can_open"] = False
    healthy["session_groups"] = {"ana"}
    healthy["member_groups"] = {"ana"}
    check = by_name(doctor.run_doctor())["serial permission"]
    assert check.status is Status.FAIL
    assert "/dev/ttyACM0" in check.detail and "dialout" in check.detail
    assert check.fix == "sudo usermod -aG dialout $USER, then log out and back in"
    code, out = run_cli(capsys)
    assert code == 1
    assert "sudo usermod -aG dialout $USER" in out


def test_dialout_added_but_not_logged_in_again(healthy: dict) -> None:
    healthy["can_open"] = False
    healthy["session_groups"] = {"ana"}
    healthy["member_groups"] = {"ana", "dialout"}
    check = by_name(doctor.run_doctor())["serial permission"]
    assert check.status is Status.FAIL
    assert "log out and back in" in (check.fix or "")
    assert "usermod" not in (check.fix or "")


def test_no_serial_port_is_a_warning(healthy: dict) -> None:
    healthy["ports"] = []
    report = doctor.run_doctor()
    check = by_name(report)["serial ports"]
    assert check.status is Status.WARN
    assert "emgfeedback devices" in (check.fix or "")
    assert "serial permission" not in by_name(report)
    assert report.ok


def test_missing_avrdude_warns_with_the_install_hint(healthy: dict) -> None:
    healthy["tools"] = {}
    report = doctor.run_doctor()
    checks = by_name(report)
    assert checks["avrdude"].status is Status.WARN
    assert checks["avrdude"].fix == "sudo apt install avrdude"
    assert checks["simavr"].status is Status.INFO
    assert report.ok


def test_excluded_pyside_and_missing_package_fail(healthy: dict) -> None:
    healthy["versions"]["PySide6-Essentials"] = "6.12.0"
    del healthy["versions"]["edfio"]
    healthy["versions"]["numpy"] = "1.24.4"
    checks = by_name(doctor.run_doctor())
    assert checks["PySide6"].status is Status.FAIL
    assert "Python 3.11" in checks["PySide6"].detail
    assert "!=6.12.0" in (checks["PySide6"].fix or "")
    assert checks["edfio"].status is Status.FAIL and checks["edfio"].detail == "not installed"
    assert checks["numpy"].status is Status.FAIL and "older than 1.26" in checks["numpy"].detail


def test_old_python_fails(healthy: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(System, "python_version", lambda self: (3, 10, 12))
    check = by_name(doctor.run_doctor())["python"]
    assert check.status is Status.FAIL
    assert "3.11" in check.detail


def test_data_directory_open_to_others_fails(healthy: dict, emg_home: Path) -> None:
    emg_home.chmod(0o755)
    check = by_name(doctor.run_doctor())["data directory"]
    assert check.status is Status.FAIL
    assert check.fix == f"chmod -R go-rwx {emg_home}"


def test_data_file_readable_by_others_fails(healthy: dict, emg_home: Path) -> None:
    f = emg_home / "sessions.sqlite3"
    f.write_bytes(b"")
    f.chmod(0o644)
    check = by_name(doctor.run_doctor())["data files"]
    assert check.status is Status.FAIL
    assert str(f) in check.detail


def test_data_directory_not_created_yet_is_fine(healthy: dict, tmp_path: Path) -> None:
    healthy["env"]["EMGFEEDBACK_HOME"] = str(tmp_path / "not-yet")
    checks = by_name(doctor.run_doctor())
    assert checks["data directory"].status is Status.OK
    assert "not created yet" in checks["data directory"].detail
    assert not (tmp_path / "not-yet").exists()  # the doctor does not create it


def test_corrupt_profile_is_named(healthy: dict, emg_home: Path) -> None:
    profiles = emg_home / "profiles"
    profiles.mkdir(mode=0o700)
    bad = profiles / "broken.json"
    bad.write_text("{ not json", encoding="utf-8")
    bad.chmod(0o600)
    report = doctor.run_doctor()
    check = by_name(report)["profiles"]
    assert check.status is Status.WARN
    assert "1 unreadable" in check.detail and "broken.json" in check.detail
    assert "emgfeedback profiles delete" in (check.fix or "")
    assert report.ok


def test_profiles_are_listed_by_name(healthy: dict, emg_home: Path) -> None:
    from emgfeedback.calibration import demo_profile, save_profile

    save_profile(demo_profile(4))
    check = by_name(doctor.run_doctor())["profiles"]
    assert check.status is Status.OK
    assert repr(demo_profile(4).name) in check.detail


def test_wayland_window_without_xcb_libraries_only_warns(healthy: dict) -> None:
    healthy["env"] = {"WAYLAND_DISPLAY": "wayland-0", "EMGFEEDBACK_HOME": healthy["env"]["EMGFEEDBACK_HOME"]}
    healthy["ldd_missing"] = ["libxcb-icccm.so.4"]
    healthy["probe"] = QtProbe(ok=True, platform="wayland", window=True)
    report = doctor.run_doctor()
    checks = by_name(report)
    assert checks["qt libraries"].status is Status.WARN and "wayland" in checks["qt libraries"].detail
    assert checks["qt window"].status is Status.OK
    assert report.ok


def test_a_crashing_probe_becomes_a_failed_check(healthy: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: System) -> list[Port]:
        raise RuntimeError("sysfs exploded")

    monkeypatch.setattr(System, "serial_ports", boom)
    report = doctor.run_doctor()
    check = by_name(report)["serial"]
    assert check.status is Status.FAIL and "sysfs exploded" in check.detail
    assert "avrdude" in by_name(report)  # the checks after it still ran


def test_json_schema(healthy: dict, capsys: pytest.CaptureFixture[str]) -> None:
    healthy["can_open"] = False
    healthy["session_groups"] = {"ana"}
    healthy["member_groups"] = {"ana"}
    code, out = run_cli(capsys, "--json")
    data = json.loads(out)
    assert code == 1
    assert set(data) == {"emgfeedback", "python", "platform", "ok", "checks"}
    assert data["ok"] is False
    assert data["python"] == "3.11.7"
    assert isinstance(data["checks"], list) and data["checks"]
    for c in data["checks"]:
        assert set(c) == {"name", "status", "detail", "fix"}
        assert c["status"] in {"ok", "warn", "fail", "info"}
        assert isinstance(c["name"], str) and isinstance(c["detail"], str)
        assert c["fix"] is None or isinstance(c["fix"], str)
    failed = [c for c in data["checks"] if c["status"] == "fail"]
    assert [c["name"] for c in failed] == ["serial permission"]
    assert failed[0]["fix"].startswith("sudo usermod -aG dialout")


def test_package_table_matches_pyproject() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    spec = {(r := Requirement(d)).name: r.specifier for d in deps}
    for _shown, dists, wanted in doctor.PACKAGES:
        assert spec[dists[0]] == SpecifierSet(wanted), dists[0]
    covered = {d[1][0] for d in doctor.PACKAGES}
    assert set(spec) == covered


def test_helpers_read_ldd_and_qt_output() -> None:
    ldd = (
        "\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x1)\n"
        "\tlibxcb-icccm.so.4 => not found\n"
        "\tlibxcb-keysyms.so.1 => not found\n"
        "\tlibxcb-icccm.so.4 => not found\n"
    )
    assert doctor.missing_from_ldd(ldd) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert doctor.package_for_soname("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert doctor.package_for_soname("libunknown.so.9") is None
    stderr = (
        "qt.qpa.plugin: From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb platform plugin.\n"
        'qt.qpa.plugin: Could not load the Qt platform plugin "xcb" in "" even though it was found.\n'
        "This application failed to start because no Qt platform plugin could be initialized.\n"
    )
    probe = doctor.parse_qt_probe(-6, "", stderr)
    assert not probe.ok and "libxcb-cursor0 is needed" in (probe.error or "")
    ok = doctor.parse_qt_probe(0, 'EMGDOCTOR {"platform": "offscreen", "window": true}\n', "")
    assert ok.ok and ok.platform == "offscreen"
    assert doctor.version_problem("2.0.0rc1", ">=1.26") is None
    newer = doctor.version_problem("0.5.0", ">=0.4.16,<0.5")
    assert newer == "0.5.0 is newer than this release of emgfeedback supports (needs <0.5)"
    assert doctor.version_problem("6.12.0", ">=6.6,!=6.12.0") == "6.12.0 is excluded"
    assert doctor.version_problem("banana", ">=1") == "banana is not a version number"


def test_real_machine_runs_every_check() -> None:
    """On this machine, for real: every group reports and nothing crashes (results depend on the machine)."""
    report = doctor.run_doctor()
    names = {c.name for c in report.checks}
    assert {"python", "PySide6", "serial ports", "data directory", "profiles", "avrdude"} <= names
    assert not any(c.detail.startswith("the check itself failed") for c in report.checks)
    assert by_name(report)["python"].status is Status.OK


def test_missing_extras_are_optional_with_the_pip_extra(healthy: dict) -> None:
    del healthy["versions"]["mne-lsl"]
    del healthy["versions"]["brainflow"]
    report = doctor.run_doctor()
    assert report.ok  # optional: info, not a failure
    extras = {c.name: c for c in report.checks if c.name in ("mne-lsl", "brainflow")}
    assert extras["mne-lsl"].status is Status.INFO and "emgfeedback[lsl]" in (extras["mne-lsl"].fix or "")
    assert extras["brainflow"].status is Status.INFO and "emgfeedback[brainflow]" in (extras["brainflow"].fix or "")
