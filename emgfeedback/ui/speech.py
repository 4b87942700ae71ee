"""Spoken program cues through the system's own speech engine, when there is one (optional).

pyttsx3 (SAPI5 on Windows, NSSpeechSynthesizer on macOS, eSpeak on Linux) is used if it is
installed and starts; otherwise :meth:`Speaker.say` returns False and the caller plays the tone.
Speaking runs in one worker thread, so the UI never waits for a phrase.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from emgfeedback.feedback import Cue

PHRASES: dict[Cue, str] = {
    Cue.GET_READY: "Get ready",
    Cue.GO: "Go",
    Cue.REST: "Rest",
    Cue.DONE: "Done. Well done",
    Cue.EASE_OUT: "Ease out",
}


def _engine() -> Any | None:
    """A pyttsx3 engine, or None when the package or the system voice is missing."""
    try:
        import pyttsx3  # an optional third-party package: `pip install emgfeedback[speech]`
    except ImportError:
        return None
    try:
        return pyttsx3.init()
    except Exception:  # noqa: BLE001 - no voice on this system (e.g. eSpeak not installed): use tones
        return None


class Speaker:
    """Says the program cues; ``available`` is False without a speech engine (tones are used then)."""

    def __init__(self, *, enabled: bool = True) -> None:
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._engine = _engine() if enabled else None
        self.available = self._engine is not None
        self.spoken: list[str] = []
        if self.available:
            threading.Thread(target=self._run, name="emgfeedback-speech", daemon=True).start()

    def say(self, cue: Cue) -> bool:
        """Speak the cue's phrase; False when it has none or there is no engine (play the tone instead)."""
        phrase = PHRASES.get(cue)
        if phrase is None or not self.available:
            return False
        self.spoken.append(phrase)
        self._queue.put(phrase)
        return True

    def close(self) -> None:
        if self.available:
            self._queue.put(None)

    def _run(self) -> None:
        engine = self._engine
        while (phrase := self._queue.get()) is not None:
            try:
                engine.say(phrase)
                engine.runAndWait()
            except Exception:  # noqa: BLE001 - a voice that fails once is given up: tones from now on
                self.available = False
                return
