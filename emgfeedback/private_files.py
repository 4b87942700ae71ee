"""Owner-only files (0600) and folders (0700), atomic writes, and the leftovers of killed runs.

Health data never sits readable by others, even for a moment: files are created with
their final mode, written through a hidden ``.NAME.PID.part`` file and renamed into place.
A run that was killed leaves its ``.part`` file behind; the next run in that folder
removes it once the process named in it is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

#: ``.session-3.csv.1234.part``: the hidden temporary file of ``session-3.csv`` written by pid 1234.
_PART = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.part$")
#: Temporary files without a pid in their name (older versions) are removed once this old, seconds.
LEGACY_TEMP_AGE_S = 600.0


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs on this machine (a zombie counts as gone)."""
    if os.name == "nt":  # os.kill would terminate it there: assume it runs
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


def part_path(path: Path) -> Path:
    """The hidden temporary file this process writes ``path`` through."""
    return path.with_name(f".{path.name}.{os.getpid()}.part")


def make_private(path: Path) -> None:
    """Make an existing file 0600 (a folder 0700) when it is open to others; no-op where modes do not apply."""
    with contextlib.suppress(OSError):
        mode = path.stat().st_mode
        if mode & 0o077:
            path.chmod(0o700 if path.is_dir() else 0o600)


def private_folder(path: Path) -> Path:
    """Create ``path`` (and missing parents) mode 0700; an existing folder open to others is made 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_private(path)
    return path


def create_private(path: Path) -> None:
    """Create ``path`` empty and owner-only if it does not exist (so a later writer keeps that mode)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def write_private(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename), owner-only.

    On failure nothing is left behind and ``path`` keeps its old content; the OSError is raised.
    """
    tmp = part_path(path)
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def remove_stale_parts(folder: Path, name_glob: str = "*", *, legacy_glob: str | None = None) -> list[Path]:
    """Remove the ``.NAME.PID.part`` files of processes that are gone (killed mid-write); returns them.

    ``name_glob`` limits NAME (e.g. ``session-*``). ``legacy_glob`` also removes older temporary files
    without a pid once they are :data:`LEGACY_TEMP_AGE_S` old.
    """
    removed: list[Path] = []
    try:
        candidates = list(folder.glob(f".{name_glob}.*.part"))
        if legacy_glob:
            candidates += list(folder.glob(legacy_glob))
    except OSError:
        return removed
    now = time.time()
    for path in candidates:
        match = _PART.match(path.name)
        try:
            if match and os.name != "nt":
                pid = int(match["pid"])
                if pid == os.getpid() or pid_alive(pid):
                    continue
            elif now - path.stat().st_mtime < LEGACY_TEMP_AGE_S:  # no pid, or no way to ask (Windows): by age
                continue
            path.unlink()
            removed.append(path)
            for suffix in ("-wal", "-shm", "-journal"):  # a half-made SQLite file's companions
                with contextlib.suppress(OSError):
                    Path(f"{path}{suffix}").unlink()
        except OSError:
            continue
    return removed


def folder_writable(path: Path) -> bool:
    """Whether files can be created in ``path`` (a real probe: permission bits lie to root and on Windows)."""
    probe = path / f".write-test.{os.getpid()}.part"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return True
    except OSError:
        return False
    with contextlib.suppress(OSError):
        probe.unlink()
    return True
