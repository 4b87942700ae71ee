"""One line for a serial port that will not open, worded for the system it happens on.

A port another program holds (the Arduino IDE's serial monitor, a second dashboard) shows up
differently per system: ``EBUSY`` or a failed exclusive lock on Linux and macOS, "Access is
denied" (``PermissionError``) on Windows, where a port cannot be opened twice. On Linux, a real
permission error means the user is not in the port's group (``dialout``).
"""

from __future__ import annotations

import errno
import sys

BUSY = "port busy: another program holds it (the Arduino IDE's serial monitor, for instance): close it and try again"


def explain_open_error(url: str, exc: BaseException, *, system: str | None = None) -> str:
    """Why ``url`` could not be opened and what to do, from pyserial's exception (``system``: sys.platform)."""
    system = system or sys.platform
    windows = system == "win32"
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code is None and isinstance(exc.__context__, OSError):
        code = exc.__context__.errno
    if code == errno.ENOENT or "FileNotFoundError" in text:
        where = "check the COM number in Device Manager or " if windows else "is the board plugged in? "
        return f"{url}: no such serial port: {where}run `emgfeedback devices` to list the ports"
    if code == errno.EISDIR:
        return f"{url}: is a directory, not a serial port: run `emgfeedback devices` to list the ports"
    if code in (errno.EACCES, errno.EPERM) or "PermissionError" in text or "Access is denied" in text:
        if windows:  # Windows reports a port another program holds as access denied
            return f"{url}: {BUSY}"
        if system == "darwin":
            return f"{url}: permission denied: check the device's owner with ls -l {url} (docs/install.md, macOS)"
        return (
            f"{url}: permission denied: add yourself to the dialout group "
            "(sudo usermod -aG dialout $USER), then log out and in again"
        )
    if code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "exclusively lock" in text or "busy" in text.lower():
        return f"{url}: {BUSY}"
    if code in (errno.ENXIO, errno.ENODEV):
        return f"{url}: the device is not responding (unplugged?): plug it in again or run `emgfeedback devices`"
    if code == errno.ENOTTY or "Could not configure port" in text:
        return f"{url}: not a serial port: run `emgfeedback devices` to list the ports"
    return f"{url}: cannot open the serial port ({text.strip() or type(exc).__name__}): run `emgfeedback devices`"
