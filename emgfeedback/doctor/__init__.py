"""``emgfeedback doctor``: is this machine ready for the dashboard, a sensor and a flash?

:mod:`.probes` looks at the outside world (one replaceable method per probe), :mod:`.checks`
turns what it finds into lines for the system it runs on, :mod:`.report` prints the table.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable

from emgfeedback.doctor.checks import CHECKS, PACKAGES, version_problem
from emgfeedback.doctor.probes import AudioProbe, Port, QtProbe, System, missing_from_ldd, package_for_soname, parse_qt_probe
from emgfeedback.doctor.report import INSTALL_DOCS, Check, Report, Status

__all__ = [
    "CHECKS",
    "INSTALL_DOCS",
    "PACKAGES",
    "AudioProbe",
    "Check",
    "Port",
    "QtProbe",
    "Report",
    "Status",
    "System",
    "missing_from_ldd",
    "package_for_soname",
    "parse_qt_probe",
    "run_doctor",
    "version_problem",
]


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
