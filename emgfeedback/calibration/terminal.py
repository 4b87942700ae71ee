"""Calibration prompts in a terminal: one redrawn line with a countdown and a level bar, or plain lines.

Used by ``emgfeedback calibrate``; on a terminal it asks what to do with a failed trial,
otherwise the machine's policy has already decided and it only says so.
"""

from __future__ import annotations

import math
import time
from typing import TextIO

from emgfeedback.calibration.checks import times_rest
from emgfeedback.calibration.machine import CalibrationMachine
from emgfeedback.calibration.plan import MuscleTest
from emgfeedback.calibration.results import Decision, Event, Phase, TrialStatus


class TerminalPrompter:
    """Shows the machine's prompts: one redrawn line with a level bar on a terminal, plain lines otherwise."""

    BAR = 30
    REDRAW_S = 0.05

    def __init__(self, out: TextIO, *, interactive: bool, units: str) -> None:
        self.out = out
        self.interactive = interactive
        self.units = units
        try:
            self.tty = out.isatty()
        except (ValueError, OSError):
            self.tty = False
        self._last_text = ""
        self._last_draw = 0.0
        self._open_line = False
        self._announced: str | None = None

    def ask(self, question: str) -> str:
        self.end_line()
        try:
            return input(question).strip().lower()
        except EOFError:
            return ""

    def end_line(self) -> None:
        if self._open_line:
            self.out.write("\n")
            self.out.flush()
            self._open_line = False

    def say(self, text: str) -> None:
        self.end_line()
        print(text, file=self.out, flush=True)

    def handle(self, machine: CalibrationMachine, events: list[Event]) -> None:
        """Show what ``events`` report, ask about a failed trial when someone is there, redraw the prompt."""
        for event in events:
            if event.kind == "phase":
                # each muscle's test is told once, when the rest before its first push begins (or at its countdown)
                phase = event.prompt.phase
                nxt = machine.test if phase is Phase.COUNTDOWN else machine.upcoming
                if phase in (Phase.BASELINE, Phase.RELAX, Phase.COUNTDOWN) and nxt is not None and nxt.name != self._announced:
                    self.announce(nxt)
            if event.kind == "phase" and event.prompt.phase in (Phase.COUNTDOWN, Phase.DONE, Phase.DECIDE):
                continue  # the prompt line shows them
            if event.kind == "trial" and event.trial is not None:
                trial = machine.trials[event.trial.id]
                status = "good" if trial.status is TrialStatus.PASSED else trial.verdict
                self.say(
                    f"  {trial.label} (try {trial.attempt}): {trial.peak:.4g} {self.units}, "
                    f"{times_rest(trial.ratio)} rest: {status}"
                )
                for problem in trial.problems:
                    self.say(f"    {problem.message}")
                if trial.status is TrialStatus.REPLACED and not self.interactive:
                    self.say("    repeating it automatically")
                elif trial.status is TrialStatus.SKIPPED and not self.interactive:
                    self.say("    tried enough times: skipping it")
                elif trial.status is TrialStatus.PENDING and self.interactive:
                    self._decide(machine)
        self._draw(machine)

    def announce(self, test: MuscleTest) -> None:
        """Before a muscle's first push: its test, position, resistance and cue, as the wizard shows them."""
        proto = test.protocol
        self._announced = test.name
        self.say(f"{test.label} (channel {test.channel}): {proto.title}")
        for what, text in (("position", proto.position), ("resistance", proto.resistance), ("cue", proto.cue)):
            if text:
                self.say(f"  {what + ':':<11} {text}")

    def _decide(self, machine: CalibrationMachine) -> None:
        answer = self.ask("  [R]epeat it, [a]ccept anyway, or [s]kip it? ")
        choice = {"a": Decision.ACCEPT, "accept": Decision.ACCEPT, "s": Decision.SKIP, "skip": Decision.SKIP}
        machine.decide(choice.get(answer, Decision.REPEAT))

    def _draw(self, machine: CalibrationMachine) -> None:
        prompt = machine.prompt
        changed = prompt.text != self._last_text
        if not self.tty:
            if changed:
                self._last_text = prompt.text
                cue = machine.test.protocol.cue if prompt.phase is Phase.CONTRACT else ""
                self.say("done" if prompt.phase is Phase.DONE else f"{prompt.text} {cue}".strip())
            return
        now = time.monotonic()
        if not changed and now - self._last_draw < self.REDRAW_S:
            return
        if changed and self._open_line:
            self.end_line()
        self._last_text = prompt.text
        self._last_draw = now
        filled = round(self.BAR * prompt.level_fraction)
        bar = "#" * filled + "-" * (self.BAR - filled)
        if math.isfinite(prompt.best_fraction):
            mark = min(round(self.BAR * prompt.best_fraction), self.BAR - 1)
            bar = bar[:mark] + "|" + bar[mark + 1 :]
        left = f"{prompt.remaining_s:4.1f} s" if prompt.remaining_s > 0 else "      "
        self.out.write(f"\r{prompt.text:<34.34} {left} [{bar}] {prompt.level:8.3g} {self.units}\x1b[K")
        self.out.flush()
        self._open_line = True
