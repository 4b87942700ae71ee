"""What can be wrong with a store file, found cheaply on every open and fully in ``doctor``.

Damage (garbage pages, a truncated or empty file), a read-only folder and a full disk
each get one line naming the problem and the fix. Damage is found by checking the file
header against the file's size, then a time-bounded ``PRAGMA quick_check``; ``doctor``
runs the full ``PRAGMA integrity_check`` and reads every session.
"""

from __future__ import annotations

import errno
import sqlite3
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from emgfeedback.errors import DamagedSessionError, DamagedStoreError, ReadOnlyStoreError, StoreFullError

MAGIC = b"SQLite format 3\x00"
#: Seconds the cheap check may spend on ``quick_check`` when a command opens the store to read / to write.
READ_CHECK_S = 0.5
WRITE_CHECK_S = 2.0
SALVAGE = "emgfeedback salvage --out NEW_FOLDER"


@dataclass(frozen=True)
class Header:
    """What the first 100 bytes of a store say about it, against its real size."""

    size: int
    kind: str  # "ok", "empty", "not-sqlite", "truncated"
    page_size: int = 0
    pages: int = 0  # the database size the header states (0: not stated)

    @property
    def problem(self) -> str | None:
        """A short description of the damage the header shows, or None."""
        if self.kind == "empty":
            return "the file is empty (0 bytes)"
        if self.kind == "truncated":
            return f"truncated: {self.size} of {self.pages * self.page_size} bytes"
        return None


def read_header(path: Path) -> Header:
    """Classify ``path`` by its header: a truncation shows as a file shorter than the size its header states."""
    size = path.stat().st_size
    if size == 0:
        return Header(0, "empty")
    with path.open("rb") as f:
        head = f.read(100)
    if len(head) < 100 or not head.startswith(MAGIC):
        return Header(size, "not-sqlite")
    page_size = struct.unpack(">H", head[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return Header(size, "not-sqlite")
    change, pages = struct.unpack(">II", head[24:32])
    valid_for = struct.unpack(">I", head[92:96])[0]
    wal = Path(f"{path}-wal")
    hot_wal = wal.exists() and wal.stat().st_size > 0  # the WAL holds pages the main file has not got yet
    if pages and change == valid_for and not hot_wal and size < pages * page_size:
        return Header(size, "truncated", page_size, pages)
    return Header(size, "ok", page_size, pages)


def is_corruption(exc: BaseException) -> bool:
    """SQLite's 'database disk image is malformed' and 'file is not a database'."""
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, sqlite3.OperationalError):
        return False
    return _code(exc) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in str(exc)


def is_disk_full(exc: BaseException) -> bool:
    """True for SQLite's 'database or disk is full' and for ENOSPC/EDQUOT/EFBIG (a file-size limit) from the OS."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    if isinstance(exc, sqlite3.Error):
        return _code(exc) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return False


def _code(exc: sqlite3.Error) -> int:
    """The primary result code (an exception made by hand has none)."""
    return int(getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF


def full_error(path: Path | str) -> StoreFullError:
    """The one-line disk-full message (what was committed before is kept)."""
    return StoreFullError(f"disk full: {path} cannot grow: free some disk space (everything committed so far is kept)")


def quick_check(conn: sqlite3.Connection, budget_s: float) -> str | None:
    """``PRAGMA quick_check`` for at most ``budget_s`` seconds: the first problems found, or None.

    A check cut short by the budget found nothing in the part it read; reads stay guarded per session.
    """
    deadline = time.monotonic() + budget_s
    conn.set_progress_handler(lambda: time.monotonic() > deadline, 2000)
    try:
        rows = conn.execute("PRAGMA quick_check(3)").fetchall()
    except sqlite3.OperationalError:
        return None  # interrupted by the budget (or busy): nothing found so far
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.set_progress_handler(None, 0)
    found = [str(r[0]) for r in rows]
    return None if found == ["ok"] else first_problem(found)


def integrity_check(conn: sqlite3.Connection) -> str | None:
    """The full ``PRAGMA integrity_check`` (every page, every index entry): the first problems, or None."""
    try:
        rows = conn.execute("PRAGMA integrity_check(3)").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    found = [str(r[0]) for r in rows]
    return None if found == ["ok"] else first_problem(found)


def first_problem(lines: list[str]) -> str:
    """One short line from SQLite's check report."""
    text = " ".join(" ".join(lines).replace("*** in database main ***", "").split())
    return text if len(text) <= 120 else text[:117] + "..."


# --- the one-line messages ---------------------------------------------------------------------------


def refuse_write(path: Path, problem: str) -> DamagedStoreError:
    """Writing into a damaged store: say how to keep what is readable and move the file aside."""
    return DamagedStoreError(
        f"{path} is damaged ({problem}): nothing was written to it; keep its readable sessions with "
        f"'{SALVAGE}', then move the damaged file aside (mv {path} {path}.damaged) "
        "or set EMGFEEDBACK_HOME=NEW_FOLDER"
    )


def damaged_warning(path: Path, problem: str) -> str:
    """The line read commands print (stderr) for a damaged store whose intact sessions still read."""
    return (
        f"warning: {path} is damaged ({problem}): intact sessions still list, show and export; "
        f"'{SALVAGE}' copies them into a new store"
    )


def damaged_session(session_id: int, path: Path, exc: BaseException) -> DamagedSessionError:
    """One session cannot be read."""
    return DamagedSessionError(
        f"session {session_id} is damaged in {path} ({exc}): it cannot be read; the other sessions still can: "
        f"copy them into a new store with '{SALVAGE}'"
    )


def empty_store(path: Path) -> DamagedStoreError:
    """A zero-length store is never replaced silently."""
    return DamagedStoreError(
        f"{path} is empty (0 bytes): its sessions were lost (a crash or a failed copy); restore it from a backup, "
        f"or move it aside (mv {path} {path}.empty) and a new store is made at the next recording"
    )


def read_only(folder: Path, path: Path) -> ReadOnlyStoreError:
    """Writing into a folder that cannot be written."""
    return ReadOnlyStoreError(
        f"{folder} is read-only: cannot record or change sessions in {path.name} there; make the folder writable, "
        "or set EMGFEEDBACK_HOME to a writable folder (copy the sessions there with 'emgfeedback salvage --out DIR')"
    )
