"""The optional engines (Lab Streaming Layer, BrainFlow), imported only when a command needs them.

A missing extra is refused with one line naming the pip command that installs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from emgfeedback.errors import MissingExtraError

#: extra name -> (module to import, the distribution it comes from, what it is for).
EXTRAS: dict[str, tuple[str, str, str]] = {
    "lsl": ("mne_lsl.lsl", "mne-lsl", "Lab Streaming Layer (--lsl, --source lsl:..., coach)"),
    "brainflow": ("brainflow.board_shim", "brainflow", "BrainFlow boards (--source brainflow:...)"),
}


def install_hint(extra: str) -> str:
    """The pip command that installs ``extra``."""
    return f"pip install 'emgfeedback[{extra}]'"


def require(extra: str) -> ModuleType:
    """Import the module behind ``extra``, or raise a :class:`MissingExtraError` with the install command."""
    module, dist, what = EXTRAS[extra]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{what} needs the {dist} package, which is not installed ({exc.name or module}): run {install_hint(extra)}"
        ) from None


def lsl() -> ModuleType:
    """``mne_lsl.lsl`` (its wheels bundle liblsl on Linux, Windows and macOS)."""
    return require("lsl")
