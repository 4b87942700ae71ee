"""The doctor's probes of the outside world: versions, shared libraries, Qt and sound in subprocesses, ports, groups.

Every probe is one small method of :class:`System`, so a test swaps one to simulate a missing
library, another operating system or a missing ``dialout`` membership. No Qt import here: Qt
and the sound output are only ever started in a subprocess, where a crash cannot take the doctor down.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from emgfeedback.avrdude import Avrdude, find_avrdude, os_name

APP = "emgfeedback"

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
#: miniaudio loads one of these at run time on Linux (PulseAudio/PipeWire, else ALSA); without both, cues stay muted.
AUDIO_LIBS = ("pulse", "asound")
AUDIO_PACKAGE = "libpulse0"

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

#: The Qt probe run in a subprocess: open a window, print JSON.
QT_PROBE = r"""
import json, sys
out = {"platform": None, "window": False}
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv[:1])
out["platform"] = app.platformName()
w = QWidget()
w.resize(120, 80)
w.show()
app.processEvents()
out["window"] = bool(w.isVisible())
w.close()
print("EMGDOCTOR " + json.dumps(out), flush=True)
"""
QT_PROBE_TIMEOUT_S = 60.0


#: The sound probe run in a subprocess (native audio code cannot crash the doctor): open the output once.
AUDIO_PROBE = r"""
import json
from emgfeedback.ui.audio_output import probe_output
p = probe_output()
print("EMGDOCTOR " + json.dumps({"ok": p.ok, "backend": p.backend, "error": p.error}), flush=True)
"""
AUDIO_PROBE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class QtProbe:
    """What the Qt subprocess found."""

    ok: bool
    platform: str | None = None
    window: bool = False
    error: str | None = None


@dataclass(frozen=True)
class AudioProbe:
    """What the sound probe found: the miniaudio back end that opened, or why none did."""

    ok: bool
    backend: str | None = None
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

    def os_name(self) -> str:
        """``linux``, ``darwin`` or ``win32``: which checks apply."""
        return os_name()

    def is_linux(self) -> bool:
        return self.os_name() == "linux"

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

    def audio_probe(self) -> AudioProbe:
        """Open the sound output once in a subprocess, as the dashboard would."""
        try:
            proc = subprocess.run(
                [self.executable(), "-c", AUDIO_PROBE], capture_output=True, text=True, timeout=AUDIO_PROBE_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            return AudioProbe(ok=False, error=f"the sound output did not open within {AUDIO_PROBE_TIMEOUT_S:g} s")
        except OSError as exc:
            return AudioProbe(ok=False, error=f"cannot run {self.executable()}: {exc.strerror}")
        for line in proc.stdout.splitlines():
            if line.startswith("EMGDOCTOR "):
                data = json.loads(line.removeprefix("EMGDOCTOR "))
                return AudioProbe(ok=bool(data["ok"]), backend=data.get("backend"), error=data.get("error"))
        return AudioProbe(ok=False, error=qt_complaint(proc.stderr) or f"the sound probe exited with status {proc.returncode}")

    def avrdude(self) -> Avrdude | None:
        """The avrdude ``emgfeedback flash`` would use (PATH, Arduino IDE 2 / arduino-cli, IDE 1.x)."""
        return find_avrdude(which=self.which)

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
