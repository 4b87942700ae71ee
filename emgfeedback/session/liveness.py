"""Whether a session's writer still runs: a fresh heartbeat and, on this host, a live process.

A ``recording`` session whose writer is gone (crash, kill, power loss) reads as
``interrupted``; everything it committed is kept.
"""

from __future__ import annotations

import socket
import time

from emgfeedback.private_files import pid_alive

#: A "recording" session whose heartbeat is older than this (seconds) has lost its writer.
STALE_AFTER_S = 15.0


def writer_alive(pid: int | None, host: str | None, heartbeat: float | None, now: float | None = None) -> bool:
    """A recording's writer is alive if its heartbeat is fresh and, on this host, its process runs."""
    now = time.time() if now is None else now
    if heartbeat is None or now - heartbeat > STALE_AFTER_S:
        return False
    if host == socket.gethostname() and pid is not None:
        return pid_alive(pid)
    return True
