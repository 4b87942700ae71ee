"""doctor's check of the optional streaming engines (the `lsl` and `brainflow` extras)."""

from __future__ import annotations

from emgfeedback.doctor.probes import System
from emgfeedback.doctor.report import Check, Status

#: Optional extras: (check name, distribution, pip extra, what it enables).
EXTRA_PACKAGES = (
    ("mne-lsl", "mne-lsl", "lsl", "Lab Streaming Layer: --lsl, --source lsl:..., coach"),
    ("brainflow", "brainflow", "brainflow", "BrainFlow boards: --source brainflow:..."),
)


def check_extras(system: System) -> list[Check]:
    """The optional streaming engines: installed (ok) or not (info, with the pip command that adds them)."""
    out = []
    for name, dist, extra, what in EXTRA_PACKAGES:
        version = system.version(dist)
        if version:
            out.append(Check(name, Status.OK, f"{version} ({what})"))
        else:
            out.append(
                Check(
                    name,
                    Status.INFO,
                    f"not installed (optional: {what})",
                    f"{system.executable()} -m pip install 'emgfeedback[{extra}]'",
                )
            )
    return out
