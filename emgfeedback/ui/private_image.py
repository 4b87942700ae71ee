"""Save a screenshot owner-only: a screenshot of the dashboard shows someone's health data."""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtGui import QPixmap

from emgfeedback.private_files import create_private, make_private


def save_private_image(pixmap: QPixmap, path: Path) -> bool:
    """Write ``pixmap`` as an image file created 0600 (Qt keeps the mode of the file it overwrites)."""
    with contextlib.suppress(OSError):
        create_private(path)
    ok = pixmap.save(str(path))
    make_private(path)
    if not ok:
        with contextlib.suppress(OSError):
            if path.stat().st_size == 0:
                path.unlink()  # the empty file made above
    return ok
