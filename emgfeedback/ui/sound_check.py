"""The dashboard's "test sounds": every cue once, in session order, with its name shown while it plays.

So a user learns the sounds before going upside down into a backbend, and finds out that the
sound is muted or missing before a session rather than during it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel

from emgfeedback.cue_sounds import duration_s, in_order, meaning
from emgfeedback.feedback import Cue, CueEvent
from emgfeedback.ui.audio import CuePlayer
from emgfeedback.ui.theme import font

#: Silence between two cues.
GAP_S = 0.6
#: How long a notice (why the test does not start) stays on screen.
NOTICE_MS = 2500


class SoundCheck(QObject):
    """Plays the cues one after another through ``player``; ``label`` shows which one (hidden otherwise)."""

    finished = Signal()

    def __init__(self, player: CuePlayer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self.label = QLabel()
        self.label.setFont(font(20, bold=True))
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setAccessibleName("sound test")
        self.label.setVisible(False)
        self.shown: list[Cue] = []  # the cues shown so far in this run, for tests
        self._queue: list[Cue] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._next)
        self._notice = QTimer(self)  # hides a short notice
        self._notice.setSingleShot(True)
        self._notice.timeout.connect(lambda: self.label.setVisible(self.running))

    @property
    def running(self) -> bool:
        return self._timer.isActive() or bool(self._queue)

    def toggle(self, *, hold_running: bool = False) -> None:
        """Start the sequence, or stop it if it runs; during a hold it only says why it waits."""
        if self.running:
            self.stop()
        elif hold_running:  # its cues would mix with the hold's own, which mean something
            self.label.setText("test sounds after the hold: its cues would mix with the hold's")
            self.label.setVisible(True)
            self._notice.start(NOTICE_MS)
        else:
            self.start()

    def stop_for_hold(self) -> None:
        """A hold began: a running test stops, so every cue heard from now on is the hold's."""
        if self.running:
            self.stop()

    def start(self) -> None:
        self._notice.stop()
        self.shown = []
        self._queue = in_order()
        self._total = len(self._queue)
        self._next()

    def stop(self) -> None:
        self._timer.stop()
        self._queue = []
        self.label.setVisible(False)
        self.finished.emit()

    def _next(self) -> None:
        if not self._queue:
            self.stop()
            return
        cue = self._queue.pop(0)
        self.shown.append(cue)
        heard = self.player.play(CueEvent(cue, -1))
        note = "" if heard else f"   (not heard: {self.player.status.removeprefix('sound: ')})"
        self.label.setText(f"\u266a {len(self.shown)}/{self._total}  {cue.value}: {meaning(cue)}{note}   [S stops]")
        self.label.setVisible(True)
        self._timer.start(round((duration_s(cue) + GAP_S) * 1000))
