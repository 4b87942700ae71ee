"""The cue sounds for the dashboard: the synthesis lives in :mod:`emgfeedback.cue_sounds` (no Qt)."""

from emgfeedback.cue_sounds import (
    MEANING,
    NOTES,
    RATE,
    cue_sounds,
    duration_s,
    in_order,
    meaning,
    sound_files,
    synthesize,
    write_wav,
)

__all__ = [
    "MEANING",
    "NOTES",
    "RATE",
    "cue_sounds",
    "duration_s",
    "in_order",
    "meaning",
    "sound_files",
    "synthesize",
    "write_wav",
]
