"""Plays cue decisions through QtMultimedia; with no sound device it stays muted and says so."""

from __future__ import annotations

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtMultimedia import QMediaDevices, QSoundEffect

from emgfeedback.feedback import Cue, CueEvent
from emgfeedback.ui.sounds import sound_files


class CuePlayer(QObject):
    """One QSoundEffect per cue. ``played`` logs every cue decided (heard or not), for tests."""

    status_changed = Signal(str)

    def __init__(self, parent: QObject | None = None, *, volume: float = 0.8, muted: bool = False) -> None:
        super().__init__(parent)
        self.played: list[CueEvent] = []
        self._effects: dict[Cue, QSoundEffect] = {}
        self._muted = muted
        self._volume = volume
        self.available = bool(QMediaDevices.audioOutputs())
        self.note = "" if self.available else "no sound device: audio cues off"
        if self.available:
            for cue, path in sound_files().items():
                effect = QSoundEffect(self)
                effect.setSource(QUrl.fromLocalFile(str(path)))
                effect.setVolume(volume)
                self._effects[cue] = effect

    @property
    def muted(self) -> bool:
        return self._muted

    def set_muted(self, muted: bool) -> None:
        self._muted = muted
        self.status_changed.emit(self.status)

    def set_volume(self, volume: float) -> None:
        self._volume = min(max(volume, 0.0), 1.0)
        for effect in self._effects.values():
            effect.setVolume(self._volume)
        self.status_changed.emit(self.status)

    @property
    def volume(self) -> float:
        return self._volume

    @property
    def status(self) -> str:
        """Short text for the status bar."""
        if not self.available:
            return "sound: no device (cues off)"
        return "sound: muted" if self._muted else f"sound: {round(self._volume * 100)}%"

    def play(self, event: CueEvent) -> bool:
        """Play one cue; returns whether it was audible."""
        self.played.append(event)
        if self._muted or not self.available:
            return False
        effect = self._effects.get(event.cue)
        if effect is None:
            return False
        effect.play()
        return True
