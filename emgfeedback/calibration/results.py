"""What the calibration machine reports: phases, decisions, trials, prompts, events and results (plain data)."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from emgfeedback.calibration.checks import Problem, Severity


class Phase(enum.StrEnum):
    READY = "ready"  # waiting for start()
    BASELINE = "baseline"  # everything at rest: the noise floor
    COUNTDOWN = "countdown"  # get ready to push
    CONTRACT = "contract"  # maximal contraction
    RELAX = "relax"  # rest between trials
    DECIDE = "decide"  # a failed trial waits for repeat / accept / skip
    DONE = "done"
    CANCELLED = "cancelled"


class Decision(enum.StrEnum):
    REPEAT = "repeat"
    ACCEPT = "accept"
    SKIP = "skip"


class TrialStatus(enum.StrEnum):
    PASSED = "passed"
    PENDING = "pending"  # failed, waiting for a decision
    ACCEPTED = "accepted"  # failed, kept on purpose
    SKIPPED = "skipped"  # left out of the reference
    REPLACED = "replaced"  # repeated: a later trial stands in for it

    @property
    def counted(self) -> bool:
        """Does a trial with this status enter the MVC reference?"""
        return self in (TrialStatus.PASSED, TrialStatus.ACCEPTED)


@dataclass(frozen=True)
class Trial:
    """One maximal contraction and its verdict; ``peak`` is its highest 500 ms mean envelope."""

    id: int
    muscle: str
    channel: int
    label: str
    number: int  # 1..N within the muscle
    attempt: int  # 1 for the first try, 2 for the first repeat...
    start: int  # sample index (since start()) of the push prompt
    stop: int
    peak: float
    noise: float
    problems: tuple[Problem, ...]
    status: TrialStatus

    @property
    def failed(self) -> bool:
        return any(p.severity is Severity.FAIL for p in self.problems)

    @property
    def ratio(self) -> float:
        """Peak over the resting noise."""
        return self.peak / self.noise if self.noise > 0 else math.inf

    @property
    def verdict(self) -> str:
        """One short word or phrase for a table."""
        if not self.problems:
            return "good"
        return ", ".join(p.code.replace("_", " ") for p in self.problems)


@dataclass(frozen=True)
class Prompt:
    """What to show now: a big ``text``, smaller ``detail``, time left, and the live level of ``muscle``."""

    phase: Phase
    text: str
    detail: str = ""
    muscle: str | None = None
    label: str = ""
    trial: int = 0
    trials: int = 0
    remaining_s: float = 0.0
    duration_s: float = 0.0
    level: float = 0.0  # envelope, in the chain's units
    level_fraction: float = 0.0  # 0..1 of the bar's full scale
    best_fraction: float = math.nan  # where the best trial so far sits on the bar
    done: int = 0  # trials finished (counted or not, repeats included)
    total: int = 0  # trials planned (repeats included)


@dataclass(frozen=True)
class Event:
    """Something that happened: ``phase`` (a new phase began), ``trial`` (a trial was judged),
    ``decide`` (a failed trial waits for a decision), ``done``, ``cancelled``."""

    kind: str
    prompt: Prompt
    trial: Trial | None = None


@dataclass(frozen=True)
class MuscleResult:
    """One muscle's reference: noise and MVC in the envelope's units, the trials used, findings."""

    name: str
    channel: int
    label: str
    noise: float
    mvc: float
    peaks: tuple[float, ...]
    spread: float
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """Usable: a reference above the noise and no failure left standing."""
        return math.isfinite(self.mvc) and self.mvc > self.noise and not any(p.severity is Severity.FAIL for p in self.problems)


@dataclass(frozen=True)
class CalibrationResult:
    """Every muscle's reference and findings."""

    muscles: tuple[MuscleResult, ...]
    fs: float
    samples: int
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.cancelled and bool(self.muscles) and all(m.ok for m in self.muscles)

    @property
    def kept(self) -> tuple[MuscleResult, ...]:
        """The muscles that passed (a profile keeps them even when others failed)."""
        return tuple(m for m in self.muscles if m.ok)

    @property
    def left_out(self) -> tuple[MuscleResult, ...]:
        """The muscles with no usable reference: to redo alone (``calibrate --only``)."""
        return tuple(m for m in self.muscles if not m.ok)

    @property
    def problems(self) -> list[Problem]:
        return [p for m in self.muscles for p in m.problems]

    def muscle(self, name: str) -> MuscleResult:
        return next(m for m in self.muscles if m.name == name)
