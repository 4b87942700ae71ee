"""The session store: one SQLite file (WAL), owner-only, schema-versioned, append-only while recording.

Samples are stored in chunk rows (one row per ~0.25 s per stream kind: numpy bytes with
the first absolute sample index, count, channels and dtype), so a long session is read
back as a stream of rows and never has to fit in memory. Events (holds, over-clench
episodes, gaps, markers) are rows of JSON. ``PRAGMA user_version`` is the schema
version; :data:`MIGRATIONS` takes an older store forward, and a newer one is refused
before anything is written to it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from emgfeedback.errors import NewerSchemaError, StoreError, StoreFullError, UnknownSessionError
from emgfeedback.paths import sessions_path

#: Stream kinds stored per sample; every flush writes one row of each with the same start and count.
KINDS = ("raw", "envelope", "percent", "state")
#: A "recording" session whose heartbeat is older than this (seconds) has lost its writer.
STALE_AFTER_S = 15.0
STATUSES = ("recording", "complete", "interrupted")


def is_disk_full(exc: BaseException) -> bool:
    """True for SQLite's 'database or disk is full' and for ENOSPC/EDQUOT from the OS."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == sqlite3.SQLITE_FULL or "disk is full" in str(exc) or "database or disk is full" in str(exc)
    return False


def full_error(path: Path | str) -> StoreFullError:
    """The one-line disk-full message (what was committed before is kept)."""
    return StoreFullError(f"disk full: {path} cannot grow: free some disk space (everything committed so far is kept)")


# --- schema --------------------------------------------------------------------------------


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


# --- records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionInfo:
    """One session's row; ``status`` is the effective one (a dead writer reads as interrupted)."""

    id: int
    created: float
    status: str
    fs: float
    muscles: tuple[str, ...]
    first_index: int | None
    end_index: int | None
    profile: str | None
    person: str | None
    pid: int | None
    host: str | None
    heartbeat: float | None
    ended: float | None
    meta: dict[str, Any] = field(default_factory=dict)
    stored_status: str = ""

    @property
    def channels(self) -> int:
        return len(self.muscles)

    @property
    def samples(self) -> int:
        """Samples spanned (first to last committed, gaps included)."""
        if self.first_index is None or self.end_index is None:
            return 0
        return max(self.end_index - self.first_index, 0)

    @property
    def duration_s(self) -> float:
        return self.samples / self.fs

    @property
    def started(self) -> datetime:
        """Local wall-clock time of the first sample."""
        return datetime.fromtimestamp(self.created).astimezone()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "date": self.started.isoformat(timespec="seconds"),
            "duration_s": self.duration_s,
            "status": self.status,
            "fs": self.fs,
            "muscles": list(self.muscles),
            "profile": self.profile,
            "person": self.person,
            "first_index": self.first_index,
            "end_index": self.end_index,
        }


@dataclass(frozen=True)
class EventRow:
    """A stored event: kind, absolute sample index (or None), wall time and JSON data."""

    kind: str
    index: int | None
    wall: float | None
    data: dict[str, Any]


@dataclass(frozen=True)
class ChunkRow:
    """Samples ``start .. start + len(data)`` of one kind, shape (count, channels)."""

    start: int
    data: np.ndarray

    @property
    def stop(self) -> int:
        return self.start + int(self.data.shape[0])


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs on this machine (a zombie counts as gone)."""
    if os.name == "nt":  # os.kill would terminate it there: rely on the heartbeat
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def writer_alive(pid: int | None, host: str | None, heartbeat: float | None, now: float | None = None) -> bool:
    """A recording's writer is alive if its heartbeat is fresh and, on this host, its process runs."""
    now = time.time() if now is None else now
    if heartbeat is None or now - heartbeat > STALE_AFTER_S:
        return False
    if host == socket.gethostname() and pid is not None:
        return _pid_alive(pid)
    return True


def json_safe(value: Any) -> Any:
    """NaN and infinities become None so the stored JSON is standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    return value


def dumps(value: Any) -> str:
    """Standard JSON (no NaN) for the store."""
    return json.dumps(json_safe(value), separators=(",", ":"), allow_nan=False)


# --- the store -----------------------------------------------------------------------------


class SessionStore:
    """A connection to the store. One per thread; ``create=False`` refuses to make a new file.

    Opening checks the schema version before writing anything, so a store from a newer
    emgfeedback is refused untouched; an older one is migrated in one transaction.
    """

    def __init__(self, path: Path | str | None = None, *, create: bool = True, timeout: float = 5.0) -> None:
        self.path = Path(path) if path is not None else sessions_path()
        if not self.path.exists():
            if not create:
                raise StoreError(f"no sessions recorded yet (no store at {self.path}): record one with emgfeedback record")
            self._create_file()
        try:
            self.conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot be opened ({exc}): check the path and its permissions") from None
        try:
            self._check_version()
            self._configure()
            self._migrate()
        except BaseException:
            self.conn.close()
            raise
        self._secure_files()

    # --- opening -------------------------------------------------------------------------
    def _create_file(self) -> None:
        """Create the file owner-only before SQLite touches it (its -wal/-shm inherit the mode).

        A missing directory is made 0700; an existing one is left as it is (the default data
        directory is already private, see :func:`emgfeedback.paths.data_dir`).
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreError(f"{self.path.parent}: cannot be created ({exc.strerror}): check the path") from None
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return
        except OSError as exc:
            if is_disk_full(exc):
                raise full_error(self.path) from None
            raise StoreError(f"{self.path}: cannot be created ({exc.strerror}): check the directory") from None
        os.close(fd)

    def _check_version(self) -> None:
        try:
            version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path}: is not a session store ({exc}): move it away or point EMGFEEDBACK_HOME elsewhere"
            ) from None
        if version > schema_version():
            raise NewerSchemaError(
                f"{self.path}: written by a newer emgfeedback (store schema {version}, this version reads up to "
                f"{schema_version()}): upgrade emgfeedback; the store was not changed"
            )
        self.version = version

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
            self.conn.execute("BEGIN IMMEDIATE")
            version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])  # another process may have migrated
            for step in MIGRATIONS[version:]:
                step(self.conn)
            self.conn.execute(f"PRAGMA user_version={schema_version()}")
            self.conn.execute("COMMIT")
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
            raise StoreError(f"{self.path}: write failed ({exc}): check the disk and try again") from None

    def create_session(
        self,
        *,
        fs: float,
        muscles: Sequence[str],
        created: float | None = None,
        profile: str | None = None,
        person: str | None = None,
        meta: dict[str, Any] | None = None,
        pid: int | None = None,
    ) -> int:
        """A new session marked ``recording`` by this process; returns its id."""
        now = time.time()
        with self.transaction() as c:
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

    # --- reading -------------------------------------------------------------------------
    _SESSION_COLUMNS = (
        "id, created, status, fs, muscles, first_index, end_index, profile, person, pid, host, heartbeat, ended, meta"
    )

    def _info(self, row: tuple[Any, ...], now: float) -> SessionInfo:
        sid, created, status, fs, muscles, first, end, profile, person, pid, host, beat, ended, meta = row
        effective = status
        if status == "recording" and not writer_alive(pid, host, beat, now):
            effective = "interrupted"
        return SessionInfo(
            id=int(sid),
            created=float(created),
            status=effective,
            fs=float(fs),
            muscles=tuple(json.loads(muscles)),
            first_index=first,
            end_index=end,
            profile=profile,
            person=person,
            pid=pid,
            host=host,
            heartbeat=beat,
            ended=ended if ended is not None or effective != "interrupted" else beat,
            meta=json.loads(meta or "{}"),
            stored_status=status,
        )

    def sessions(self) -> list[SessionInfo]:
        """Every session, oldest first."""
        now = time.time()
        rows = self.conn.execute(f"SELECT {self._SESSION_COLUMNS} FROM sessions ORDER BY created, id").fetchall()
        return [self._info(r, now) for r in rows]

    def session(self, session_id: int) -> SessionInfo:
        """One session, or :class:`UnknownSessionError`."""
        row = self.conn.execute(f"SELECT {self._SESSION_COLUMNS} FROM sessions WHERE id = ?", (int(session_id),)).fetchone()
        if row is None:
            raise UnknownSessionError(f"no session {session_id}: list them with emgfeedback sessions")
        return self._info(row, time.time())

    def hold_counts(self) -> dict[int, int]:
        """Holds started per session id."""
        rows = self.conn.execute("SELECT session_id, count(*) FROM events WHERE kind = 'hold_start' GROUP BY session_id")
        return {int(s): int(n) for s, n in rows}

    def events(self, session_id: int, kinds: Iterable[str] | None = None) -> list[EventRow]:
        """A session's events in sample order (then insertion order)."""
        sql = "SELECT kind, idx, wall, data FROM events WHERE session_id = ?"
        args: list[Any] = [session_id]
        if kinds is not None:
            ks = list(kinds)
            sql += f" AND kind IN ({','.join('?' * len(ks))})"
            args += ks
        sql += " ORDER BY idx IS NULL, idx, id"
        return [EventRow(k, i, w, json.loads(d)) for k, i, w, d in self.conn.execute(sql, args)]

    def iter_chunks(self, session_id: int, kind: str, start: int | None = None, stop: int | None = None) -> Iterator[ChunkRow]:
        """Rows of one kind in index order, streamed from the database (bounded memory)."""
        sql = "SELECT start, count, channels, dtype, data FROM chunks WHERE session_id = ? AND kind = ?"
        args: list[Any] = [session_id, kind]
        if start is not None:
            sql += " AND start + count > ?"
            args.append(start)
        if stop is not None:
            sql += " AND start < ?"
            args.append(stop)
        cur = self.conn.execute(sql + " ORDER BY start", args)
        for s, n, ch, dtype, blob in cur:
            yield ChunkRow(int(s), np.frombuffer(blob, dtype=np.dtype(dtype)).reshape(n, ch))

    def iter_aligned(
        self, session_id: int, kinds: Sequence[str], start: int | None = None, stop: int | None = None
    ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        """``(start, {kind: array})`` for rows written together (they share start and count)."""
        iters = [self.iter_chunks(session_id, k, start, stop) for k in kinds]
        for rows in zip(*iters, strict=False):
            first = rows[0]
            if any(r.start != first.start or r.data.shape[0] != first.data.shape[0] for r in rows):
                raise StoreError(
                    f"session {session_id}: stream rows are misaligned at sample {first.start}: the store is damaged"
                )
            yield first.start, {k: r.data for k, r in zip(kinds, rows, strict=True)}

    def read(self, session_id: int, kind: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Samples of one kind with absolute index in ``[start, stop)``: (indices, values); for short spans."""
        idx_parts: list[np.ndarray] = []
        val_parts: list[np.ndarray] = []
        for row in self.iter_chunks(session_id, kind, start, stop):
            a, b = max(start - row.start, 0), min(stop, row.stop) - row.start
            if b > a:
                idx_parts.append(np.arange(row.start + a, row.start + b))
                val_parts.append(row.data[a:b])
        if not idx_parts:
            return np.empty(0, dtype=np.int64), np.empty((0, 0))
        return np.concatenate(idx_parts), np.concatenate(val_parts)

    def stored_samples(self, session_id: int, kind: str = "percent") -> int:
        """Samples actually stored (gaps excluded)."""
        row = self.conn.execute(
            "SELECT coalesce(sum(count), 0) FROM chunks WHERE session_id = ? AND kind = ?", (session_id, kind)
        )
        return int(row.fetchone()[0])
