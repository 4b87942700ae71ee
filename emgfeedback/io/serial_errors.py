"""One-line wording for a serial stream that cannot serve the muscles mapped to it; open errors are in port_errors."""

from __future__ import annotations

from emgfeedback.config import StreamInfo
from emgfeedback.errors import SourceError
from emgfeedback.io.port_errors import explain_open_error
from emgfeedback.io.protocol import DeviceInfo

__all__ = ["explain_open_error", "require_channels"]


def require_channels(info: StreamInfo | DeviceInfo, needed: int) -> None:
    """Raise a one-line SourceError when the stream has fewer channels than the muscles mapped to it."""
    if info.channels < needed:
        what = (info.description if isinstance(info, StreamInfo) else "") or "the device"
        raise SourceError(
            f"{what} sends {info.channels} channel{'s' if info.channels != 1 else ''} but {needed} are needed: "
            "connect more sensors and set the firmware's channel count, or map fewer muscles"
        )
