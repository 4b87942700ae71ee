"""The failures a user can cause and fix; the CLI prints these as one line, no traceback."""

from __future__ import annotations

from emgfeedback.config import SettingsError
from emgfeedback.io.files import RecordingError
from emgfeedback.io.sources import SourceError


class CliError(RuntimeError):
    """A command cannot proceed; the message names the problem and the fix."""


EXPECTED_ERRORS: tuple[type[BaseException], ...] = (SettingsError, RecordingError, SourceError, CliError)
