"""Ctrl-C and SIGTERM as a request to stop, so long-running commands end cleanly instead of with a traceback.

The handler only records the request and calls back; the command then closes its recording,
prints its summary and exits 0. Windows has no real SIGTERM delivery but a console Ctrl-Break
(SIGBREAK), which is handled too.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType


def stop_signals() -> tuple[signal.Signals, ...]:
    """The signals that ask a command to stop on this platform."""
    if sys.platform == "win32":
        return (signal.SIGINT, signal.SIGTERM, signal.SIGBREAK)
    return (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def on_stop_signal(callback: Callable[[str], None]) -> Iterator[None]:
    """While inside, Ctrl-C / SIGTERM call ``callback(signal name)`` instead of raising; restored after.

    Python runs the handler in the main thread between bytecodes, so ``callback`` must be quick
    (set a flag, wake a wait). Outside the main thread nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        callback(signal.Signals(signum).name)

    previous = {}
    for sig in stop_signals():
        with contextlib.suppress(OSError, ValueError):  # a platform that refuses one of them
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
