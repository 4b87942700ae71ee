"""Where the user's data lives: the platform's user data directory, owner-only."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from emgfeedback.private_files import make_private

APP = "emgfeedback"


def data_dir() -> Path:
    """The data directory (``EMGFEEDBACK_HOME`` overrides it), created readable by the owner only.

    An existing folder on a read-only disk is returned as it is: reading works there, and
    writers name the folder when they refuse.
    """
    override = os.environ.get("EMGFEEDBACK_HOME")
    path = Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP, appauthor=False))
    return private_dir(path)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make it mode 0700: health data is private."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_private(path)
    return path


def profiles_dir() -> Path:
    """Calibration profiles, one JSON file each (on a read-only disk the folder may not exist: nothing to read)."""
    path = data_dir() / "profiles"
    try:
        return private_dir(path)
    except OSError:
        return path


def sessions_path() -> Path:
    """The SQLite session store."""
    return data_dir() / "sessions.sqlite3"


def programs_dir() -> Path:
    """The user's training programs (TOML files); a file here replaces a shipped one of the same name."""
    path = data_dir() / "programs"
    try:
        return private_dir(path)
    except OSError:  # a read-only data folder: nothing of the user's to read there yet
        return path
