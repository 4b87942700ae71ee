"""Checks behind ``emgfeedback doctor``: is this machine ready for the dashboard, a sensor and a flash?

Every probe of the outside world (versions, shared libraries, a Qt subprocess, serial
ports, groups, files, tools on PATH) is a method of :class:`System`, so tests swap one
method to simulate a missing library or a missing ``dialout`` membership. The checks
themselves are plain functions from a System to :class:`Check` results. No Qt import here:
Qt is only ever loaded in a subprocess, where a crash cannot take the doctor down.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import enum
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

APP = "emgfeedback"
PYTHON_MIN = (3, 11)

#: Runtime packages: (name shown, distributions to ask for the version, PEP 440 specifier).
#: Mirrors ``[project] dependencies`` in pyproject.toml (a test keeps the two in step).
PACKAGES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("numpy", ("numpy",), ">=1.26"),
    ("scipy", ("scipy",), ">=1.11"),
    ("pyserial", ("pyserial",), ">=3.5"),
    ("PySide6", ("PySide6-Essentials", "PySide6"), ">=6.6,!=6.12.0"),
    ("pyqtgraph", ("pyqtgraph",), ">=0.13.7"),
    ("edfio", ("edfio",), ">=0.4.16,<0.5"),
    ("platformdirs", ("platformdirs",), ">=4.0"),
    ("matplotlib", ("matplotlib",), ">=3.8"),
    ("packaging", ("packaging",), ">=23.0"),
    ("pyedflib", ("pyedflib",), ">=0.1.38"),
    ("pyxdf", ("pyxdf",), ">=1.16"),
)
#: Why a version is excluded, said in the fix.
EXCLUDED_WHY = {("PySide6", "6.12.0"): "6.12.0 crashes on Python 3.11 (it over-releases None after ~1000 painter calls)"}

#: Shared libraries Qt needs even to render offscreen: (ctypes name, Debian package).
QT_CORE_LIBS: tuple[tuple[str, str], ...] = (
    ("EGL", "libegl1"),
    ("GL", "libgl1"),
    ("xkbcommon", "libxkbcommon0"),
    ("fontconfig", "libfontconfig1"),
    ("dbus-1", "libdbus-1-3"),
    ("glib-2.0", "libglib2.0-0"),
)
#: Shared libraries the xcb platform plugin (a real window on X11) adds.
QT_WINDOW_LIBS: tuple[tuple[str, str], ...] = (
    ("xkbcommon-x11", "libxkbcommon-x11-0"),
    ("xcb-cursor", "libxcb-cursor0"),
)
#: QtMultimedia links the PulseAudio client library; without it the dashboard cannot start.
AUDIO_LIB = ("pulse", "libpulse0")

#: Debian package of a shared object the xcb plugin lists as "not found" (by soname prefix).
SONAME_PACKAGES = {
    "libEGL.so": "libegl1",
    "libGL.so": "libgl1",
    "libxkbcommon.so": "libxkbcommon0",
    "libxkbcommon-x11.so": "libxkbcommon-x11-0",
    "libfontconfig.so": "libfontconfig1",
    "libdbus-1.so": "libdbus-1-3",
    "libglib-2.0.so": "libglib2.0-0",
    "libgthread-2.0.so": "libglib2.0-0",
    "libxcb-cursor.so": "libxcb-cursor0",
    "libxcb-icccm.so": "libxcb-icccm4",
    "libxcb-keysyms.so": "libxcb-keysyms1",
    "libxcb-image.so": "libxcb-image0",
    "libxcb-render-util.so": "libxcb-render-util0",
    "libxcb-randr.so": "libxcb-randr0",
    "libxcb-shape.so": "libxcb-shape0",
    "libxcb-xinerama.so": "libxcb-xinerama0",
    "libxcb-xkb.so": "libxcb-xkb1",
    "libxcb-util.so": "libxcb-util1",
    "libX11-xcb.so": "libx11-xcb1",
    "libpulse.so": "libpulse0",
}

#: The Qt probe run in a subprocess: open a window, list the audio outputs, print JSON.
QT_PROBE = r"""
import json, sys
out = {"platform": None, "window": False, "audio": None, "audio_error": None}
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv[:1])
out["platform"] = app.platformName()
w = QWidget()
w.resize(120, 80)
w.show()
app.processEvents()
out["window"] = bool(w.isVisible())
try:
    from PySide6.QtMultimedia import QMediaDevices
    out["audio"] = [d.description() for d in QMediaDevices.audioOutputs()]
except Exception as exc:  # noqa: BLE001
    out["audio_error"] = f"{type(exc).__name__}: {exc}"
w.close()
print("EMGDOCTOR " + json.dumps(out), flush=True)
"""
QT_PROBE_TIMEOUT_S = 60.0


class Status(enum.StrEnum):
    """A check's outcome. Only FAIL makes ``doctor`` exit 1."""

    OK = "ok"
    WARN = "warn"  # works, but something is missing or off that a user may need
    FAIL = "fail"  # something emgfeedback needs is broken
    INFO = "info"  # optional (developer tools), or not applicable here


@dataclass(frozen=True)
class Check:
    """One line of the doctor's table."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.value, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class QtProbe:
    """What the Qt subprocess found."""

    ok: bool
    platform: str | None = None
    window: bool = False
    audio: list[str] | None = None
    audio_error: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Port:
    """A serial port the system lists."""

    device: str
    description: str = ""


# --- the outside world ------------------------------------------------------------------------------------
class System:
    """The probes the checks use; each is one small method so a test can replace it."""

    def python_version(self) -> tuple[int, int, int]:
        return sys.version_info[:3]

    def executable(self) -> str:
        return sys.executable

    def version(self, distribution: str) -> str | None:
        """Installed version of a distribution, or None."""
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return None

    def is_linux(self) -> bool:
        return sys.platform.startswith("linux")

    def env(self, name: str) -> str | None:
        return os.environ.get(name) or None

    def find_library(self, name: str) -> str | None:
        """``ctypes.util.find_library``: the soname of ``lib<name>`` if the loader can find it."""
        return ctypes.util.find_library(name)

    def qt_xcb_plugin(self) -> Path | None:
        """PySide6's xcb platform plugin, found without importing Qt."""
        spec = importlib.util.find_spec("PySide6")
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        return path if path.is_file() else None

    def ldd_missing(self, path: Path) -> list[str]:
        """Shared objects ``ldd`` reports as "not found" for ``path`` (empty when ldd is unavailable)."""
        if shutil.which("ldd") is None:
            return []
        try:
            proc = subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.SubprocessError):
            return []
        return missing_from_ldd(proc.stdout)

    def qt_probe(self, platform_name: str | None) -> QtProbe:
        """Start Qt in a subprocess on ``platform_name`` (None: Qt's default), open a window, list audio outputs."""
        env = dict(os.environ)
        env.pop("QT_QPA_PLATFORM", None)
        if platform_name:
            env["QT_QPA_PLATFORM"] = platform_name
        try:
            proc = subprocess.run(
                [self.executable(), "-c", QT_PROBE],
                capture_output=True,
                text=True,
                timeout=QT_PROBE_TIMEOUT_S,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return QtProbe(ok=False, error=f"Qt did not start within {QT_PROBE_TIMEOUT_S:g} s")
        except OSError as exc:
            return QtProbe(ok=False, error=f"cannot run {self.executable()}: {exc.strerror}")
        return parse_qt_probe(proc.returncode, proc.stdout, proc.stderr)

    def serial_ports(self) -> list[Port]:
        """Serial ports pyserial lists, plus Linux USB-serial device nodes it might miss."""
        ports: dict[str, Port] = {}
        with contextlib.suppress(Exception):  # a broken sysfs entry must not stop the doctor
            from serial.tools import list_ports

            for p in list_ports.comports():
                ports[p.device] = Port(p.device, p.description if p.description not in (None, "n/a") else "")
        if self.is_linux():
            for path in sorted(Path("/dev").glob("tty[AU][CS][MB]*")):
                if re.fullmatch(r"tty(ACM|USB)\d+", path.name):
                    ports.setdefault(str(path), Port(str(path)))
            # the motherboard's legacy UARTs are never the Arduino; listing them only confuses
            ports = {k: v for k, v in ports.items() if not re.fullmatch(r"/dev/ttyS\d+", k)}
        return [ports[k] for k in sorted(ports)]

    def can_open(self, path: str) -> bool:
        """Whether this user may read and write the device node."""
        return os.access(path, os.R_OK | os.W_OK)

    def owner_group(self, path: str) -> str | None:
        """Name of the group owning ``path``."""
        import grp

        try:
            gid = os.stat(path).st_gid
            return grp.getgrgid(gid).gr_name
        except (OSError, KeyError):
            return None

    def user(self) -> str:
        import pwd

        try:
            return pwd.getpwuid(os.getuid()).pw_name
        except KeyError:
            return str(os.getuid())

    def session_groups(self) -> set[str]:
        """Groups this process has now (a new membership needs a new login)."""
        import grp

        names = set()
        for gid in {os.getgid(), *os.getgroups()}:
            with contextlib.suppress(KeyError):
                names.add(grp.getgrgid(gid).gr_name)
        return names

    def member_groups(self, user: str) -> set[str]:
        """Groups the user database lists for ``user`` (takes effect at the next login)."""
        import grp
        import pwd

        names = {g.gr_name for g in grp.getgrall() if user in g.gr_mem}
        with contextlib.suppress(KeyError):
            names.add(grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name)
        return names

    def data_path(self) -> Path:
        """Where emgfeedback keeps its data (same rule as :func:`emgfeedback.paths.data_dir`), without creating it."""
        override = self.env("EMGFEEDBACK_HOME")
        return Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP, appauthor=False))

    def uid(self) -> int:
        return os.getuid()

    def profiles(self) -> list[tuple[Path, str | None, str | None]]:
        """Every profile file: (path, profile name or None, error or None)."""
        from emgfeedback.calibration.profile import scan_profiles

        return [(path, None if profile is None else profile.name, error) for path, profile, error in scan_profiles()]

    def which(self, tool: str) -> str | None:
        return shutil.which(tool)


# --- pure helpers ---------------------------------------------------------------------------------------------
def missing_from_ldd(output: str) -> list[str]:
    """Sonames marked ``=> not found`` in ldd output, in order, without duplicates."""
    found = re.findall(r"^\s*(\S+)\s+=>\s+not found", output, flags=re.MULTILINE)
    return list(dict.fromkeys(found))


def package_for_soname(soname: str) -> str | None:
    """The Debian package that ships ``soname`` (``libxcb-icccm.so.4`` -> ``libxcb-icccm4``), if known."""
    for prefix, package in SONAME_PACKAGES.items():
        if soname.startswith(prefix):
            return package
    return None


def parse_qt_probe(returncode: int, stdout: str, stderr: str) -> QtProbe:
    """Read the probe's JSON line; on failure keep the most telling line of Qt's complaint."""
    for line in stdout.splitlines():
        if line.startswith("EMGDOCTOR "):
            data = json.loads(line.removeprefix("EMGDOCTOR "))
            return QtProbe(
                ok=returncode == 0 and bool(data.get("window")),
                platform=data.get("platform"),
                window=bool(data.get("window")),
                audio=data.get("audio"),
                audio_error=data.get("audio_error"),
                error=None if returncode == 0 else qt_complaint(stderr) or f"exit status {returncode}",
            )
    return QtProbe(ok=False, error=qt_complaint(stderr) or f"Qt exited with status {returncode}")


def qt_complaint(stderr: str) -> str | None:
    """The line of Qt's stderr that explains a failed start (plugin or library), else the last line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for key in ("is needed to load the Qt xcb platform plugin", "Could not load the Qt platform plugin", "cannot open shared"):
        for ln in lines:
            if key in ln:
                return ln
    for ln in reversed(lines):
        if "Error" in ln or "error" in ln or "Abort" in ln:
            return ln
    return lines[-1] if lines else None


def apt_fix(packages: Iterable[str]) -> str:
    """The apt command that installs ``packages``."""
    return "sudo apt install " + " ".join(dict.fromkeys(packages))


def pip_fix(executable: str, requirement: str) -> str:
    return f"{executable} -m pip install --upgrade '{requirement}'"


def has_display(system: System) -> bool:
    return bool(system.env("DISPLAY") or system.env("WAYLAND_DISPLAY"))


# --- checks -------------------------------------------------------------------------------------------------------
def check_python(system: System) -> list[Check]:
    v = system.python_version()
    text = ".".join(map(str, v))
    if v[:2] >= PYTHON_MIN:
        return [Check("python", Status.OK, f"{text} (needs {PYTHON_MIN[0]}.{PYTHON_MIN[1]}+)")]
    return [
        Check(
            "python",
            Status.FAIL,
            f"{text} is too old: emgfeedback needs Python {PYTHON_MIN[0]}.{PYTHON_MIN[1]} or newer",
            "install python3.11 (or newer) and rerun: PYTHON=python3.11 bash scripts/setup.sh",
        )
    ]


def check_packages(system: System) -> list[Check]:
    """Each runtime package installed, inside the range pyproject.toml asks for, and not an excluded release."""
    out = []
    exe = system.executable()
    for name, dists, spec in PACKAGES:
        version = next((v for v in (system.version(d) for d in dists) if v), None)
        requirement = f"{dists[0]}{spec}"
        if version is None:
            out.append(Check(name, Status.FAIL, "not installed", pip_fix(exe, requirement)))
            continue
        problem = version_problem(version, spec)
        if problem is None:
            out.append(Check(name, Status.OK, f"{version} (needs {spec})"))
            continue
        why = EXCLUDED_WHY.get((name, version), problem)
        fix = pip_fix(exe, requirement)
        if name == "PySide6":
            fix += f" 'PySide6-Addons{spec}'"
        out.append(Check(name, Status.FAIL, why, fix))
    return out


def version_problem(version: str, spec: str) -> str | None:
    """Why ``version`` falls outside ``spec`` in plain words, or None when it fits."""
    try:
        v = Version(version)
    except InvalidVersion:
        return f"{version} is not a version number"
    for s in SpecifierSet(spec):
        if s.contains(v, prereleases=True):
            continue
        if s.operator == ">=":
            return f"{version} is older than {s.version}"
        if s.operator == "<":
            return f"{version} is newer than this release of emgfeedback supports (needs <{s.version})"
        return f"{version} is excluded"
    return None


def check_qt(system: System) -> list[Check]:
    """Qt's shared libraries, then a real start in a subprocess (a window when there is a display)."""
    if not system.is_linux():
        return [Check("qt libraries", Status.INFO, "not checked on this platform (Linux only)")]
    display = has_display(system)
    core_missing = [(lib, pkg) for lib, pkg in QT_CORE_LIBS if system.find_library(lib) is None]
    window_missing = [(lib, pkg) for lib, pkg in QT_WINDOW_LIBS if system.find_library(lib) is None]
    plugin = system.qt_xcb_plugin()
    if plugin is not None:
        listed = {f"lib{lib}" for lib, _ in core_missing + window_missing}
        for soname in system.ldd_missing(plugin):
            pkg = package_for_soname(soname)
            if soname.split(".so")[0] not in listed:
                window_missing.append((soname, pkg or f"(the package that ships {soname})"))
    checks = []

    def names(items: list[tuple[str, str]]) -> str:
        return ", ".join(lib if lib.startswith("lib") else f"lib{lib}" for lib, _ in items)

    def fix(items: list[tuple[str, str]]) -> str:
        return apt_fix(pkg for _, pkg in items)

    if core_missing:
        checks.append(
            Check(
                "qt libraries",
                Status.FAIL,
                f"missing {names(core_missing)}: Qt cannot start, not even offscreen",
                fix(core_missing + window_missing),
            )
        )
    elif window_missing:
        checks.append(
            Check(
                "qt libraries",
                Status.FAIL if display else Status.WARN,
                f"missing {names(window_missing)}: the xcb plugin cannot open a window"
                + ("" if display else " (no display here now; offscreen rendering works)"),
                fix(window_missing),
            )
        )
    else:
        every = [lib for lib, _ in QT_CORE_LIBS + QT_WINDOW_LIBS]
        checks.append(Check("qt libraries", Status.OK, "found " + ", ".join(f"lib{n}" for n in every)))
    if system.find_library(AUDIO_LIB[0]) is None:
        checks.append(
            Check(
                "audio library",
                Status.FAIL,
                "libpulse is missing: QtMultimedia (and so the dashboard) cannot load",
                apt_fix([AUDIO_LIB[1]]),
            )
        )
    if core_missing:
        return checks  # a start would only repeat the same complaint
    forced = system.env("QT_QPA_PLATFORM")
    target = forced or (None if display else "offscreen")
    probe = system.qt_probe(target)
    if probe.ok and display and probe.platform not in (None, "xcb") and checks[0].status is Status.FAIL:
        # a Wayland session opened its window without the xcb plugin: its libraries are only a fallback
        checks[0] = Check(checks[0].name, Status.WARN, checks[0].detail + f" (Qt uses {probe.platform} here)", checks[0].fix)
    checks.append(_window_check(probe, forced=forced, display=display, window_missing=window_missing))
    checks.append(_audio_check(probe))
    return checks


def _window_check(probe: QtProbe, *, forced: str | None, display: bool, window_missing: list[tuple[str, str]]) -> Check:
    where = f"QT_QPA_PLATFORM={forced}" if forced else ("the desktop" if display else "offscreen (no display)")
    if not probe.ok:
        pkgs = [pkg for _, pkg in window_missing]
        if "No module named" in (probe.error or ""):
            fix = "install the Python packages: bash scripts/setup.sh (or pip install -e . in the virtual environment)"
        elif pkgs:
            fix = apt_fix(pkgs)
        else:
            fix = "run: QT_DEBUG_PLUGINS=1 emgfeedback demo, and install what it says is missing"
        return Check("qt window", Status.FAIL, f"Qt failed to start on {where}: {probe.error}", fix)
    if forced or display:
        return Check("qt window", Status.OK, f"opened a window on {where} (platform {probe.platform})")
    return Check(
        "qt window",
        Status.WARN,
        "no display (DISPLAY and WAYLAND_DISPLAY are unset): Qt renders offscreen only, "
        "so screenshots work but the dashboard cannot be seen here",
        "run emgfeedback in a desktop session (or over ssh -X); for screenshots use --screenshot FILE --quit-after S",
    )


def _audio_check(probe: QtProbe) -> Check:
    if probe.audio_error:
        return Check("audio output", Status.FAIL, f"QtMultimedia does not load: {probe.audio_error}", apt_fix(["libpulse0"]))
    if not probe.ok and probe.audio is None:
        return Check("audio output", Status.INFO, "not checked: Qt did not start")
    if not probe.audio:
        return Check(
            "audio output",
            Status.WARN,
            "no sound output device: the cues stay off (the dashboard shows 'sound: no device')",
            "connect speakers or headphones and check that PulseAudio or PipeWire runs (pactl info)",
        )
    return Check("audio output", Status.OK, ", ".join(probe.audio))


def check_serial(system: System) -> list[Check]:
    ports = system.serial_ports()
    if not ports:
        return [
            Check(
                "serial ports",
                Status.WARN,
                "no serial port found (no Arduino plugged in?); the demo and simulated sources need none",
                "plug the Arduino in with a data-capable USB cable, then run: emgfeedback devices",
            )
        ]
    checks = [
        Check("serial ports", Status.OK, ", ".join(f"{p.device} ({p.description})" if p.description else p.device for p in ports))
    ]
    if not system.is_linux():
        return checks
    user = system.user()
    blocked = [p for p in ports if p.device.startswith("/dev/") and not system.can_open(p.device)]
    if not blocked:
        checks.append(Check("serial permission", Status.OK, f"{user} can read and write {', '.join(p.device for p in ports)}"))
        return checks
    for port in blocked:
        group = system.owner_group(port.device) or "dialout"
        if group in system.session_groups():
            detail = f"{user} is in group {group} but cannot open {port.device}"
            fix = f"check the device's mode: ls -l {port.device} (it should be crw-rw---- root {group})"
        elif group in system.member_groups(user):
            detail = f"{user} was added to group {group}, but this login session started before that"
            fix = "log out and back in (or reboot) so the new group takes effect"
        else:
            detail = f"{user} cannot open {port.device}: it belongs to group {group} and {user} is not in it"
            fix = f"sudo usermod -aG {group} $USER, then log out and back in"
        checks.append(Check("serial permission", Status.FAIL, detail, fix))
    return checks


def check_data_dir(system: System) -> list[Check]:
    path = system.data_path()
    where = "EMGFEEDBACK_HOME" if system.env("EMGFEEDBACK_HOME") else "platformdirs user data dir"
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
            return [
                Check(
                    "data directory",
                    Status.FAIL,
                    f"{path} ({where}) cannot be created: {parent} is not writable",
                    f"set EMGFEEDBACK_HOME to a folder you own, or: sudo chown $USER {parent}",
                )
            ]
        return [Check("data directory", Status.OK, f"{path} ({where}): not created yet, it is made owner-only on first use")]
    if not path.is_dir():
        return [
            Check(
                "data directory",
                Status.FAIL,
                f"{path} is not a directory",
                f"move {path} away, or set EMGFEEDBACK_HOME to another folder",
            )
        ]
    st = path.stat()
    problems: list[Check] = []
    if st.st_uid != system.uid():
        problems.append(
            Check(
                "data directory", Status.FAIL, f"{path} belongs to another user (uid {st.st_uid})", f"sudo chown -R $USER {path}"
            )
        )
    if not _writable(path):
        problems.append(Check("data directory", Status.FAIL, f"{path} is not writable", f"chmod u+rwx {path}"))
    if st.st_mode & 0o077:
        problems.append(
            Check(
                "data directory",
                Status.FAIL,
                f"{path} is open to other users (mode {stat.filemode(st.st_mode)}): it holds health data",
                f"chmod -R go-rwx {path}",
            )
        )
    exposed = [p for p in _data_files(path) if p.stat().st_mode & 0o077]
    if exposed:
        problems.append(
            Check(
                "data files",
                Status.FAIL,
                f"{len(exposed)} file(s) readable by others, e.g. {exposed[0]}",
                f"chmod -R go-rwx {path}",
            )
        )
    return problems or [Check("data directory", Status.OK, f"{path} ({where}): writable, owner-only")]


def _writable(path: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=path):
            return True
    except OSError:
        return False


def _data_files(path: Path) -> list[Path]:
    files: list[Path] = []
    for sub in (path, path / "profiles", path / "protocols"):
        if sub.is_dir():
            files.extend(p for p in sub.iterdir() if p.is_file() and not p.is_symlink())
    return files


def check_profiles(system: System) -> list[Check]:
    if not (system.data_path() / "profiles").is_dir():
        return [Check("profiles", Status.OK, "none yet (make one with: emgfeedback calibrate)")]
    entries = system.profiles()
    broken = [(p, e) for p, _name, e in entries if e is not None]
    names = ", ".join(repr(name) for _p, name, e in entries if e is None)
    if not broken:
        return [Check("profiles", Status.OK, names or "none yet (make one with: emgfeedback calibrate)")]
    first_path, first_error = broken[0]
    return [
        Check(
            "profiles",
            Status.WARN,
            f"{len(broken)} unreadable ({first_error})" + (f"; readable: {names}" if names else ""),
            f"fix or delete the file: emgfeedback profiles delete {first_path}",
        )
    ]


def check_avr(system: System) -> list[Check]:
    checks = []
    avrdude = system.which("avrdude")
    if avrdude:
        checks.append(Check("avrdude", Status.OK, f"{avrdude} (for emgfeedback flash)"))
    else:
        checks.append(
            Check(
                "avrdude",
                Status.WARN,
                "not installed: needed by emgfeedback flash (or flash with the Arduino IDE)",
                "sudo apt install avrdude",
            )
        )
    for tool, use in (("arduino-builder", "builds the firmware"), ("simavr", "runs the firmware tests")):
        path = system.which(tool)
        detail = f"{path} ({use}; developers only)" if path else f"not installed (optional: {use}, for developers)"
        checks.append(Check(tool, Status.OK if path else Status.INFO, detail))
    return checks


#: The checks in the order they print; each takes a System and returns its lines.
CHECKS: tuple[Callable[[System], list[Check]], ...] = (
    check_python,
    check_packages,
    check_qt,
    check_serial,
    check_data_dir,
    check_profiles,
    check_avr,
)


@dataclass
class Report:
    """Every check's result, and the verdict."""

    checks: list[Check] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(c.status is Status.FAIL for c in self.checks)

    def count(self, status: Status) -> int:
        return sum(c.status is status for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {**self.header, "ok": self.ok, "checks": [c.as_dict() for c in self.checks]}

    def text(self) -> str:
        """The pass/fail table, then the fix of every check that needs one."""
        width = max([len(c.name) for c in self.checks] + [5])
        lines = [" ".join(f"{k} {v}" for k, v in self.header.items()), "", f"{'CHECK':<{width}}  STATUS  DETAIL"]
        lines += [f"{c.name:<{width}}  {c.status.value:<6}  {c.detail}" for c in self.checks]
        fixes = [c for c in self.checks if c.fix and c.status in (Status.FAIL, Status.WARN)]
        if fixes:
            lines += ["", "to fix:"]
            lines += [f"  {c.name} ({c.status.value}): {c.fix}" for c in fixes]
        fails, warns = self.count(Status.FAIL), self.count(Status.WARN)
        verdict = "everything emgfeedback needs works" if self.ok else "emgfeedback needs the fixes above"
        lines += ["", f"{fails} failure(s), {warns} warning(s): {verdict}"]
        return "\n".join(lines)


def run_doctor(system: System | None = None, checks: Iterable[Callable[[System], list[Check]]] = CHECKS) -> Report:
    """Run every check against ``system`` (the real machine by default)."""
    from emgfeedback import __version__

    system = system or System()
    report = Report(
        header={
            "emgfeedback": __version__,
            "python": ".".join(map(str, system.python_version())),
            "platform": platform.platform(terse=True),
        }
    )
    for check in checks:
        try:
            report.checks.extend(check(system))
        except Exception as exc:  # noqa: BLE001 - one broken probe must not hide the other checks
            name = check.__name__.removeprefix("check_").replace("_", " ")
            report.checks.append(Check(name, Status.FAIL, f"the check itself failed: {type(exc).__name__}: {exc}", None))
    return report
