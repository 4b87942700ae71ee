"""A program as a flat list of timed steps: setup, 3-2-1 countdown, work, rest, set rest, done.

Every work phase is preceded by a ``ready`` countdown of the program's ``ready_s``; between
reps it is taken from the end of the rest, so a rep starts exactly ``rest_s`` after the
previous one ended. Times are seconds from the program's start; the runner turns them into
sample indices once, so nothing drifts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from emgfeedback.training.program import Program


class Phase(enum.StrEnum):
    """What the user is doing in a step."""

    SETUP = "setup"  # read the instructions, get into position
    READY = "ready"  # 3-2-1 countdown
    WORK = "work"  # the rep: a hold
    REST = "rest"  # between reps
    SET_REST = "set_rest"  # between sets
    DONE = "done"


@dataclass(frozen=True)
class Step:
    """One timed step; ``exercise`` is an index into the program, ``set``/``rep`` count from 1."""

    phase: Phase
    start_s: float
    duration_s: float
    exercise: int
    set: int
    rep: int

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class Timeline:
    """The steps of a program in order; the last one is DONE (zero length)."""

    program: Program
    steps: tuple[Step, ...]

    @property
    def duration_s(self) -> float:
        return self.steps[-1].start_s

    def work_steps(self) -> list[Step]:
        """The reps, in order."""
        return [s for s in self.steps if s.phase is Phase.WORK]

    @property
    def reps_total(self) -> int:
        return len(self.work_steps())


def build_timeline(program: Program) -> Timeline:
    """Lay out every exercise's sets and reps."""
    steps: list[Step] = []
    t = 0.0

    def add(phase: Phase, dur: float, ex: int, set_: int, rep: int) -> None:
        nonlocal t
        if dur > 0:
            steps.append(Step(phase, t, dur, ex, set_, rep))
            t += dur

    ready = program.ready_s
    for e, ex in enumerate(program.exercises):
        add(Phase.SETUP, ex.setup_s, e, 1, 1)
        for s in range(1, ex.sets + 1):
            if s > 1:
                add(Phase.SET_REST, ex.set_rest_s, e, s, 1)
            for r in range(1, ex.reps + 1):
                if r > 1:
                    add(Phase.REST, ex.rest_s - ready, e, s, r)
                add(Phase.READY, ready, e, s, r)
                add(Phase.WORK, ex.work_s, e, s, r)
    last = len(program.exercises) - 1
    steps.append(Step(Phase.DONE, t, 0.0, last, program.exercises[last].sets, program.exercises[last].reps))
    return Timeline(program, tuple(steps))
