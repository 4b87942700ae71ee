"""A simulated person who follows the calibration prompts: a :class:`Script` for the simulated sensor.

The script is laid out on the machine's timeline (settle + baseline, then countdown, push,
relax per trial), so with uniform timings it equals the simulator's own
``calibration_script(rest_s=settle + baseline + countdown, between_s=rest between trials)``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from emgfeedback.calibration.plan import CalibrationPlan
from emgfeedback.io.simulated import Script

#: A person reacts to "Push!" after this long.
REACTION_S = 0.3
RAMP_S = 0.4
COACTIVATION = 5.0
#: %MVC of a feeble push (a muscle the person cannot find, or an electrode in the wrong place): fails as too weak.
WEAK_PCT = 3.0


def person_script(
    plan: CalibrationPlan,
    channels: int,
    *,
    steps: Sequence[tuple[int, float]] | None = None,
    weak: Collection[str] = (),
    attempts: int = 1,
    electrode_off_steps: Collection[int] = (),
    lead_s: float = REACTION_S,
    ramp_s: float = RAMP_S,
    coactivation: float = COACTIVATION,
) -> Script:
    """The true %MVC over time of a person doing ``plan``.

    ``steps`` lists the contractions in order as (test index, %MVC reached), repeats included;
    by default every planned trial at 100 %, except the muscles named in ``weak``: each of their
    trials is a feeble push (:data:`WEAK_PCT`) tried ``attempts`` times (as a policy that repeats a
    failed trial up to that many tries runs it). ``electrode_off_steps`` are step numbers whose
    electrode comes off (pinned at the rail) for the whole push.
    """
    if steps is None:
        steps = [
            (i, WEAK_PCT if t.name in weak else 100.0)
            for i, t in enumerate(plan.tests)
            for _ in range(t.protocol.timing.trials)
            for _ in range(attempts if t.name in weak else 1)
        ]
    times = [0.0]
    levels = [np.zeros(channels)]

    def to(seconds: float, level: np.ndarray) -> None:
        times.append(times[-1] + seconds)
        levels.append(level)

    rest = np.zeros(channels)
    to(plan.settle_s + plan.baseline_s, rest)
    spans: list[tuple[int, float, float]] = []
    off: list[tuple[int, float, float]] = []
    for k, (test_index, level) in enumerate(steps):
        test = plan.tests[test_index]
        tm = test.protocol.timing
        top = np.full(channels, coactivation)
        top[test.channel] = level
        to(tm.countdown_s, rest)
        to(lead_s, rest)
        start = times[-1]  # when the person starts to push (as the simulator's calibration_script counts it)
        to(ramp_s, top)
        to(max(tm.contract_s - 2 * ramp_s - lead_s, 0.0), top)
        to(ramp_s, rest)
        spans.append((test.channel, start, times[-1]))
        if k in electrode_off_steps:
            off.append((test.channel, start - lead_s, times[-1]))
        to(tm.relax_s, rest)
    return Script(
        "calibration-person",
        np.asarray(times),
        np.vstack(levels),
        trials=tuple(spans),
        electrode_off=tuple(off),
    )
