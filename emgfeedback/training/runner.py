"""The program runner: a state machine over a :class:`Timeline`, driven by sample indices.

It never reads a clock: :meth:`ProgramRunner.advance` is told how many samples of the stream
arrived and returns the step changes inside them at their exact sample index, so the same
samples always give the same reps (live, ``record`` and tests agree). Pausing freezes the
timeline; pausing during a rep abandons that rep, and resuming replays its countdown.
"""

from __future__ import annotations

from dataclasses import dataclass

from emgfeedback.training.timeline import Phase, Step, Timeline


@dataclass(frozen=True)
class Transition:
    """The timeline moved from ``before`` to ``after`` at sample ``index``.

    ``aborted`` marks a rep cut short by a pause (``before`` is its WORK step).
    """

    index: int
    before: Step | None
    after: Step
    aborted: bool = False
    paused: bool = False
    resumed: bool = False


@dataclass(frozen=True)
class RunnerState:
    """Where the program is, for the screen: the step, and samples done / left in it."""

    step: Step
    step_number: int
    elapsed: int
    remaining: int
    paused: bool

    @property
    def done(self) -> bool:
        return self.step.phase is Phase.DONE


class ProgramRunner:
    """Walks a timeline in program samples (which stand still while paused)."""

    def __init__(self, timeline: Timeline, fs: float) -> None:
        self.timeline = timeline
        self.fs = float(fs)
        self.steps = timeline.steps
        # step boundaries in samples, rounded once from cumulative seconds (no drift)
        self.bounds = [round(s.start_s * self.fs) for s in self.steps]
        self.position = 0  # program samples elapsed
        self.current = 0  # index into steps
        self.paused = False
        self.started = False

    @property
    def step(self) -> Step:
        return self.steps[self.current]

    @property
    def done(self) -> bool:
        return self.step.phase is Phase.DONE

    def state(self) -> RunnerState:
        start = self.bounds[self.current]
        end = self.bounds[self.current + 1] if self.current + 1 < len(self.bounds) else start
        return RunnerState(self.step, self.current, self.position - start, max(end - self.position, 0), self.paused)

    def begin(self, index: int) -> Transition:
        """Start the program at sample ``index``: the first step begins there."""
        self.started = True
        return Transition(index, None, self.step)

    def advance(self, start: int, n: int) -> list[Transition]:
        """``n`` stream samples from ``start`` went by: the step changes inside them, in order.

        A change's ``index`` is the first sample of the new step; a boundary that falls just after
        the block belongs to the next block (its first sample), so each change is reported once."""
        out: list[Transition] = []
        if self.paused or self.done or n <= 0:
            return out
        end = self.position + n
        while not self.done and self.bounds[self.current + 1] < end:
            nxt = self.bounds[self.current + 1]
            before = self.step
            self.current += 1
            out.append(Transition(start + (nxt - self.position), before, self.step))
        self.position = end
        return out

    def pause(self, index: int) -> Transition | None:
        """Freeze at ``index``; during a rep, the rep is abandoned and the countdown before it comes next."""
        if self.paused or self.done:
            return None
        self.paused = True
        before = self.step
        if before.phase is Phase.WORK:
            ready = self.current - 1 if self.current > 0 and self.steps[self.current - 1].phase is Phase.READY else self.current
            self.current = ready
            self.position = self.bounds[ready]
            return Transition(index, before, self.step, aborted=True, paused=True)
        return Transition(index, before, self.step, paused=True)

    def resume(self, index: int) -> Transition | None:
        """Carry on from where the pause left the timeline."""
        if not self.paused:
            return None
        self.paused = False
        return Transition(index, self.step, self.step, resumed=True)
