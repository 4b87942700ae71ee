"""The session store: one SQLite file (WAL), owner-only, schema-versioned, append-only while recording.

Samples are stored in chunk rows (one row per ~0.25 s per stream kind: numpy bytes with
the first absolute sample index, count, channels and dtype), so a long session is read
back as a stream of rows and never has to fit in memory. Events (holds, over-clench
episodes, gaps, markers) are rows of JSON. The schema and its migrations are in
:mod:`~emgfeedback.session.schema`, writer liveness in :mod:`~emgfeedback.session.liveness`,
damage detection and its wording in :mod:`~emgfeedback.session.health`.

Readers open the file read-only (``immutable`` on a read-only disk), so a damaged store is
never changed by looking at it; writers refuse a damaged store or a read-only folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from emgfeedback.errors import (
    DamagedStoreError,
    NewerSchemaError,
    StoreError,
    StoreFullError,
    UnknownSessionError,
)
from emgfeedback.paths import sessions_path
from emgfeedback.private_files import folder_writable
from emgfeedback.session import schema
from emgfeedback.session.health import (
    READ_CHECK_S,
    WRITE_CHECK_S,
    damaged_warning,
    empty_store,
    full_error,
    is_corruption,
    is_disk_full,
    quick_check,
    read_header,
    read_only,
    refuse_write,
)
from emgfeedback.session.liveness import STALE_AFTER_S, writer_alive
from emgfeedback.session.reader import StoreReads
from emgfeedback.session.records import KINDS, STATUSES, ChunkRow, EventRow, SessionInfo, dumps, json_safe
from emgfeedback.session.schema import create_store_file, schema_version

__all__ = [
    "KINDS",
    "STALE_AFTER_S",
    "STATUSES",
    "ChunkRow",
    "DamagedStoreError",
    "EventRow",
    "NewerSchemaError",
    "SessionInfo",
    "SessionStore",
    "StoreError",
    "StoreFullError",
    "UnknownSessionError",
    "dumps",
    "full_error",
    "is_disk_full",
    "json_safe",
    "schema_version",
    "warn_if_damaged",
    "writer_alive",
]


class SessionStore(StoreReads):
    """A connection to the store. One per thread; ``create=False`` refuses to make a new file.

    ``write=False`` opens it read-only (commands that only read: nothing is ever written, a damaged
    store still yields its intact sessions, and :attr:`damage` says what is wrong). ``write=True``
    checks the schema version before writing anything, so a store from a newer emgfeedback is refused
    untouched; an older one is migrated in one transaction; a damaged one is refused.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        create: bool = True,
        write: bool = True,
        timeout: float = 5.0,
        untouched: bool = False,
    ) -> None:
        self.path = Path(path) if path is not None else sessions_path()
        self.write = write
        self.untouched = untouched and not write  # no file is made or changed beside it either (salvage)
        #: What the checks found wrong with the file (None: nothing found).
        self.damage: str | None = None
        self.version = 0
        if not self.path.exists():
            if not (create and write):
                raise StoreError(f"no sessions recorded yet (no store at {self.path}): record one with emgfeedback record")
            create_store_file(self.path)
        try:
            header = read_header(self.path)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot be read ({exc.strerror}): check its permissions") from None
        if header.kind == "empty":
            raise empty_store(self.path)
        if header.kind == "not-sqlite":
            raise self._not_a_store("no SQLite header")
        if write:
            self._check_writable()
        self.damage = header.problem
        if self.damage and write:
            raise refuse_write(self.path, self.damage)
        self.conn = self._connect(timeout)
        try:
            self._check_version()
            if write:
                self._configure()
                self._migrate()
            if self.damage is None:
                self.damage = quick_check(self.conn, WRITE_CHECK_S if write else READ_CHECK_S)
                if self.damage and write:
                    raise refuse_write(self.path, self.damage)
        except BaseException:
            self.conn.close()
            raise
        if write:
            self._secure_files()

    # --- opening -------------------------------------------------------------------------
    def _not_a_store(self, why: str) -> StoreError:
        return StoreError(f"{self.path}: is not a session store ({why}): move it away or point EMGFEEDBACK_HOME elsewhere")

    def _check_writable(self) -> None:
        """Refuse now, naming the folder, when the store cannot be written (a read-only disk or folder)."""
        folder = self.path.parent
        if not folder_writable(folder):
            raise read_only(folder, self.path)
        if not os.access(self.path, os.W_OK):
            raise StoreError(f"{self.path} is read-only: cannot record or change sessions: chmod u+w {self.path}")

    def _connect(self, timeout: float, *, immutable: bool = False) -> sqlite3.Connection:
        """Read-write for writers; read-only for readers (``immutable`` when the folder cannot hold a -shm file)."""
        self._timeout = timeout
        try:
            if immutable:
                uri = f"{self.path.absolute().as_uri()}?immutable=1"
                return sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False)
            if self.write:
                return sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
            uri = self.path.absolute().as_uri()
            wal, shm = Path(f"{self.path}-wal"), Path(f"{self.path}-shm")
            hot_wal = wal.exists() and wal.stat().st_size > 0
            if self.untouched:
                mode = "?mode=ro" if hot_wal else "?immutable=1"  # read the WAL's pages only when it has some
            elif (wal.exists() and shm.exists()) or folder_writable(self.path.parent):
                mode = "?mode=ro"  # sees a concurrent recording's commits
            else:
                mode = "?immutable=1"  # a read-only disk: nothing can change it
            return sqlite3.connect(f"{uri}{mode}", uri=True, timeout=timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot be opened ({exc}): check the path and its permissions") from None

    def _check_version(self) -> None:
        try:
            version, tables = self._read_schema()
        except sqlite3.OperationalError as exc:  # no room for the -shm file (a full disk), or an I/O error
            wal = Path(f"{self.path}-wal")
            if not self.write and not (wal.exists() and wal.stat().st_size > 0):
                self.conn.close()  # nothing is in a WAL: read the main file as it is
                self.conn = self._connect(self._timeout, immutable=True)
                version, tables = self._read_schema()
            else:
                if is_disk_full(exc) or _nearly_full(self.path.parent):
                    raise full_error(self.path) from None
                raise StoreError(f"{self.path}: cannot be opened ({exc}): check the disk and try again") from None
        except sqlite3.DatabaseError as exc:
            if not is_corruption(exc):
                raise self._not_a_store(str(exc)) from None
            if self.write:
                raise refuse_write(self.path, str(exc)) from None
            self.damage = self.damage or str(exc)
        if self.damage and not self.write:
            # a truncated file: read the pages that are there instead of refusing the whole file
            self.conn.execute("PRAGMA writable_schema=ON")
            try:
                version, tables = self._read_schema()
            except sqlite3.DatabaseError as exc:
                raise DamagedStoreError(
                    f"{self.path} is damaged beyond reading ({exc}): no session can be read from it; restore it from a backup"
                ) from None
        if version > schema_version():
            raise NewerSchemaError(
                f"{self.path}: written by a newer emgfeedback (store schema {version}, this version reads up to "
                f"{schema_version()}): upgrade emgfeedback; the store was not changed"
            )
        if version == 0 and tables:
            raise self._not_a_store("tables " + ", ".join(sorted(tables)[:3]))
        if version == 0 and not self.write:
            raise StoreError(f"no sessions recorded yet ({self.path} is empty): record one with emgfeedback record")
        if version and not set(schema.TABLES) <= tables:
            missing = ", ".join(sorted(set(schema.TABLES) - tables))
            raise DamagedStoreError(f"{self.path} is damaged (table {missing} is missing): restore it from a backup")
        self.version = version

    def _read_schema(self) -> tuple[int, set[str]]:
        version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {str(r[0]) for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return version, tables - {"sqlite_sequence"}

    def _configure(self) -> None:
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")  # in WAL: a killed process loses nothing committed
            self.conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.OperationalError as exc:
            if is_disk_full(exc):
                raise full_error(self.path) from None
            raise StoreError(f"{self.path}: cannot be used ({exc}): is another program holding it?") from None

    def _migrate(self) -> None:
        if self.version == schema_version():
            return
        try:
            schema.migrate(self.conn)
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            if is_disk_full(exc):
                raise full_error(self.path) from None
            raise StoreError(f"{self.path}: schema upgrade failed ({exc}): the store was left as it was") from None
        self.version = schema_version()

    def _secure_files(self) -> None:
        """Owner-only for the store and its WAL/SHM files, whatever the umask was."""
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{self.path}{suffix}")
            with contextlib.suppress(OSError):
                if p.stat().st_mode & 0o077:
                    p.chmod(0o600)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` .. ``COMMIT``; a disk-full failure becomes :class:`StoreFullError`."""
        if not self.write:
            raise StoreError(f"{self.path}: opened read-only: this command does not change sessions")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            with contextlib.suppress(sqlite3.Error):
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
            if is_disk_full(exc):
                raise full_error(self.path) from None
            if is_corruption(exc):
                raise refuse_write(self.path, str(exc)) from None
            raise StoreError(f"{self.path}: write failed ({exc}): check the disk and try again") from None

    def create_session(self, **fields: Any) -> int:
        """A new session marked ``recording`` by this process, in a transaction of its own; returns its id.

        ``fields`` are those of :meth:`insert_session` (``fs``, ``muscles``, and optionally ``created``,
        ``profile``, ``person``, ``meta``, ``pid``)."""
        with self.transaction() as c:
            return self.insert_session(c, **fields)

    def insert_session(
        self,
        c: sqlite3.Connection,
        *,
        fs: float,
        muscles: Sequence[str],
        created: float | None = None,
        profile: str | None = None,
        person: str | None = None,
        meta: dict[str, Any] | None = None,
        pid: int | None = None,
    ) -> int:
        """:meth:`create_session` inside the caller's transaction (so a session is stored with its first samples)."""
        now = time.time()
        self._mark_stale(c, now)
        cur = c.execute(
            "INSERT INTO sessions (created, status, fs, channels, muscles, profile, person, pid, host, heartbeat, meta)"
            " VALUES (?, 'recording', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                created if created is not None else now,
                float(fs),
                len(muscles),
                dumps(list(muscles)),
                profile,
                person,
                os.getpid() if pid is None else pid,
                socket.gethostname(),
                now,
                dumps(meta or {}),
            ),
        )
        return int(cur.lastrowid or 0)

    def _mark_stale(self, c: sqlite3.Connection, now: float) -> None:
        """Persist ``interrupted`` for recordings whose writer is gone (done when a new one starts)."""
        rows = c.execute("SELECT id, pid, host, heartbeat FROM sessions WHERE status = 'recording'").fetchall()
        for sid, pid, host, beat in rows:
            if not writer_alive(pid, host, beat, now):
                c.execute("UPDATE sessions SET status = 'interrupted', ended = heartbeat WHERE id = ?", (sid,))

    def set_status(self, session_id: int, status: str) -> None:
        """Mark a session ``complete`` or ``interrupted`` (its writer is done)."""
        if status not in STATUSES:
            raise ValueError(f"status {status!r} is not one of {STATUSES}")
        with self.transaction() as c:
            c.execute(
                "UPDATE sessions SET status = ?, ended = ?, heartbeat = ? WHERE id = ?",
                (status, time.time(), time.time(), session_id),
            )

    def delete_session(self, session_id: int) -> None:
        """Remove a session's rows, overwriting the freed pages (health data), then shrink the WAL."""
        info = self.session(session_id)
        if info.status == "recording":
            raise StoreError(f"session {session_id} is still being recorded (pid {info.pid}): stop that recording first")
        self.conn.execute("PRAGMA secure_delete=ON")
        with self.transaction() as c:
            c.execute("DELETE FROM chunks WHERE session_id = ?", (session_id,))
            c.execute("DELETE FROM events WHERE session_id = ?", (session_id,))
            c.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _nearly_full(folder: Path) -> bool:
    """Whether the disk holding ``folder`` has no room left for the store to grow (SQLite reports that as an I/O error)."""
    try:
        return shutil.disk_usage(folder).free < 64 * 1024
    except OSError:
        return False


def warn_if_damaged(store: SessionStore, out: TextIO | None = None) -> None:
    """Print (stderr) the one-line warning of a damaged store opened for reading."""
    if store.damage:
        print(damaged_warning(store.path, store.damage), file=out or sys.stderr)
