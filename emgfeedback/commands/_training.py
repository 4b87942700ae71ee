"""Flags and helpers shared by ``live --program`` and ``record --program``."""

from __future__ import annotations

import argparse

from emgfeedback.commands._common import positive
from emgfeedback.errors import CommandError, SettingsError
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.io.sources import Source
from emgfeedback.io.spec import SourceOptions, open_source
from emgfeedback.runtime.program import ProgramView
from emgfeedback.training.athlete import athlete_script
from emgfeedback.training.program import Program, load_program

ATHLETE = "simulated:athlete"


def add_program_args(p: argparse.ArgumentParser) -> None:
    """--program, --ease-out and --speed."""
    p.add_argument(
        "--program",
        metavar="NAME",
        default=None,
        help="run a training program (see `emgfeedback programs`): its reps become tagged holds; "
        f"with --source {ATHLETE} a simulated athlete follows it",
    )
    p.add_argument(
        "--ease-out",
        type=positive("give the drop of median frequency in %, e.g. 15"),
        default=None,
        metavar="PCT",
        help="cue 'ease out' once a hold's median frequency has fallen by PCT %% (fatigue; default: off)",
    )
    p.add_argument(
        "--speed",
        type=positive("give a factor, e.g. 10"),
        default=1.0,
        metavar="X",
        help="simulated sources only: run X times faster than real time (for demos and tests)",
    )


def program_from_args(args: argparse.Namespace, spec: str) -> Program | None:
    """The --program, loaded (a bad file fails here with its one line)."""
    if spec == ATHLETE and not args.program:
        raise CommandError(f"--source {ATHLETE} follows a program: give --program NAME (see `emgfeedback programs`)")
    return load_program(args.program) if args.program else None


def require_profile(program: Program | None, profile: object | None) -> None:
    """A program judges reps in %MVC: without a calibration there is nothing to judge."""
    if program is not None and profile is None:
        raise CommandError("a program judges reps by %MVC: give --profile NAME (a calibration, see `emgfeedback profiles`)")


def open_program_source(spec: str, options: SourceOptions, program: Program | None, speed: float) -> Source:
    """The source a spec names; ``simulated:athlete`` is scripted from the program's timeline."""
    if spec == ATHLETE:
        assert program is not None
        channels = options.channels if options.channels is not None else 4
        script = athlete_script(program, channels)
        return SimulatedSource(script, channels=channels, seed=options.seed, realtime=options.realtime, speed=speed)
    source = open_source(spec, options)
    if isinstance(source, SimulatedSource):
        if speed > 1000:
            raise SettingsError(f"simulation speed {speed:g} is out of range: use more than 0 and at most 1000")
        source.speed = speed
    elif speed != 1.0:
        raise CommandError(f"--speed only applies to simulated sources, not {spec}: leave it out")
    return source


def program_status(view: ProgramView) -> str:
    """A short status fragment: exercise, phase, time left, rep and set."""
    if view.done:
        return f"{view.name}: done"
    phase = "paused" if view.paused else view.phase.replace("_", " ")
    return (
        f"{view.exercise_name} ({view.exercise_index + 1}/{view.exercises}) {phase} {view.remaining_s:.0f} s, "
        f"set {view.set}/{view.sets} rep {view.rep}/{view.reps}"
    )


def program_report(view: ProgramView) -> str:
    """The closing line: reps done and how many succeeded."""
    judged = [o for o in view.outcomes if o.success is not None]
    good = sum(1 for o in judged if o.success)
    aborted = sum(1 for o in view.outcomes if o.aborted)
    text = f"program {view.name}: {good}/{len(judged)} reps succeeded"
    if aborted:
        text += f", {aborted} abandoned"
    return text + ("" if view.done else " (stopped before the end)")
