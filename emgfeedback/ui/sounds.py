"""Synthesized cue sounds: short, distinct, never harsh; written once as WAV files.

Each cue is a few notes with soft attack and decay, so a user upside down in a
backbend can tell them apart without looking: rising = a bit more, falling = ease off,
a chime = back in band, a faint click = still in band.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from emgfeedback.feedback import Cue
from emgfeedback.paths import cache_dir
from emgfeedback.private_files import private_folder, write_private

RATE = 44100

#: Notes per cue: (frequency Hz, duration s, relative level).
NOTES: dict[Cue, list[tuple[float, float, float]]] = {
    Cue.BELOW: [(440.0, 0.12, 0.8), (660.0, 0.16, 0.8)],
    Cue.OVER: [(880.0, 0.10, 0.9), (587.3, 0.10, 0.9), (440.0, 0.14, 0.9)],
    Cue.RETURN: [(523.3, 0.09, 0.6), (659.3, 0.22, 0.6)],
    Cue.TICK: [(1320.0, 0.03, 0.3)],
    Cue.HOLD_START: [(392.0, 0.08, 0.7), (523.3, 0.08, 0.7), (784.0, 0.16, 0.7)],
    Cue.HOLD_END: [(784.0, 0.08, 0.7), (523.3, 0.08, 0.7), (392.0, 0.2, 0.7)],
}


def synthesize(cue: Cue) -> np.ndarray:
    """The cue as float samples in [-1, 1] at :data:`RATE` Hz."""
    parts = []
    harmonics = 0.25 if cue is Cue.OVER else 0.08  # the over-clench cue is a touch brighter
    for freq, dur, level in NOTES[cue]:
        t = np.arange(int(dur * RATE)) / RATE
        tone = np.sin(2 * np.pi * freq * t) + harmonics * np.sin(2 * np.pi * 3 * freq * t)
        attack = np.minimum(t / 0.008, 1.0)
        decay = np.exp(-t / (dur * 0.6))
        parts.append(level * tone * attack * decay / (1 + harmonics))
        parts.append(np.zeros(int(0.015 * RATE)))
    return np.concatenate(parts)


def write_wav(path: Path, samples: np.ndarray) -> None:
    """16-bit mono WAV, written atomically and owner-only."""
    pcm = (np.clip(samples, -1, 1) * 32000).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    write_private(path, buffer.getvalue())


def sound_files(directory: Path | None = None) -> dict[Cue, Path]:
    """WAV file per cue in the cache directory (under ``EMGFEEDBACK_HOME`` when set), written if missing."""
    directory = private_folder(directory or cache_dir() / "sounds")
    files = {}
    for cue in NOTES:
        path = directory / f"{cue.value}.wav"
        if not path.exists():
            write_wav(path, synthesize(cue))
        files[cue] = path
    return files
