"""Copy every readable session of a (damaged) store into a new, intact store; the old file is never changed.

Each session is copied whole, in its own transaction, with its id, its row, every chunk row and
every event as stored, so its exports from the new store are byte-identical to those from the
old one. A session with any unreadable row is reported and left out.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emgfeedback.errors import DamagedSessionError, DamagedStoreError, StoreError
from emgfeedback.private_files import private_folder
from emgfeedback.session.health import integrity_check, read_header
from emgfeedback.session.records import SessionInfo
from emgfeedback.session.store import SessionStore

#: Rows copied per insert batch (bounded memory for long sessions).
BATCH = 256
#: Session ids probed when the list of sessions itself cannot be read and the id counter is lost too.
PROBE_IDS = 10_000
_SESSION_COLUMNS = (
    "id, created, status, fs, channels, muscles, first_index, end_index, profile, person, pid, host, heartbeat, ended, meta"
)


@dataclass
class SalvageReport:
    """What was copied into :attr:`target` and what could not be read."""

    source: Path
    target: Path
    problem: str | None = None  # what the checks found wrong with the source
    recovered: list[SessionInfo] = field(default_factory=list)
    lost: list[tuple[int | None, str]] = field(default_factory=list)  # (session id or None, why)

    @property
    def complete(self) -> bool:
        return not self.lost


def salvage(source: Path, out_dir: Path, on_session: Callable[[str], None] | None = None) -> SalvageReport:
    """Copy the readable sessions of ``source`` into ``out_dir/sessions.sqlite3`` (a new store); see the module doc."""
    source, out_dir = Path(source), Path(out_dir)
    target = out_dir / source.name
    if out_dir.exists() and not out_dir.is_dir():
        raise StoreError(f"{out_dir}: is not a folder: give a new or empty folder with --out")
    if target.exists() or Path(f"{target}-wal").exists():
        raise StoreError(f"{out_dir} already holds a session store: give a new or empty folder with --out")
    if not source.exists():
        raise StoreError(f"no store at {source}: nothing to salvage")
    report = SalvageReport(source, target)
    header = read_header(source)
    if header.kind == "not-sqlite":
        raise StoreError(f"{source}: is not a session store (no SQLite header): nothing emgfeedback can salvage")
    try:
        private_folder(out_dir)
    except OSError as exc:
        raise StoreError(f"{out_dir}: cannot be created ({exc.strerror}): choose another --out") from None
    with SessionStore(target) as dst:  # a new store, made atomically, owner-only
        if header.kind == "empty":
            report.problem = header.problem
            report.lost.append((None, "the file is empty (0 bytes): its sessions are gone; restore it from a backup"))
            return report
        try:
            src = SessionStore(source, create=False, write=False, untouched=True)
        except DamagedStoreError as exc:
            report.problem = str(exc)
            report.lost.append((None, "no session can be read"))
            return report
        with src:
            report.problem = src.damage
            for sid in _session_ids(src, report):
                try:
                    info = _copy_session(src, dst, sid)
                except (DamagedSessionError, DamagedStoreError) as exc:
                    report.lost.append((sid, _why(exc)))
                    if on_session:
                        on_session(f"session {sid}: not recovered ({_why(exc)})")
                    continue
                if info is not None:
                    report.recovered.append(info)
                    if on_session:
                        on_session(f"session {sid}: recovered ({info.duration_s:.1f} s, {info.status})")
        found = integrity_check(dst.conn)
        if found:  # never expected: the new store is written by SQLite from scratch
            raise StoreError(f"{target}: the new store fails its own check ({found}): report this as a bug")
    return report


def _why(exc: BaseException) -> str:
    text = str(exc)
    return text[text.find("(") + 1 : text.find(")")] if "(" in text else text


def _session_ids(src: SessionStore, report: SalvageReport) -> list[int]:
    """Every session id: from the list of sessions, or probed one by one when that list is damaged."""
    try:
        return [s.id for s in src.sessions()]
    except DamagedStoreError as exc:
        report.problem = report.problem or _why(exc)
    try:
        row = src.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'sessions'").fetchone()
        top = int(row[0]) if row else PROBE_IDS
    except sqlite3.DatabaseError:
        top = PROBE_IDS
    ids = []
    for sid in range(1, top + 1):
        try:
            if src.conn.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone():
                ids.append(sid)
        except sqlite3.DatabaseError:
            report.lost.append((sid, "its row in the list of sessions is damaged"))
    return ids


def _copy_session(src: SessionStore, dst: SessionStore, sid: int) -> SessionInfo | None:
    """Copy one session whole in one transaction of ``dst``; a damaged row raises and nothing of it is kept."""
    with src.reading(sid):
        row = src.conn.execute(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?", (sid,)).fetchone()
        if row is None:
            return None
        info = src.session(sid)
    with dst.transaction() as c, src.reading(sid):  # a damaged source row rolls this session back, and only it
        c.execute(f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES ({','.join('?' * 15)})", row)
        chunks = src.conn.execute(
            "SELECT session_id, kind, start, count, channels, dtype, data FROM chunks WHERE session_id = ? ORDER BY kind, start",
            (sid,),
        )
        _copy_rows(c, chunks, "INSERT INTO chunks VALUES (?,?,?,?,?,?,?)", check=_check_chunk)
        events = src.conn.execute(
            "SELECT id, session_id, kind, idx, wall, data FROM events WHERE session_id = ? ORDER BY id", (sid,)
        )
        _copy_rows(c, events, "INSERT INTO events VALUES (?,?,?,?,?,?)")
    return info


def _check_chunk(row: tuple) -> None:
    """A chunk row whose bytes do not fit its count, channels and dtype is damaged."""
    _, _, start, count, channels, dtype, data = row
    try:
        expected = int(count) * int(channels) * np.dtype(dtype).itemsize
    except (TypeError, ValueError):
        expected = -1
    if not isinstance(data, bytes) or len(data) != expected:
        raise sqlite3.DatabaseError(f"database disk image is malformed (chunk at sample {start} has the wrong size)")


def _copy_rows(c: sqlite3.Connection, cur: sqlite3.Cursor, sql: str, check: Callable[[tuple], None] | None = None) -> None:
    while True:
        batch = cur.fetchmany(BATCH)
        if not batch:
            return
        if check is not None:
            for r in batch:
                check(r)
        c.executemany(sql, batch)


@dataclass
class Examination:
    """The full check of a store (``doctor``): SQLite's integrity check, then every session read whole."""

    sessions: int = 0
    problem: str | None = None
    damaged: list[int] = field(default_factory=list)


def examine(path: Path) -> Examination:
    """Run ``PRAGMA integrity_check`` and read every row of every session, never changing the file."""
    result = Examination()
    header = read_header(path)
    if header.kind == "empty":
        result.problem = header.problem
        return result
    try:
        store = SessionStore(path, create=False, write=False, untouched=True)
    except DamagedStoreError as exc:
        result.problem = _why(exc)
        return result
    with store:
        result.problem = integrity_check(store.conn) or store.damage
        report = SalvageReport(path, path)
        for sid in _session_ids(store, report):
            result.sessions += 1
            try:
                with store.reading(sid):  # every page of the session is visited
                    store.session(sid)
                    chunks = "SELECT session_id, kind, start, count, channels, dtype, data FROM chunks WHERE session_id = ?"
                    for row in store.conn.execute(chunks, (sid,)):
                        _check_chunk(row)
                    store.conn.execute("SELECT count(data) FROM events WHERE session_id = ?", (sid,)).fetchone()
            except (DamagedSessionError, DamagedStoreError):
                result.damaged.append(sid)
        result.damaged += [sid for sid, _ in report.lost if sid is not None]
    return result
