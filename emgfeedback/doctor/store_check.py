"""doctor's full check of the session store: SQLite's integrity check, then every session read whole."""

from __future__ import annotations

from emgfeedback.doctor.probes import System
from emgfeedback.doctor.report import Check, Status


def check_store(system: System) -> list[Check]:
    """The store passes SQLite's full integrity check and every session reads whole; else name the damage and the fix."""
    path = system.data_path() / "sessions.sqlite3"
    if not path.exists():
        return [Check("session store", Status.OK, "none yet (record one with: emgfeedback record)")]
    from emgfeedback.session.salvage import examine

    found = examine(path)
    if found.problem is None and not found.damaged:
        return [Check("session store", Status.OK, f"{path}: {found.sessions} session(s), integrity check passed")]
    damaged = f"; damaged session(s): {', '.join(map(str, found.damaged))}" if found.damaged else ""
    return [
        Check(
            "session store",
            Status.FAIL,
            f"{path} is damaged ({found.problem or 'unreadable rows'}){damaged}",
            "copy every readable session into a new store: emgfeedback salvage --out NEW_FOLDER, then use it with "
            f"EMGFEEDBACK_HOME=NEW_FOLDER (or move {path} aside and NEW_FOLDER/sessions.sqlite3 into its place)",
        )
    ]
