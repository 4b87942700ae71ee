"""Calibration profiles: the model, its parsing and its storage, importable from one place.

The code lives in ``profile_model`` (Profile, MuscleReference), ``profile_parsing`` (JSON to
Profile) and ``profile_store`` (files under the data directory); this module keeps every public
name where callers have always imported it.
"""

from emgfeedback.calibration.profile_model import (
    FORMAT,
    METHOD,
    SCHEMA,
    MuscleReference,
    Profile,
    canonical,
    check_name,
    slugify,
)
from emgfeedback.calibration.profile_parsing import parse_profile
from emgfeedback.calibration.profile_store import (
    delete_profile,
    find_profile_path,
    list_profiles,
    load_profile,
    profile_json,
    profile_path,
    read_profile_file,
    save_profile,
    scan_profiles,
)
from emgfeedback.errors import ProfileError

__all__ = [
    "FORMAT",
    "METHOD",
    "SCHEMA",
    "MuscleReference",
    "Profile",
    "ProfileError",
    "canonical",
    "check_name",
    "delete_profile",
    "find_profile_path",
    "list_profiles",
    "load_profile",
    "parse_profile",
    "profile_json",
    "profile_path",
    "read_profile_file",
    "save_profile",
    "scan_profiles",
    "slugify",
]
