"""Reading a store: sessions, events and chunk rows, each read guarded so one damaged page names one session.

:class:`StoreReads` is the reading half of :class:`~emgfeedback.session.store.SessionStore`; it needs
only an open connection and the file's path.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emgfeedback.errors import DamagedStoreError, StoreError, UnknownSessionError
from emgfeedback.session.health import SALVAGE, damaged_session, is_corruption, is_disk_full
from emgfeedback.session.liveness import writer_alive
from emgfeedback.session.records import ChunkRow, EventRow, SessionInfo


class StoreReads:
    """The read methods of a store; a read that hits a damaged page raises one line naming the session."""

    conn: sqlite3.Connection
    path: Path

    # --- reading -------------------------------------------------------------------------
    @contextlib.contextmanager
    def reading(self, session_id: int | None = None) -> Iterator[None]:
        """Turn a read that hits a damaged page into one line naming the session (or the list of sessions)."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if is_disk_full(exc):
                raise  # a write beside the read failed (salvage): the writer's transaction words it
            if not is_corruption(exc):
                raise StoreError(f"{self.path}: cannot be read ({exc}): check the disk and try again") from None
            if session_id is None:
                raise DamagedStoreError(
                    f"{self.path} is damaged ({exc}): the list of sessions cannot be read; '{SALVAGE}' "
                    "copies every session it can still read into a new store"
                ) from None
            raise damaged_session(session_id, self.path, exc) from None

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
        with self.reading():
            rows = self.conn.execute(f"SELECT {self._SESSION_COLUMNS} FROM sessions ORDER BY created, id").fetchall()
        return [self._info(r, now) for r in rows]

    def session(self, session_id: int) -> SessionInfo:
        """One session, or :class:`UnknownSessionError`."""
        with self.reading(session_id):
            row = self.conn.execute(f"SELECT {self._SESSION_COLUMNS} FROM sessions WHERE id = ?", (int(session_id),)).fetchone()
        if row is None:
            raise UnknownSessionError(f"no session {session_id}: list them with emgfeedback sessions")
        return self._info(row, time.time())

    def hold_counts(self) -> dict[int, int | None]:
        """Holds started per session id (None for a session whose events cannot be read)."""
        sql = "SELECT session_id, count(*) FROM events WHERE kind = 'hold_start'"
        with contextlib.suppress(sqlite3.DatabaseError):
            return {int(s): int(n) for s, n in self.conn.execute(sql + " GROUP BY session_id")}
        counts: dict[int, int | None] = {}
        for info in self.sessions():  # a damaged store: count per session, so one bad page hides one session
            try:
                counts[info.id] = int(self.conn.execute(sql + " AND session_id = ?", (info.id,)).fetchone()[1])
            except sqlite3.DatabaseError:
                counts[info.id] = None
        return counts

    def events(self, session_id: int, kinds: Iterable[str] | None = None) -> list[EventRow]:
        """A session's events in sample order (then insertion order)."""
        sql = "SELECT kind, idx, wall, data FROM events WHERE session_id = ?"
        args: list[Any] = [session_id]
        if kinds is not None:
            ks = list(kinds)
            sql += f" AND kind IN ({','.join('?' * len(ks))})"
            args += ks
        sql += " ORDER BY idx IS NULL, idx, id"
        with self.reading(session_id):
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
        with self.reading(session_id):
            cur = self.conn.execute(sql + " ORDER BY start", args)
            for s, n, ch, dtype, blob in cur:
                try:
                    data = np.frombuffer(blob, dtype=np.dtype(dtype)).reshape(n, ch)
                except (TypeError, ValueError) as exc:  # a row whose bytes do not match its header
                    raise sqlite3.DatabaseError(f"row at sample {s} is malformed: {exc}") from None
                yield ChunkRow(int(s), data)

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
        with self.reading(session_id):
            row = self.conn.execute(
                "SELECT coalesce(sum(count), 0) FROM chunks WHERE session_id = ? AND kind = ?", (session_id, kind)
            )
            return int(row.fetchone()[0])
