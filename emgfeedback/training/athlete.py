"""A simulated athlete who follows a program's timeline: the simulator scripted from the program.

At every rep the athlete reacts after ``reaction_s``, ramps into the middle of each muscle's
target band and holds it; at rest everything relaxes. Reps listed in ``overclench`` are done
badly: halfway through, the glute max clenches far over its band. Used by
``--source simulated:athlete`` with ``--program`` and by the tests.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from emgfeedback.config import Band
from emgfeedback.io.simulated import MUSCLES, Script
from emgfeedback.muscles import is_glute
from emgfeedback.training.program import Program
from emgfeedback.training.timeline import build_timeline

REST_PCT = 3.0
#: (exercise number, set, rep), counting from 1: the reps the default athlete over-clenches.
DEFAULT_MISTAKES = frozenset({(1, 1, 2)})


def _middle(band: Band) -> float:
    return (band.low + band.high) / 2


def athlete_script(
    program: Program,
    channels: int = 4,
    *,
    overclench: Collection[tuple[int, int, int]] = DEFAULT_MISTAKES,
    reaction_s: float = 0.3,
    ramp_s: float = 0.4,
    tail_s: float = 2.0,
    default_band: Band | None = None,
    names: Sequence[str] | None = None,
) -> Script:
    """The %MVC script of an athlete doing ``program`` from t = 0, ending ``tail_s`` after it."""
    names = list(names or MUSCLES[:channels])
    band = default_band or Band()
    glute = np.array([is_glute(n) for n in names])
    times: list[float] = [0.0]
    levels: list[np.ndarray] = [np.full(channels, REST_PCT)]
    holds: list[tuple[float, float]] = []

    def to(t: float, level: np.ndarray) -> None:
        times.append(t)
        levels.append(level)

    rest = np.full(channels, REST_PCT)
    for step in build_timeline(program).work_steps():
        ex = program.exercises[step.exercise]
        target = np.array([_middle(ex.band_for(n, band)) for n in names])
        t0, t1 = step.start_s + reaction_s, step.end_s
        to(t0, rest)
        to(t0 + ramp_s, target)
        if (step.exercise + 1, step.set, step.rep) in overclench:
            over = target.copy()
            over[glute] = [ex.band_for(n, band).high + 30.0 for n, g in zip(names, glute, strict=True) if g]
            mid = (t0 + t1) / 2 - 0.25 * ex.work_s
            to(mid, target)
            to(mid + ramp_s, over)
            to(t1 - ramp_s, over)
        to(t1 - ramp_s, target)
        to(t1, rest)
        holds.append((step.start_s, step.end_s))
    end = build_timeline(program).duration_s + tail_s
    to(end, rest)
    return Script(f"athlete:{program.name}", np.asarray(times), np.vstack(levels), holds=tuple(holds))
