"""The one tree of expected failures: a leaf module that imports nothing from the package.

Every failure a user can cause and fix derives from :class:`UserError`; its message is one
line naming the problem and the fix. The CLI catches the base once and prints that line,
with no traceback and a non-zero exit. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """An expected failure: the message is one line naming the problem and the fix."""


class SettingsError(UserError, ValueError):
    """An invalid setting (flag, profile field, band, filter) for the stream it applies to."""


class SourceError(UserError, RuntimeError):
    """A source (serial port, file replay, LSL, BrainFlow, simulator) cannot deliver samples."""


class RecordingError(UserError, ValueError):
    """A recording file cannot be read as asked (format, columns, rate, values)."""


class StoreError(UserError, RuntimeError):
    """The session store cannot do what was asked (missing, damaged, read-only, full)."""


class StoreFullError(StoreError):
    """The disk (or the store) is full."""


class NewerSchemaError(StoreError):
    """The store was written by a newer emgfeedback; it is left untouched."""


class UnknownSessionError(StoreError):
    """No session has that id."""


class DamagedStoreError(StoreError):
    """The store file is damaged (garbage pages, truncated, empty): writing into it is refused."""


class DamagedSessionError(StoreError):
    """One session's rows cannot be read from a damaged store; the other sessions may still be intact."""


class ReadOnlyStoreError(StoreError):
    """The data folder (or the store file) cannot be written: reading works, recording and deleting do not."""


class ProfileError(SettingsError):
    """A calibration profile cannot be used, read or written."""


class ProtocolError(SettingsError):
    """A calibration protocol file cannot be used."""


class ExportError(UserError, RuntimeError):
    """An export cannot be written."""


class CommandError(UserError, RuntimeError):
    """A command cannot proceed for a reason of its own (bad combination of flags, missing tool)."""


class ProgramError(SettingsError):
    """A training program file cannot be used (the message names the file and the field)."""


class MissingExtraError(UserError, RuntimeError):
    """An optional feature whose package is not installed (the message names the pip extra)."""
