"""Session recording and export: an append-only, crash-safe SQLite store and its exporters.

Pure logic (no Qt): the dashboard records with :class:`SessionRecorder` and reads with
:class:`SessionStore`; the CLI commands ``record``, ``sessions``, ``show``, ``export``
and ``delete`` are thin wrappers.
"""

from emgfeedback.session.recorder import SessionMeta, SessionRecorder
from emgfeedback.session.store import (
    NewerSchemaError,
    SessionInfo,
    SessionStore,
    StoreError,
    StoreFullError,
    UnknownSessionError,
)

__all__ = [
    "NewerSchemaError",
    "SessionInfo",
    "SessionMeta",
    "SessionRecorder",
    "SessionStore",
    "StoreError",
    "StoreFullError",
    "UnknownSessionError",
]
