"""The simulated sensor for ``emgfeedback calibrate``: a simulated person who follows the plan's prompts,
optionally pushing feebly with some muscles (``simulated:calibration:weak=MUSCLE``) to show a partial profile."""

from __future__ import annotations

import argparse

from emgfeedback.commands._calibrate_profile import select
from emgfeedback.errors import CommandError


def simulated_source(
    args: argparse.Namespace,
    muscles: dict[str, int] | None,
    *,
    only: list[str],
    protocols: dict,
    rest_between: float | None,
    fast: bool,
    update: object | None,
) -> tuple:
    """The simulated sensor; for the calibration scenario, a simulated person who follows this plan's prompts.

    ``simulated:calibration:weak=MUSCLE[,MUSCLE]`` makes that person push feebly with those muscles.
    """
    from emgfeedback.calibration.plan import CalibrationPlan
    from emgfeedback.calibration.profile import Profile
    from emgfeedback.calibration.simulate import person_script
    from emgfeedback.config import DEFAULT_FS
    from emgfeedback.io.simulated import MUSCLES, SimulatedSource

    assert update is None or isinstance(update, Profile)
    scenario, _, options = (args.source.partition(":")[2] or "calibration").partition(":")
    channels = args.channels if args.channels is not None else (update.channels if update is not None else 4)
    if muscles:
        name, channel = max(muscles.items(), key=lambda kv: kv[1])
        if channel >= len(MUSCLES):
            raise CommandError(
                f"muscle {name} is mapped to channel {channel} but the simulated sensor has channels 0-{len(MUSCLES) - 1}: "
                "fix --muscles"
            )
        if args.channels is None:
            channels = max(channel + 1, update.channels if update is not None else 0)
    if muscles is None:
        muscles = select({m: i for i, m in enumerate(MUSCLES[:channels])}, only, "the simulated sensor")
    fs = args.fs if args.fs is not None else (update.fs if update is not None else DEFAULT_FS)
    script: object = scenario
    if scenario == "calibration":
        weak = weak_muscles(options, muscles)
        plan = CalibrationPlan.build(muscles, protocols, channels=channels, rest_between_s=rest_between, trials=args.trials)
        script = person_script(plan, channels, weak=weak, attempts=args.max_attempts)
    elif options:
        raise CommandError(f"simulated:{scenario} takes no options ({options!r}): only simulated:calibration:weak=MUSCLE does")
    source = SimulatedSource(
        script,
        channels=channels,
        fs=fs,
        realtime=not fast,  # type: ignore[arg-type]
        chunk_samples=max(int(fs // 10), 1) if fast else None,
    )
    return source, muscles


def weak_muscles(options: str, muscles: dict[str, int]) -> list[str]:
    """The muscles of ``weak=a,b`` in a simulated calibration spec (each must be calibrated)."""
    if not options:
        return []
    key, sep, value = options.partition("=")
    names = [n.strip() for n in value.split(",") if n.strip()]
    if key != "weak" or not sep or not names:
        raise CommandError(f"simulated:calibration:{options} is not understood: write simulated:calibration:weak=MUSCLE")
    unknown = next((n for n in names if n not in muscles), None)
    if unknown is not None:
        raise CommandError(f"weak={unknown}: {unknown} is not calibrated here (muscles: {', '.join(muscles)})")
    return names
