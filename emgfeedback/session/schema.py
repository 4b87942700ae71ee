"""The store's schema and its migrations: ``PRAGMA user_version`` is the schema version.

:data:`MIGRATIONS` takes an older store forward one step at a time; a store from a newer
emgfeedback is refused before anything is written to it (see :class:`~emgfeedback.session.store.SessionStore`).
:func:`create_store_file` makes a new store with the whole schema in one step.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from emgfeedback.errors import StoreError
from emgfeedback.private_files import folder_writable, remove_stale_parts
from emgfeedback.session.health import full_error, is_disk_full, read_only

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


def create_store_file(path: Path) -> None:
    """Make a new store atomically: the schema is written to a private temporary file that is then
    linked into place, so a crash never leaves an empty or half-made store.

    A missing directory is made 0700; an existing one is left as it is (the default data
    directory is already private, see :func:`emgfeedback.paths.data_dir`).
    """
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StoreError(f"{folder}: cannot be created ({exc.strerror}): check the path") from None
    if not folder_writable(folder):
        raise read_only(folder, path)
    remove_stale_parts(folder, path.name)
    tmp = folder / f".{path.name}.{os.getpid()}.part"
    try:
        os.close(os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600))
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            migrate(conn)
        finally:
            conn.close()
        try:
            os.link(tmp, path)  # never replaces a store another process made meanwhile
        except FileExistsError:
            pass
        except OSError:
            if not path.exists():
                os.rename(tmp, path)  # a file system without hard links
    except (OSError, sqlite3.Error) as exc:
        if is_disk_full(exc):
            raise full_error(path) from None
        raise StoreError(f"{path}: cannot be created ({exc}): check the folder") from None
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                Path(f"{tmp}{suffix}").unlink()
