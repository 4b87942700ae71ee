"""Export destinations: check the output directory first, write each file atomically, owner-only.

A failed export (disk full, permission) leaves no partial file and never touches the store.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from emgfeedback.errors import ExportError
from emgfeedback.private_files import remove_stale_parts
from emgfeedback.session.health import is_disk_full


def prepare_out_dir(out: Path | str | None) -> Path:
    """The output directory, created (0700) if missing and proven writable; leftovers of killed exports are removed."""
    path = Path(out) if out is not None else Path.cwd()
    if path.exists() and not path.is_dir():
        raise ExportError(f"{path}: is not a directory: give a directory with --out")
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ExportError(f"{path}: cannot be created ({exc.strerror}): choose another --out") from None
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        if is_disk_full(exc):
            raise ExportError(f"{path}: disk full: free some space or choose another --out") from None
        raise ExportError(f"{path}: is not writable ({exc.strerror}): choose another --out") from None
    remove_stale_parts(path, "session-*")  # health data half-written by an export that was killed
    return path


def file_name(session_id: int, suffix: str) -> str:
    """``session-12.csv``, ``session-12-raw.csv``, ..."""
    return f"session-{session_id}{suffix}"


@contextlib.contextmanager
def atomic_output(path: Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """Write ``path`` through a private temporary file renamed into place only on success."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    except OSError as exc:
        raise _error(path, exc) from None
    stream: IO[Any] = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
    try:
        try:
            yield stream
        finally:
            stream.close()
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _error(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _error(path: Path, exc: OSError) -> ExportError:
    if is_disk_full(exc):
        return ExportError(f"disk full while writing {path}: free some space and export again (nothing was left behind)")
    return ExportError(f"{path}: cannot be written ({exc.strerror}): choose another --out")
