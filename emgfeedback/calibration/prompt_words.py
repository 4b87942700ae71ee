"""What the calibration prompt says in each phase (the words only; the machine decides the phase)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from emgfeedback.calibration.checks import times_rest
from emgfeedback.calibration.plan import MuscleTest
from emgfeedback.calibration.results import Phase

if TYPE_CHECKING:
    from emgfeedback.calibration.machine import CalibrationMachine


def prompt_words(machine: CalibrationMachine, phase: Phase, test: MuscleTest, remaining: float) -> tuple[str, str]:
    """The prompt's big text and its detail line for ``phase``: what to do now, said plainly."""
    proto = test.protocol
    if phase is Phase.READY:
        names = ", ".join(t.label for t in machine.plan.tests)
        return (
            "Press Space to start",
            f"First {machine.plan.baseline_s:g} s of complete rest, then {proto.timing.trials} maximal contractions "
            f"per muscle: {names}.",
        )
    if phase is Phase.BASELINE:
        return "Rest", "Relax completely and stay still: measuring the resting noise."
    if phase is Phase.COUNTDOWN:
        first = machine._step is not None and machine._step.number == 1 and machine._step.attempt == 1
        detail = f"{proto.position} {proto.resistance}" if first else proto.resistance
        return f"{test.label}: push in {max(math.ceil(remaining - 1e-9), 1)}", detail
    if phase is Phase.CONTRACT:
        step = machine._step
        trial = f"trial {step.number} of {proto.timing.trials}" if step else ""
        return "Push!", f"{test.label}, {trial}: {proto.cue or 'as hard as you can'}."
    if phase is Phase.RELAX:
        last = machine.trials[-1] if machine.trials else None
        said = ""
        if last is not None:
            said = (
                " ".join(p.message for p in last.problems)
                if last.problems
                else f"{last.label}: {times_rest(last.ratio)} rest, good."
            )
        if machine._queue and machine._queue[0].test != machine._last_test:
            nxt = machine.plan.tests[machine._queue[0].test]
            said += f" Next: {nxt.label}. {nxt.protocol.position}"
        return "Relax", said.strip()
    if phase is Phase.DECIDE:
        pending = machine.pending
        why = " ".join(p.message for p in pending.problems) if pending else ""
        return "Repeat this trial?", f"{why} R: repeat, A: accept anyway, S: skip it."
    if phase is Phase.DONE:
        res = machine.result()
        said = [
            f"{m.label}: MVC {m.mvc:.4g}, {times_rest(m.mvc / m.noise if m.noise > 0 else math.inf)} rest."
            if m.ok
            else f"{m.label}: not usable, left out (redo it alone later)."
            for m in res.muscles
        ]
        if res.ok or not res.kept:
            return ("Done" if res.ok else "Done, with problems"), " ".join(said)
        return f"Done: {len(res.kept)} of {len(res.muscles)} muscles", " ".join(said)
    return "Cancelled", "Calibration cancelled: nothing was saved."
