"""Synthesized cue sounds (numpy only, no Qt): short, distinct, never harsh; written as WAV files.

Each cue is a few notes with soft attack and decay, so a user upside down in a
backbend can tell them apart without looking: rising = a bit more, falling = ease off,
a chime = back in band, a faint click = still in band. The dashboard plays them, and
``emgfeedback cues`` plays them or saves them, so they can be learnt before a session.
"""

from __future__ import annotations

import functools
import wave
from pathlib import Path

import numpy as np

from emgfeedback.feedback import Cue

RATE = 44100

#: Notes per cue: (frequency Hz, duration s, relative level). A new Cue kind only needs a row here.
NOTES: dict[Cue, list[tuple[float, float, float]]] = {
    Cue.BELOW: [(440.0, 0.12, 0.8), (660.0, 0.16, 0.8)],
    Cue.OVER: [(880.0, 0.10, 0.9), (587.3, 0.10, 0.9), (440.0, 0.14, 0.9)],
    Cue.RETURN: [(523.3, 0.09, 0.6), (659.3, 0.22, 0.6)],
    Cue.TICK: [(1320.0, 0.03, 0.3)],
    Cue.HOLD_START: [(392.0, 0.08, 0.7), (523.3, 0.08, 0.7), (784.0, 0.16, 0.7)],
    Cue.HOLD_END: [(784.0, 0.08, 0.7), (523.3, 0.08, 0.7), (392.0, 0.2, 0.7)],
    # program cues: get ready = two low soft pips, go = one bright high note, rest = a long low
    # note, done = a rising arpeggio that resolves; ease out = a slow falling pair
    Cue.GET_READY: [(349.2, 0.07, 0.6), (349.2, 0.07, 0.6)],
    Cue.GO: [(1046.5, 0.18, 0.8)],
    Cue.REST: [(261.6, 0.35, 0.6)],
    Cue.DONE: [(523.3, 0.08, 0.7), (659.3, 0.08, 0.7), (784.0, 0.08, 0.7), (1046.5, 0.24, 0.7)],
    Cue.EASE_OUT: [(659.3, 0.2, 0.7), (493.9, 0.3, 0.7)],
}


#: What each cue means, in the order a session meets them (for "test sounds" and ``emgfeedback cues``).
MEANING: dict[Cue, str] = {
    Cue.HOLD_START: "a hold starts",
    Cue.BELOW: "below the band: activate a bit more",
    Cue.RETURN: "back in the band",
    Cue.TICK: "still in the band (every 10 s)",
    Cue.OVER: "over-clench: ease off",
    Cue.HOLD_END: "the hold ends",
    Cue.GET_READY: "program: get ready (3-2-1 before a rep)",
    Cue.GO: "program: go, the rep starts",
    Cue.REST: "program: rest",
    Cue.DONE: "program: done",
    Cue.EASE_OUT: "fatigue: ease out (the median frequency has fallen)",
}


def in_order() -> list[Cue]:
    """Every cue that has a sound, in the order of :data:`MEANING`, then any others."""
    return [c for c in MEANING if c in NOTES] + [c for c in NOTES if c not in MEANING]


def meaning(cue: Cue) -> str:
    """What the cue tells the user, in a few words."""
    return MEANING.get(cue, cue.value.replace("-", " "))


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


def duration_s(cue: Cue) -> float:
    """How long the cue sounds, in seconds."""
    return synthesize(cue).shape[0] / RATE


def write_wav(path: Path, samples: np.ndarray) -> None:
    """16-bit mono WAV at :data:`RATE` Hz."""
    pcm = (np.clip(samples, -1, 1) * 32000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def sound_files(directory: Path, *, overwrite: bool = False) -> dict[Cue, Path]:
    """One WAV file per cue, named by cue (``over.wav``...), in ``directory``; written if missing (or always,
    with ``overwrite``). The dashboard plays from memory (:func:`cue_sounds`): no cache is kept."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for cue in NOTES:
        path = directory / f"{cue.value}.wav"
        if overwrite or not path.exists():
            write_wav(path, synthesize(cue))
        files[cue] = path
    return files


@functools.cache
def cue_sounds() -> dict[Cue, np.ndarray]:
    """Every cue of :data:`NOTES` synthesized once, in memory, as float32 samples."""
    return {cue: synthesize(cue).astype(np.float32) for cue in NOTES}
