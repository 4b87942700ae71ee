"""MVC calibration without Qt: protocols, the sample-driven state machine, quality checks, profiles.

The CLI (``emgfeedback calibrate``), the GUI wizard and the tests all drive the same
:class:`CalibrationMachine`, fed the envelope of the same chain as live.
"""

from emgfeedback.calibration.checks import Problem, Severity
from emgfeedback.calibration.demo import DEMO_NAME, demo_profile
from emgfeedback.calibration.machine import CalibrationMachine, Policy, auto_policy
from emgfeedback.calibration.plan import CalibrationPlan, MuscleTest, default_muscles, parse_muscle_map
from emgfeedback.calibration.profile import (
    MuscleReference,
    Profile,
    ProfileError,
    delete_profile,
    list_profiles,
    load_profile,
    save_profile,
    scan_profiles,
    slugify,
)
from emgfeedback.calibration.protocol import MvcProtocol, Timing, available_protocols, load_protocol
from emgfeedback.calibration.results import (
    CalibrationResult,
    Decision,
    Event,
    MuscleResult,
    Phase,
    Prompt,
    Trial,
    TrialStatus,
)
from emgfeedback.calibration.runner import CalibrationRun
from emgfeedback.errors import ProtocolError

__all__ = [
    "DEMO_NAME",
    "CalibrationMachine",
    "CalibrationPlan",
    "CalibrationResult",
    "CalibrationRun",
    "Decision",
    "Event",
    "MuscleReference",
    "MuscleResult",
    "MuscleTest",
    "MvcProtocol",
    "Phase",
    "Policy",
    "Problem",
    "Profile",
    "ProfileError",
    "Prompt",
    "ProtocolError",
    "Severity",
    "Timing",
    "Trial",
    "TrialStatus",
    "auto_policy",
    "available_protocols",
    "default_muscles",
    "delete_profile",
    "demo_profile",
    "list_profiles",
    "load_profile",
    "load_protocol",
    "parse_muscle_map",
    "save_profile",
    "scan_profiles",
    "slugify",
]
