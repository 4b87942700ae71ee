"""The MVC calibration state machine: pure, no Qt, no wall clock; time is the samples it is fed.

rest baseline -> for each muscle, N maximal contractions (countdown, push, relax) -> result.
Feed it envelope blocks from the live chain (and the raw samples, for the clipping and
electrode checks); read :attr:`CalibrationMachine.prompt` to show what to do. A failed
trial waits for :meth:`~CalibrationMachine.decide` (repeat / accept / skip) unless a
``policy`` decides at once (non-interactive runs).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from emgfeedback.calibration import checks
from emgfeedback.calibration.checks import Problem, Severity
from emgfeedback.calibration.plan import CalibrationPlan, MuscleTest, samples
from emgfeedback.calibration.prompt_words import prompt_words
from emgfeedback.calibration.reference import MVC_WINDOW_S, highest_mean, spread
from emgfeedback.calibration.results import (
    CalibrationResult,
    Decision,
    Event,
    MuscleResult,
    Phase,
    Prompt,
    Trial,
    TrialStatus,
)
from emgfeedback.config import FilterSpec, StreamInfo
from emgfeedback.dsp.quality import QualityMonitor
from emgfeedback.errors import SettingsError

Policy = Callable[[Trial], Decision]


def auto_policy(max_attempts: int = 3) -> Policy:
    """For runs with nobody to ask: repeat a failed trial until ``max_attempts`` tries, then skip it."""

    def decide(trial: Trial) -> Decision:
        return Decision.REPEAT if trial.attempt < max_attempts else Decision.SKIP

    return decide


@dataclass
class _Step:
    test: int  # index into plan.tests
    number: int
    attempt: int = 1


@dataclass
class _Acc:
    """What the current phase collects."""

    env: list[np.ndarray] = field(default_factory=list)
    raw: list[np.ndarray] = field(default_factory=list)
    skip: int = 0  # samples still to ignore (baseline settling)


class CalibrationMachine:
    """Drives one calibration. Not thread-safe: feed and control it from one thread."""

    def __init__(self, plan: CalibrationPlan, spec: FilterSpec, info: StreamInfo, *, policy: Policy | None = None) -> None:
        for test in plan.tests:
            if test.channel >= info.channels:
                raise SettingsError(
                    f"muscle {test.name} is on channel {test.channel} but the source has {info.channels} channels: "
                    "fix the muscle map"
                )
        self.plan = plan
        self.spec = spec
        self.info = info
        self.fs = info.fs
        self.policy = policy
        self.phase = Phase.READY
        self.index = 0  # samples fed since start()
        self.noise = np.full(info.channels, np.nan)
        self.baseline_problems: dict[str, tuple[Problem, ...]] = {t.name: () for t in plan.tests}
        self.trials: list[Trial] = []
        self._queue: list[_Step] = [_Step(i, k) for i, t in enumerate(plan.tests) for k in range(1, t.protocol.timing.trials + 1)]
        self._step: _Step | None = None
        self._last_test = 0
        self._phase_start = 0
        self._phase_end: int | None = None
        self._acc = _Acc()
        self._level = np.zeros(info.channels)
        self._scale = np.full(info.channels, np.nan)
        self._events: list[Event] = []
        self._mvc_width = max(samples(MVC_WINDOW_S, self.fs), 1)

    # --- control ---------------------------------------------------------------------------
    def start(self) -> list[Event]:
        """Begin with the rest baseline (the samples fed from now on count)."""
        if self.phase is not Phase.READY:
            return []
        self._enter(Phase.BASELINE, self.plan.settle_s + self.plan.baseline_s)
        self._acc.skip = samples(self.plan.settle_s, self.fs)
        return self._flush()

    def cancel(self) -> list[Event]:
        if self.phase not in (Phase.DONE, Phase.CANCELLED):
            self._enter(Phase.CANCELLED, None)
            self._emit("cancelled")
        return self._flush()

    @property
    def pending(self) -> Trial | None:
        """The failed trial waiting for a decision, if any."""
        return next((t for t in self.trials if t.status is TrialStatus.PENDING), None)

    def decide(self, decision: Decision | str) -> list[Event]:
        """Repeat, accept or skip the pending failed trial (during the rest after it, or when asked)."""
        trial = self.pending
        if trial is None:
            return []
        self._apply(trial, Decision(decision))
        if self.phase is Phase.DECIDE:
            self._next_after_rest()
        return self._flush()

    def repeat(self, trial_id: int) -> list[Event]:
        """Run a finished trial again (from a results table), next in line; the new one replaces it."""
        trial = next((t for t in self.trials if t.id == trial_id), None)
        if trial is None or trial.status is TrialStatus.REPLACED or self.phase in (Phase.READY, Phase.CANCELLED):
            return []
        if trial.status is TrialStatus.PENDING:
            return self.decide(Decision.REPEAT)
        self._apply(trial, Decision.REPEAT)
        if self.phase is Phase.DONE:
            self._next_after_rest()
        return self._flush()

    # --- data -------------------------------------------------------------------------------
    def feed(self, envelope: np.ndarray, raw: np.ndarray | None = None) -> list[Event]:
        """Consume a block of envelope samples (samples, channels) and, optionally, the matching raw samples."""
        env = np.asarray(envelope, dtype=np.float64)
        env = env[:, None] if env.ndim == 1 else env
        if raw is not None:
            raw = np.asarray(raw, dtype=np.float64)
            raw = raw[:, None] if raw.ndim == 1 else raw
            if raw.shape[0] != env.shape[0]:
                raise ValueError(f"{raw.shape[0]} raw samples for {env.shape[0]} envelope samples: feed matching blocks")
        if env.shape[0] and env.shape[1] != self.info.channels:
            raise ValueError(f"{env.shape[1]} channels fed to a calibration of {self.info.channels}")
        pos = 0
        n = env.shape[0]
        while pos < n:
            if self._phase_end is None:  # waiting phases: nothing to measure, time does not count
                finite = np.flatnonzero(np.isfinite(env).all(axis=1))
                if finite.size:
                    self._level = env[finite[-1]].copy()
                break
            take = min(n - pos, self._phase_end - self.index)
            self._collect(env[pos : pos + take], None if raw is None else raw[pos : pos + take])
            pos += take
            self.index += take
            if self.index >= self._phase_end:
                self._phase_done()
        return self._flush()

    # --- what to show ---------------------------------------------------------------------------
    @property
    def test(self) -> MuscleTest:
        """The muscle in focus (being tested, or next, or last)."""
        idx = self._step.test if self._step is not None else self._last_test
        return self.plan.tests[idx]

    @property
    def upcoming(self) -> MuscleTest | None:
        """The muscle of the next trial in line (None when none is left)."""
        return self.plan.tests[self._queue[0].test] if self._queue else None

    @property
    def prompt(self) -> Prompt:
        return self._prompt()

    @property
    def finished(self) -> bool:
        return self.phase in (Phase.DONE, Phase.CANCELLED)

    # --- internals -------------------------------------------------------------------------------
    def _emit(self, kind: str, trial: Trial | None = None) -> None:
        self._events.append(Event(kind, self._prompt(), trial))

    def _flush(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    def _enter(self, phase: Phase, seconds: float | None) -> None:
        self.phase = phase
        self._phase_start = self.index
        self._phase_end = None if seconds is None else self.index + samples(seconds, self.fs)
        self._acc = _Acc()
        if phase is not Phase.CANCELLED:
            self._emit("phase")
        if self._phase_end is not None and self._phase_end <= self.index:
            self._phase_done()

    def _collect(self, env: np.ndarray, raw: np.ndarray | None) -> None:
        """Keep what the current phase measures; samples lost in a gap (NaN) count as time, not as data."""
        if env.shape[0] == 0:
            return
        finite = np.flatnonzero(np.isfinite(env).all(axis=1))
        if finite.size:
            self._level = env[finite[-1]].copy()
        if self.phase is Phase.BASELINE:
            skip = min(self._acc.skip, env.shape[0])
            self._acc.skip -= skip
            env = env[skip:]
            raw = None if raw is None else raw[skip:]
        elif self.phase is Phase.CONTRACT:
            ch = self.test.channel
            env = env[:, ch : ch + 1]
            raw = None if raw is None else raw[:, ch : ch + 1]
        ok = np.isfinite(env).all(axis=1)
        if raw is not None:
            ok &= np.isfinite(raw).all(axis=1)
        if self.phase not in (Phase.BASELINE, Phase.CONTRACT) or not ok.any():
            return
        env = env[ok]
        self._acc.env.append(env if self.phase is Phase.BASELINE else env[:, 0])
        if raw is not None:
            raw = raw[ok]
            self._acc.raw.append(raw if self.phase is Phase.BASELINE else raw[:, 0])
        if self.phase is Phase.CONTRACT:
            ch = self.test.channel
            top = float(env.max())
            self._scale[ch] = top if not np.isfinite(self._scale[ch]) else max(self._scale[ch], top)

    def _phase_done(self) -> None:
        phase = self.phase
        if phase is Phase.BASELINE:
            self._finish_baseline()
            self._next_after_rest()
        elif phase is Phase.COUNTDOWN:
            self._enter(Phase.CONTRACT, self.test.protocol.timing.contract_s)
        elif phase is Phase.CONTRACT:
            trial = self._finish_trial()
            if trial.status is TrialStatus.PENDING and self.policy is not None:
                self._apply(trial, self.policy(trial))
            self._step = None
            if self._queue or self.pending is not None:
                self._enter(Phase.RELAX, self.plan.tests[self._last_test].protocol.timing.relax_s)
            else:
                self._finish()
        elif phase is Phase.RELAX:
            self._next_after_rest()

    def _next_after_rest(self) -> None:
        if self.pending is not None:
            self._enter(Phase.DECIDE, None)
            self._emit("decide", self.pending)
        elif self._queue:
            self._step = self._queue.pop(0)
            self._last_test = self._step.test
            self._enter(Phase.COUNTDOWN, self.test.protocol.timing.countdown_s)
        else:
            self._finish()

    def _finish(self) -> None:
        self._step = None
        self._enter(Phase.DONE, None)
        self._emit("done")

    def _finish_baseline(self) -> None:
        env = np.concatenate(self._acc.env) if self._acc.env else np.empty((0, self.info.channels))
        self.noise = env.mean(axis=0) if env.shape[0] else np.full(self.info.channels, np.nan)
        floor = np.where(np.isfinite(self.noise), 10 * self.noise, np.nan)
        self._scale = np.fmax(self._scale, floor)
        if not self._acc.raw:
            return
        raw = np.concatenate(self._acc.raw)
        monitor = QualityMonitor(self.fs, raw.shape[1], adc_max=self.info.adc_max, mains_hz=None, window_s=raw.shape[0] / self.fs)
        monitor.update(raw)
        report = monitor.report()
        hum = checks.hum_ratio(raw, self.fs, self.spec.mains)
        for test in self.plan.tests:
            quality = None if report is None else report.channels[test.channel]
            hum_ch = float(hum[test.channel])
            self.baseline_problems[test.name] = checks.check_baseline(test.label, quality, hum_ch, self.spec.mains)

    def _finish_trial(self) -> Trial:
        assert self._step is not None
        step, test = self._step, self.test
        env = np.concatenate(self._acc.env) if self._acc.env else np.empty(0)
        peak = float(highest_mean(env, self._mvc_width)[0]) if env.size else math.nan
        quality = None
        if self._acc.raw:
            raw = np.concatenate(self._acc.raw)
            monitor = QualityMonitor(self.fs, 1, adc_max=self.info.adc_max, mains_hz=None, window_s=raw.shape[0] / self.fs)
            monitor.update(raw)
            report = monitor.report()
            quality = None if report is None else report.channels[0]
        noise = float(self.noise[test.channel])
        label = f"{test.label}, trial {step.number}"
        problems = checks.check_trial(label, peak, noise, quality)
        failed = any(p.severity is Severity.FAIL for p in problems)
        trial = Trial(
            id=len(self.trials),
            muscle=test.name,
            channel=test.channel,
            label=label,
            number=step.number,
            attempt=step.attempt,
            start=self._phase_start,
            stop=self.index,
            peak=peak,
            noise=noise,
            problems=problems,
            status=TrialStatus.PENDING if failed else TrialStatus.PASSED,
        )
        self.trials.append(trial)
        self._emit("trial", trial)
        return trial

    def _apply(self, trial: Trial, decision: Decision) -> None:
        if decision is Decision.REPEAT:
            self._set_status(trial, TrialStatus.REPLACED)
            test = next(i for i, t in enumerate(self.plan.tests) if t.name == trial.muscle)
            attempts = max(t.attempt for t in self.trials if t.muscle == trial.muscle and t.number == trial.number)
            self._queue.insert(0, _Step(test, trial.number, attempts + 1))
        elif decision is Decision.ACCEPT:
            self._set_status(trial, TrialStatus.ACCEPTED)
        else:
            self._set_status(trial, TrialStatus.SKIPPED)

    def _set_status(self, trial: Trial, status: TrialStatus) -> None:
        self.trials[trial.id] = replace(self.trials[trial.id], status=status)

    # --- result ------------------------------------------------------------------------------------
    def result(self) -> CalibrationResult:
        """The reference of every muscle from the trials that count (valid once baseline is done)."""
        muscles = []
        for test in self.plan.tests:
            mine = [t for t in self.trials if t.muscle == test.name]
            counted = sorted((t for t in mine if t.status.counted), key=lambda t: t.number)
            peaks = tuple(t.peak for t in counted)
            problems = list(self.baseline_problems.get(test.name, ()))
            for t in counted:
                if t.status is TrialStatus.ACCEPTED:
                    problems += [replace(p, severity=Severity.WARN, message=f"{p.message} (accepted)") for p in t.problems]
            for t in mine:
                if t.status is TrialStatus.SKIPPED and t.problems:
                    sev = Severity.WARN if counted else Severity.FAIL
                    problems += [replace(p, severity=sev, message=f"{p.message} (skipped)") for p in t.problems]
            sp = spread(peaks)
            warn = checks.check_spread(test.label, peaks, sp)
            if warn is not None:
                problems.append(warn)
            if not counted:
                problems.append(checks.no_trial(test.label))
            mvc = max(peaks) if peaks else math.nan
            noise = float(self.noise[test.channel])
            if peaks and not mvc >= checks.WEAK_RATIO * noise:  # only accepted weak trials are counted: is it enough?
                accepted = any(t.status is TrialStatus.ACCEPTED for t in counted)
                problems.append(checks.weak_reference(test.label, mvc / noise if noise > 0 else math.nan, accepted=accepted))
            muscles.append(MuscleResult(test.name, test.channel, test.label, noise, mvc, peaks, sp, tuple(problems)))
        return CalibrationResult(tuple(muscles), self.fs, self.index, cancelled=self.phase is Phase.CANCELLED)

    def _prompt(self) -> Prompt:
        phase = self.phase
        test = self.test
        tm = test.protocol.timing
        step = self._step
        remaining = 0.0 if self._phase_end is None else max(self._phase_end - self.index, 0) / self.fs
        duration = 0.0 if self._phase_end is None else (self._phase_end - self._phase_start) / self.fs
        ch = test.channel
        level = float(self._level[ch]) if np.isfinite(self._level[ch]) else 0.0
        scale = self._scale[ch]
        fraction = level / scale if np.isfinite(scale) and scale > 0 else 0.0  # no scale before the baseline ends
        best = max((t.peak for t in self.trials if t.muscle == test.name and t.status.counted), default=math.nan)
        done = sum(1 for t in self.trials)
        total = done + len(self._queue) + (1 if step is not None else 0)
        common = {
            "muscle": test.name,
            "label": test.label,
            "trial": step.number if step else 0,
            "trials": tm.trials,
            "remaining_s": remaining,
            "duration_s": duration,
            "level": level,
            "level_fraction": float(min(max(fraction, 0.0), 1.0)),
            "best_fraction": float(best / scale) if math.isfinite(best) and np.isfinite(scale) and scale > 0 else math.nan,
            "done": done,
            "total": total,
        }
        text, detail = prompt_words(self, phase, test, remaining)
        return Prompt(phase, text, detail, **common)  # type: ignore[arg-type]
