"""Plays cue decisions through miniaudio; with no sound device or back end it runs muted and says why."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from emgfeedback.feedback import CueEvent
from emgfeedback.ui.audio_output import AudioOutput, open_output
from emgfeedback.ui.sounds import RATE, cue_sounds


class CuePlayer(QObject):
    """One output stream for every cue. ``played`` logs every cue decided (heard or not), for tests.

    ``output`` is ``auto`` (default: the system's sound output), ``off`` (no device: muted) or ``null``
    (miniaudio's null device); None reads ``EMGFEEDBACK_AUDIO``.
    """

    status_changed = Signal(str)

    def __init__(
        self, parent: QObject | None = None, *, volume: float = 0.8, muted: bool = False, output: str | None = None
    ) -> None:
        super().__init__(parent)
        self.played: list[CueEvent] = []
        self._muted = muted
        self._volume = min(max(volume, 0.0), 1.0)
        self._output: AudioOutput | None
        self._output, why = open_output(RATE, output)
        self.available = self._output is not None
        self._why = why or "closed"
        self.note = "" if self.available else f"{why}: audio cues muted"
        if self._output is not None:
            self._output.volume = self._volume
            self.destroyed.connect(self._output.close)

    @property
    def output(self) -> AudioOutput | None:
        """The open stream (None when muted for want of a device): its back end and measured latencies."""
        return self._output

    @property
    def muted(self) -> bool:
        return self._muted

    def set_muted(self, muted: bool) -> None:
        self._muted = muted
        self.status_changed.emit(self.status)

    def set_volume(self, volume: float) -> None:
        self._volume = min(max(volume, 0.0), 1.0)
        if self._output is not None:
            self._output.volume = self._volume
        self.status_changed.emit(self.status)

    @property
    def volume(self) -> float:
        return self._volume

    @property
    def status(self) -> str:
        """Short text for the status bar; the tooltip-length reason is in :attr:`note`."""
        if not self.available:
            return f"sound: muted ({self._why.split(' (')[0]})"
        return "sound: muted" if self._muted else f"sound: {round(self._volume * 100)}%"

    def play(self, event: CueEvent) -> bool:
        """Play one cue; returns whether it was audible. Every decision is logged in :attr:`played`."""
        self.played.append(event)
        if self._muted or self._output is None:
            return False
        samples = cue_sounds().get(event.cue)
        if samples is None:
            return False
        self._output.play(samples)
        return True

    def close(self) -> None:
        """Stop the output stream (also done when the player is destroyed)."""
        if self._output is not None:
            self._output.close()
            self._output = None
            self.available = False
            self._why = "closed"
