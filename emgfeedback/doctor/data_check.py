"""doctor's check of the data folder: where it is, that it is writable, and that every file in it is private."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from emgfeedback.doctor.probes import (
    System,
)
from emgfeedback.doctor.report import Check, Status


def check_data_dir(system: System) -> list[Check]:
    path = system.data_path()
    where = "EMGFEEDBACK_HOME" if system.env("EMGFEEDBACK_HOME") else "platformdirs user data dir"
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
            return [
                Check(
                    "data directory",
                    Status.FAIL,
                    f"{path} ({where}) cannot be created: {parent} is not writable",
                    f"set EMGFEEDBACK_HOME to a folder you own, or: sudo chown $USER {parent}",
                )
            ]
        return [Check("data directory", Status.OK, f"{path} ({where}): not created yet, it is made owner-only on first use")]
    if not path.is_dir():
        return [
            Check(
                "data directory",
                Status.FAIL,
                f"{path} is not a directory",
                f"move {path} away, or set EMGFEEDBACK_HOME to another folder",
            )
        ]
    if system.os_name() == "win32":
        if not _writable(path):
            return [Check("data directory", Status.FAIL, f"{path} is not writable", "set EMGFEEDBACK_HOME to a folder you own")]
        detail = f"{path} ({where}): writable, private to you by your user profile's permissions"
        return [Check("data directory", Status.OK, detail)]
    st = path.stat()
    problems: list[Check] = []
    if st.st_uid != system.uid():
        problems.append(
            Check(
                "data directory", Status.FAIL, f"{path} belongs to another user (uid {st.st_uid})", f"sudo chown -R $USER {path}"
            )
        )
    if not _writable(path):
        problems.append(Check("data directory", Status.FAIL, f"{path} is not writable", f"chmod u+rwx {path}"))
    if st.st_mode & 0o077:
        problems.append(
            Check(
                "data directory",
                Status.FAIL,
                f"{path} is open to other users (mode {stat.filemode(st.st_mode)}): it holds health data",
                f"chmod -R go-rwx {path}",
            )
        )
    exposed = [p for p in _data_files(path) if p.stat().st_mode & 0o077]
    if exposed:
        problems.append(
            Check(
                "data files",
                Status.FAIL,
                f"{len(exposed)} file(s) readable by others, e.g. {exposed[0]}",
                f"chmod -R go-rwx {path}",
            )
        )
    return problems or [Check("data directory", Status.OK, f"{path} ({where}): writable, owner-only")]


def _writable(path: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=path):
            return True
    except OSError:
        return False


def _data_files(path: Path) -> list[Path]:
    """Every file and folder under the data folder (stores, profiles, settings, screenshots)."""
    try:
        return [p for p in path.rglob("*") if not p.is_symlink()]
    except OSError:
        return []
