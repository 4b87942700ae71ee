"""The doctor's checks: plain functions from a :class:`System` to :class:`Check` lines, each for the system it runs on.

Linux gets the Qt shared-library, ``dialout`` and file-mode checks; macOS and Windows skip what
does not apply there (PySide6's wheel carries Qt; Windows keeps files private by the user
profile's permissions). Fixes name the command to run; the report points to docs/install.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from emgfeedback.doctor.data_check import check_data_dir
from emgfeedback.doctor.extras_check import check_extras
from emgfeedback.doctor.probes import (
    AUDIO_LIBS,
    AUDIO_PACKAGE,
    QT_CORE_LIBS,
    QT_WINDOW_LIBS,
    QtProbe,
    System,
    package_for_soname,
)
from emgfeedback.doctor.report import Check, Status
from emgfeedback.doctor.store_check import check_store

PYTHON_MIN = (3, 11)

#: Runtime packages: (name shown, distributions to ask for the version, PEP 440 specifier).
#: Mirrors ``[project] dependencies`` in pyproject.toml (a test keeps the two in step).
PACKAGES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("numpy", ("numpy",), ">=1.26"),
    ("scipy", ("scipy",), ">=1.11,<1.18"),
    ("pyserial", ("pyserial",), ">=3.5"),
    ("PySide6", ("PySide6-Essentials", "PySide6"), ">=6.6,!=6.12.0"),
    ("pyqtgraph", ("pyqtgraph",), ">=0.13.7,<0.15"),
    ("edfio", ("edfio",), ">=0.4.16,<0.5"),
    ("platformdirs", ("platformdirs",), ">=4.0"),
    ("matplotlib", ("matplotlib",), ">=3.8"),
    ("packaging", ("packaging",), ">=23.0"),
    ("miniaudio", ("miniaudio",), ">=1.70"),
    ("pyedflib", ("pyedflib",), ">=0.1.38"),
    ("pyxdf", ("pyxdf",), ">=1.16"),
)
#: Why a version is excluded, said in the fix.
EXCLUDED_WHY = {("PySide6", "6.12.0"): "6.12.0 crashes on Python 3.11 (it over-releases None after ~1000 painter calls)"}


def apt_fix(packages: Iterable[str]) -> str:
    """The apt command that installs ``packages``."""
    return "sudo apt install " + " ".join(dict.fromkeys(packages))


def pip_fix(executable: str, requirement: str) -> str:
    return f"{executable} -m pip install --upgrade '{requirement}'"


def has_display(system: System) -> bool:
    return bool(system.env("DISPLAY") or system.env("WAYLAND_DISPLAY"))


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
        out.append(Check(name, Status.FAIL, why, pip_fix(exe, requirement)))
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
        probe = system.qt_probe(system.env("QT_QPA_PLATFORM"))
        return [
            Check("qt libraries", Status.INFO, "not applicable: PySide6's wheel carries Qt's libraries on this system"),
            _window_check(probe, forced=system.env("QT_QPA_PLATFORM"), display=True, window_missing=[]),
        ]
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
    if core_missing:
        return checks  # a start would only repeat the same complaint
    forced = system.env("QT_QPA_PLATFORM")
    target = forced or (None if display else "offscreen")
    probe = system.qt_probe(target)
    if probe.ok and display and probe.platform not in (None, "xcb") and checks[0].status is Status.FAIL:
        # a Wayland session opened its window without the xcb plugin: its libraries are only a fallback
        checks[0] = Check(checks[0].name, Status.WARN, checks[0].detail + f" (Qt uses {probe.platform} here)", checks[0].fix)
    checks.append(_window_check(probe, forced=forced, display=display, window_missing=window_missing))
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


def check_audio(system: System) -> list[Check]:
    """The cue sounds: miniaudio opens the system's output; without one the dashboard runs muted (never fails)."""
    checks = []
    if system.is_linux() and all(system.find_library(lib) is None for lib in AUDIO_LIBS):
        checks.append(
            Check(
                "audio library",
                Status.WARN,
                "neither libpulse nor libasound is installed: miniaudio has no back end, so the cues stay muted",
                apt_fix([AUDIO_PACKAGE]),
            )
        )
    probe = system.audio_probe()
    if probe.ok:
        checks.append(Check("audio output", Status.OK, f"{probe.backend} (through miniaudio)"))
    elif (probe.error or "").startswith("sound off"):
        checks.append(Check("audio output", Status.INFO, f"{probe.error}: the dashboard runs muted"))
    elif (probe.error or "").startswith("no audio library"):
        fix = pip_fix(system.executable(), "miniaudio>=1.70")
        checks.append(Check("audio output", Status.WARN, f"{probe.error}: the cues stay muted", fix))
    else:
        where = {
            "linux": "connect speakers or headphones and check that PulseAudio or PipeWire runs (pactl info)",
            "darwin": "connect speakers or headphones and pick an output in System Settings > Sound",
            "win32": "connect speakers or headphones and pick an output in Settings > System > Sound",
        }[system.os_name()]
        checks.append(
            Check(
                "audio output",
                Status.WARN,
                f"{probe.error or 'no sound output'}: the cues stay muted (the dashboard says 'sound: muted')",
                where,
            )
        )
    return checks


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


#: How to get avrdude on each system, when none is found.
AVRDUDE_FIX = {
    "linux": "sudo apt install avrdude",
    "darwin": "brew install avrdude, or install the Arduino IDE 2 (it brings avrdude)",
    "win32": "install the Arduino IDE 2 (it brings avrdude), or give one with emgfeedback flash --avrdude PATH",
}


def check_avr(system: System) -> list[Check]:
    checks = []
    avrdude = system.avrdude()
    if avrdude:
        where = "" if avrdude.origin == "PATH" else f", from {avrdude.origin}"
        checks.append(Check("avrdude", Status.OK, f"{avrdude.executable} (for emgfeedback flash{where})"))
    else:
        checks.append(
            Check(
                "avrdude",
                Status.WARN,
                "not found: needed by emgfeedback flash (or flash with the Arduino IDE)",
                AVRDUDE_FIX[system.os_name()],
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
    check_extras,
    check_qt,
    check_audio,
    check_serial,
    check_data_dir,
    check_store,
    check_profiles,
    check_avr,
)
