"""The store's schema and its migrations: ``PRAGMA user_version`` is the schema version.

:data:`MIGRATIONS` takes an older store forward one step at a time; a store from a newer
emgfeedback is refused before anything is written to it (see :class:`~emgfeedback.session.store.SessionStore`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

#: The tables of a session store (a file with other tables is not one).
TABLES = ("sessions", "chunks", "events")


def _v1(conn: sqlite3.Connection) -> None:
    """Sessions, chunk rows and events."""
    conn.execute(
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created REAL NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('recording', 'complete', 'interrupted')),
            fs REAL NOT NULL,
            channels INTEGER NOT NULL,
            muscles TEXT NOT NULL,
            first_index INTEGER,
            end_index INTEGER,
            profile TEXT,
            person TEXT,
            pid INTEGER,
            host TEXT,
            heartbeat REAL,
            ended REAL,
            meta TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    conn.execute(
        """CREATE TABLE chunks (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            start INTEGER NOT NULL,
            count INTEGER NOT NULL,
            channels INTEGER NOT NULL,
            dtype TEXT NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (session_id, kind, start)
        )"""
    )
    conn.execute(
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            idx INTEGER,
            wall REAL,
            data TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    conn.execute("CREATE INDEX events_by_session ON events(session_id, kind, idx)")


#: Migration ``k`` takes a store from schema version ``k`` to ``k + 1``; append, never edit.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1]


def schema_version() -> int:
    """The schema version this code writes."""
    return len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> None:
    """Run the missing migrations in one ``BEGIN IMMEDIATE`` transaction (the caller rolls back on error)."""
    conn.execute("BEGIN IMMEDIATE")
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])  # another process may have migrated
    for step in MIGRATIONS[version:]:
        step(conn)
    conn.execute(f"PRAGMA user_version={schema_version()}")
    conn.execute("COMMIT")
