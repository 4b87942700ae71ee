"""Commands other threads send to the reader thread; it applies them, in order, between chunks."""

from __future__ import annotations

from dataclasses import dataclass

from emgfeedback.training.program import Program


@dataclass(frozen=True)
class StartHold:
    """Start a hold at the next sample processed (no-op while one runs)."""


@dataclass(frozen=True)
class StopHold:
    """End the running hold at the next sample processed (no-op without one)."""


@dataclass(frozen=True)
class ToggleHold:
    """Stop the hold if one runs or was asked for, else start one: decided in the reader thread."""


@dataclass(frozen=True)
class SetAutoStart:
    """Switch hold auto-start on or off."""

    on: bool


@dataclass(frozen=True)
class StartProgram:
    """Run a training program from the next sample: its reps become holds (hold commands wait until it ends)."""

    program: Program


@dataclass(frozen=True)
class PauseProgram:
    """Pause the running program, or resume it if paused (a rep in progress is abandoned and replayed)."""


@dataclass(frozen=True)
class StopProgram:
    """End the running program now."""


Command = StartHold | StopHold | ToggleHold | SetAutoStart | StartProgram | PauseProgram | StopProgram
