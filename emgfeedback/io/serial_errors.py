"""One-line wording for the ways a serial port fails to open, each naming the fix."""

from __future__ import annotations

import errno
import os

from emgfeedback.config import StreamInfo
from emgfeedback.errors import SourceError
from emgfeedback.io.protocol import DeviceInfo


def require_channels(info: StreamInfo | DeviceInfo, needed: int) -> None:
    """Raise a one-line SourceError when the stream has fewer channels than the muscles mapped to it."""
    if info.channels < needed:
        what = (info.description if isinstance(info, StreamInfo) else "") or "the device"
        raise SourceError(
            f"{what} sends {info.channels} channel{'s' if info.channels != 1 else ''} but {needed} are needed: "
            "connect more sensors and set the firmware's channel count, or map fewer muscles"
        )


def _errno(exc: BaseException) -> int | None:
    """The OS error code behind ``exc`` (pyserial wraps the OSError it got)."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno
    return exc.__context__.errno if isinstance(exc.__context__, OSError) else None


def explain_open_error(url: str, exc: BaseException) -> str:
    """One line naming why ``url`` could not be opened and what to do about it."""
    code = _errno(exc)
    text = str(exc)
    if code == errno.ENOENT or "FileNotFoundError" in text:
        return f"{url}: no such serial port: is the board plugged in? run `emgfeedback devices` to list the ports"
    if code == errno.EISDIR:
        return f"{url}: is a directory, not a serial port: run `emgfeedback devices` to list the ports"
    if code in (errno.EACCES, errno.EPERM) or "PermissionError" in text:
        if os.name == "nt":  # Windows reports a port another program holds as access denied
            return f"{url}: port busy: another program has it open (close the Arduino IDE serial monitor) and try again"
        return (
            f"{url}: permission denied: add yourself to the dialout group "
            "(sudo usermod -aG dialout $USER), then log out and in again"
        )
    if code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "exclusively lock" in text:
        return f"{url}: port busy: another program has it open (close the Arduino IDE serial monitor) and try again"
    if code in (errno.ENXIO, errno.ENODEV):
        return f"{url}: the device is not responding (unplugged?): plug it in again or run `emgfeedback devices`"
    if code == errno.ENOTTY or "Could not configure port" in text:
        return f"{url}: not a serial port: run `emgfeedback devices` to list the ports"
    return f"{url}: cannot open the serial port ({text.strip() or type(exc).__name__}): run `emgfeedback devices`"
