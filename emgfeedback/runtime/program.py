"""A training program inside the reader thread: its timeline turns reps into tagged holds.

The :class:`ProgramDriver` is asked, for each block, where the timeline changes step
(exact sample indices), so the acquisition splits the block there and every rep starts and
ends on the sample the program says, however the source chunks its data. At a rep's end the
rep's band states are judged by the exercise's success rule and the hold is tagged with
program, exercise, set, rep and success.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from emgfeedback.config import Band
from emgfeedback.feedback import Cue, CueEvent, FeedbackEngine, FeedbackUpdate
from emgfeedback.training.program import Program
from emgfeedback.training.rules import RepEvaluator
from emgfeedback.training.runner import ProgramRunner, Transition
from emgfeedback.training.timeline import Phase, Step, build_timeline


@dataclass(frozen=True)
class RepOutcome:
    """One finished rep, for the screen."""

    exercise: int
    set: int
    rep: int
    success: bool | None
    pct: float
    aborted: bool = False


@dataclass(frozen=True)
class ProgramView:
    """The program as the screen shows it (a copy, safe to read from any thread)."""

    name: str
    title: str
    exercise_index: int
    exercises: int
    exercise_name: str
    position: str
    feel: str
    mistake: str
    success_text: str
    phase: str
    remaining_s: float
    step_s: float
    set: int
    sets: int
    rep: int
    reps: int
    paused: bool
    done: bool
    outcomes: tuple[RepOutcome, ...]
    total_s: float
    elapsed_s: float
    bands: tuple[Band, ...] = ()  # the target band of each channel now (the exercise's)


class ProgramDriver:
    """Runs one program against a :class:`FeedbackEngine` (reader thread only)."""

    def __init__(self, program: Program, engine: FeedbackEngine) -> None:
        self.program = program
        self.engine = engine
        self.timeline = build_timeline(program)
        self.runner = ProgramRunner(self.timeline, engine.fs)
        self.default_bands = list(engine.classifier.bands)
        self.evaluator: RepEvaluator | None = None
        self.outcomes: list[RepOutcome] = []
        self._pending: list[Transition] = []
        self._cues: list[CueEvent] = []
        self._result: dict[str, object] | None = None
        self._auto = engine.auto_start
        engine.auto_start = False  # the program owns the holds
        if engine.hold is not None or engine.has_pending:
            engine.stop_hold(engine.index)

    @property
    def done(self) -> bool:
        return self.runner.done

    # --- commands (applied at the start of the next block) ----------------------------------
    def pause(self, at: int) -> None:
        tr = self.runner.pause(at)
        if tr is not None:
            self._pending.append(tr)

    def resume(self, at: int) -> None:
        tr = self.runner.resume(at)
        if tr is not None:
            self._pending.append(tr)

    def toggle_pause(self, at: int) -> None:
        if self.runner.paused:
            self.resume(at)
        else:
            self.pause(at)

    def stop(self, at: int) -> None:
        """End the program early: a running rep is abandoned; bands and auto-start come back."""
        if self.engine.hold is not None and self.runner.step.phase is Phase.WORK:
            self._end_rep(self.runner.step, aborted=True)
            self.engine.stop_hold(at)
        self.engine.classifier.set_bands(self.default_bands)
        self.engine.auto_start = self._auto

    # --- per block --------------------------------------------------------------------------
    def transitions(self, start: int, n: int) -> list[Transition]:
        """Every step change to apply in the block ``[start, start + n)``, in order."""
        out, self._pending = self._pending, []
        if not self.runner.started:
            out.append(self.runner.begin(start))
        out.extend(self.runner.advance(start, n))
        return out

    def apply(self, tr: Transition) -> None:
        """Act on a step change at its sample: bands, hold start/stop, cues."""
        before, after = tr.before, tr.after
        if before is not None and before.phase is Phase.WORK and (tr.aborted or after is not before):
            self._end_rep(before, aborted=tr.aborted)
            self.engine.stop_hold(tr.index)
        if tr.paused or tr.resumed:
            if tr.resumed and after.phase is Phase.READY:
                self._cues.append(CueEvent(Cue.GET_READY, tr.index))
            return
        if before is None or before.exercise != after.exercise:
            self._set_bands(after.exercise)
        if after.phase is Phase.WORK:
            ex = self.program.exercises[after.exercise]
            self.evaluator = RepEvaluator(ex.success, self.engine.names)
            tags = {
                "program": self.program.name,
                "exercise": ex.name,
                "exercise_index": after.exercise + 1,
                "set": after.set,
                "rep": after.rep,
            }
            self.engine.start_hold(tr.index, tags)
            self._cues.append(CueEvent(Cue.GO, tr.index))
        elif after.phase is Phase.READY:
            self._cues.append(CueEvent(Cue.GET_READY, tr.index))
        elif after.phase in (Phase.REST, Phase.SET_REST) or (after.phase is Phase.SETUP and before is not None):
            self._cues.append(CueEvent(Cue.REST, tr.index))
        elif after.phase is Phase.DONE:
            self._cues.append(CueEvent(Cue.DONE, tr.index))
            self.engine.classifier.set_bands(self.default_bands)
            self.engine.auto_start = self._auto

    def _set_bands(self, exercise: int) -> None:
        ex = self.program.exercises[exercise]
        bands: list[Band] = [ex.band_for(n, d) for n, d in zip(self.engine.names, self.default_bands, strict=True)]
        self.engine.classifier.set_bands(bands)

    def _end_rep(self, step: Step, *, aborted: bool) -> None:
        ev = self.evaluator
        result = ev.result() if ev is not None else None
        if aborted or result is None:
            self._result = {"success": None, "success_pct": None, "aborted": True}
            pct, success = 0.0, None
        else:
            self._result = result.as_dict()
            pct, success = result.pct, result.success
        self.outcomes.append(RepOutcome(step.exercise, step.set, step.rep, success, pct, aborted))
        self.evaluator = None

    def after_block(self, update: FeedbackUpdate) -> None:
        """After the engine processed a piece: judge the rep's samples, tag holds that ended, add cues."""
        if self.evaluator is not None and self.engine.hold is not None:
            self.evaluator.update(update.states)
        for summary in update.finished_holds:
            if "program" in summary.tags and "success" not in summary.tags and self._result is not None:
                summary.tags.update(self._result)
                self._result = None
        if self._cues:
            update.cues.extend(self._cues)
            update.cues.sort(key=lambda e: e.index)
            self._cues = []

    def view(self) -> ProgramView:
        st = self.runner.state()
        step = st.step
        ex = self.program.exercises[step.exercise]
        fs = self.runner.fs
        return ProgramView(
            name=self.program.name,
            title=self.program.title,
            exercise_index=step.exercise,
            exercises=len(self.program.exercises),
            exercise_name=ex.name,
            position=ex.position,
            feel=ex.feel,
            mistake=ex.mistake,
            success_text=ex.success.describe(),
            phase=step.phase.value,
            remaining_s=st.remaining / fs,
            step_s=step.duration_s,
            set=step.set,
            sets=ex.sets,
            rep=step.rep,
            reps=ex.reps,
            paused=st.paused,
            done=st.done,
            outcomes=tuple(self.outcomes),
            total_s=self.timeline.duration_s,
            elapsed_s=self.runner.position / fs,
            bands=tuple(self.engine.classifier.bands),
        )


def split_points(start: int, n: int, transitions: list[Transition]) -> list[int]:
    """Offsets (0..n) where the block is cut so every transition begins a piece."""
    cuts = sorted({min(max(t.index - start, 0), n) for t in transitions} | {0, n})
    return cuts


def slices(arr: np.ndarray, cuts: list[int]) -> list[np.ndarray]:
    return [arr[a:b] for a, b in itertools.pairwise(cuts)]
