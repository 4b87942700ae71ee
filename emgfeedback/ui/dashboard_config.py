"""What the dashboard is told (bands, source, theme), its keyboard shortcuts, and where its settings live."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from PySide6.QtCore import QSettings

from emgfeedback.config import Band
from emgfeedback.paths import data_dir
from emgfeedback.private_files import create_private, make_private

#: (key, what it does) for the help overlay and the docs.
SHORTCUTS = [
    ("Space", "start / stop a backbend hold (during a program: pause / resume it)"),
    ("G", "run a training program"),
    ("Ctrl+G", "stop the training program"),
    ("Enter / Esc", "close the hold summary (it closes itself when a hold starts)"),
    ("H", "show / hide the last hold's summary"),
    ("PgDn / PgUp", "scroll the hold summary when it is longer than its room"),
    ("A", "auto-start holds when the muscles enter the band"),
    ("C", "calibrate MVC (wizard)"),
    ("P", "choose a calibration profile"),
    ("R", "record the session on / off"),
    ("M", "mute / unmute the cues"),
    ("S", "test sounds: play each cue once, with its name"),
    ("+ / -", "cue volume up / down"),
    ("W", "show / hide the raw (filtered) trace"),
    ("[ / ]", "shorter / longer trace history (10-60 s)"),
    ("T", "dark / light theme"),
    ("F11", "full screen"),
    ("Ctrl+S", "save a screenshot"),
    ("F1", "this help"),
    ("Ctrl+Q", "quit"),
]


@dataclass
class DashboardConfig:
    """What the window needs besides the acquisition."""

    band: Band
    muscle_bands: dict[str, Band]
    source_text: str
    profile_name: str | None = None
    theme: str | None = None
    fps: float = 30.0


def settings_store() -> QSettings:
    """UI settings in an INI file in the user's (owner-only) data directory; the file is made 0600 first,
    and Qt keeps the mode of the file it replaces."""
    path = data_dir() / "ui.ini"
    with contextlib.suppress(OSError):  # a read-only data folder: settings are not kept
        create_private(path)
        make_private(path)
    return QSettings(str(path), QSettings.Format.IniFormat)
