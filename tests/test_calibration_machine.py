"""The calibration state machine on the simulated sensor and on hand-made envelopes (no Qt, no sleeps)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emgfeedback.calibration import (
    CalibrationMachine,
    CalibrationPlan,
    CalibrationRun,
    Decision,
    Phase,
    ProtocolError,
    Severity,
    TrialStatus,
    auto_policy,
    available_protocols,
)
from emgfeedback.calibration.reference import highest_mean
from emgfeedback.calibration.simulate import person_script
from emgfeedback.config import Envelope, FilterSpec, StreamInfo
from emgfeedback.dsp import Pipeline
from emgfeedback.errors import SettingsError
from emgfeedback.io.simulated import MUSCLES, Script, SimulatedSource, calibration_script, constant_script

FS = 1000.0
SPEC = FilterSpec(fs=FS, envelope=Envelope.RMS)  # the truth below is derived for the moving RMS


def plan_for(channels: int = 4, *, rest_between: float = 5.0, trials: int | None = None) -> CalibrationPlan:
    return CalibrationPlan.build(
        {m: i for i, m in enumerate(MUSCLES[:channels])}, available_protocols(), rest_between_s=rest_between, trials=trials
    )


def run_simulated(
    plan: CalibrationPlan,
    script: Script,
    *,
    channels: int = 4,
    seed: int = 0,
    chunk: int = 100,
    policy: object = "auto",
    hum_counts: float = 0.0,
    spec: FilterSpec = SPEC,
) -> CalibrationRun:
    """Feed a simulated person to a CalibrationRun until the machine finishes (bounded by the script length)."""
    source = SimulatedSource(script, channels=channels, fs=FS, seed=seed, realtime=False, hum_counts=hum_counts)
    source.open()
    run = CalibrationRun(plan, spec, source.info, policy=auto_policy() if policy == "auto" else policy)  # type: ignore[arg-type]
    run.machine.start()
    limit = int(script.duration * FS) + chunk
    fed = 0
    while not run.machine.finished and fed < limit:
        run.feed(source.generate(chunk))
        fed += chunk
    return run


@pytest.fixture(scope="module")
def standard_run() -> CalibrationRun:
    plan = plan_for()
    return run_simulated(plan, person_script(plan, 4))


@pytest.fixture(scope="module")
def scripted_truth() -> tuple[np.ndarray, np.ndarray]:
    """The scripted noise and MVC of each simulated muscle, through the same chain, from other seeds.

    Noise: the mean envelope with every muscle at rest (a constant script).
    MVC: the simulator's 100 % level is stationary band-limited noise whose 500 ms means
    fluctuate by ~4 %, so the Noraxon reference (the highest 500 ms mean over three 3.9 s
    plateaus) sits ~10 % above the plain mean. The truth for that method is therefore its
    expected value: the same statistic on constant 100 % runs (three plateaus each), averaged
    over 16 independent seeds.
    """
    plateau = round((5.0 - 2 * 0.4 - 0.3) * FS)  # contract_s - 2 ramps - reaction time

    def envelope(level: float, n: int, seed: int) -> np.ndarray:
        src = SimulatedSource(constant_script(4, level), channels=4, fs=FS, seed=seed, realtime=False)
        src.open()
        return Pipeline(SPEC).process(src.generate(n)).envelope[1000:]

    noise = envelope(0.0, 21000, seed=500).mean(axis=0)
    highs = []
    for seed in range(100, 116):
        env = envelope(100.0, 1000 + 3 * plateau, seed)
        highs.append(np.max([highest_mean(env[i * plateau : (i + 1) * plateau], 500) for i in range(3)], axis=0))
    return noise, np.mean(highs, axis=0)


def test_full_calibration_recovers_scripted_mvc_and_noise(standard_run, scripted_truth) -> None:
    noise_truth, mvc_truth = scripted_truth
    machine = standard_run.machine
    assert machine.phase is Phase.DONE
    result = machine.result()
    assert result.ok, result.problems
    assert [m.name for m in result.muscles] == list(MUSCLES)
    for m in result.muscles:
        assert len(m.peaks) == 3
        assert m.mvc == pytest.approx(mvc_truth[m.channel], rel=0.05), m.name
        assert m.noise == pytest.approx(noise_truth[m.channel], rel=0.20), m.name
        assert m.spread < 0.2
    # glute max is scripted at 400 uV, the hamstring at 300 uV: the references keep that ratio
    glute, ham = result.muscle("glute_max_left").mvc, result.muscle("hamstring_left").mvc
    assert glute / ham == pytest.approx(400 / 300, rel=0.08)


def test_trials_are_taken_where_the_person_pushed(standard_run) -> None:
    """Each trial window is the scripted contraction: machine prompts and the simulated person agree."""
    script = person_script(standard_run.machine.plan, 4)
    trials = standard_run.machine.trials
    assert len(trials) == len(script.trials) == 12
    for trial, (ch, start, stop) in zip(trials, script.trials, strict=True):
        assert trial.channel == ch
        assert trial.start == round((start - 0.3) * FS)  # "Push!" comes a reaction time before the push
        assert trial.stop == round(stop * FS)
        assert trial.status is TrialStatus.PASSED and not trial.problems


def test_result_does_not_depend_on_chunk_sizes() -> None:
    plan = plan_for(2, trials=2)
    script = person_script(plan, 2)
    a = run_simulated(plan, script, channels=2, chunk=7).machine.result()
    b = run_simulated(plan, script, channels=2, chunk=1000).machine.result()
    for ma, mb in zip(a.muscles, b.muscles, strict=True):
        assert ma.mvc == pytest.approx(mb.mvc, rel=1e-9)
        assert ma.noise == pytest.approx(mb.noise, rel=1e-9)


def test_person_script_is_the_simulators_calibration_scenario() -> None:
    """With one timing for all muscles the simulated person is exactly ``calibration_script``, shifted by the countdown."""
    plan = plan_for(4)
    mine = person_script(plan, 4)
    theirs = calibration_script(4, rest_s=plan.settle_s + plan.baseline_s + 3.0, between_s=5.0, lead_s=0.3)
    t = np.arange(0.0, theirs.duration, 0.01)
    np.testing.assert_allclose(mine.level_at(t), theirs.level_at(t))
    assert [c for c, _, _ in mine.trials] == [c for c, _, _ in theirs.trials]
    np.testing.assert_allclose([s[1:] for s in mine.trials], [s[1:] for s in theirs.trials])


def test_prompts_follow_the_protocol() -> None:
    plan = plan_for(1, trials=1)
    info = StreamInfo(fs=FS, channels=1, channel_names=("glute_max_left",))
    machine = CalibrationMachine(plan, SPEC, info)
    assert machine.prompt.phase is Phase.READY and "Space" in machine.prompt.text
    seen: list[tuple[Phase, str, float]] = []
    events = machine.start()
    assert [e.kind for e in events] == ["phase"]
    while not machine.finished:
        level = 50.0 if machine.phase is Phase.CONTRACT else 1.0
        machine.feed(np.full((250, 1), level))
        p = machine.prompt
        if not seen or seen[-1][1] != p.text:
            seen.append((p.phase, p.text, p.remaining_s))
    texts = [t for _, t, _ in seen]
    assert texts[:5] == [
        "Rest",
        "Glute max, left: push in 3",
        "Glute max, left: push in 2",
        "Glute max, left: push in 1",
        "Push!",
    ]
    assert texts[-1] == "Done"
    # baseline = settle (1 s) + 5 s; the countdown 3 s; the push 5 s; a single trial ends without a rest
    assert machine.index == (1 + 5 + 3 + 5) * FS
    assert machine.result().muscle("glute_max_left").mvc == pytest.approx(50.0)
    assert machine.result().muscle("glute_max_left").noise == pytest.approx(1.0)


class Puppet:
    """Drives a machine with hand-made envelopes: rest at 1.0, each push at the next level of ``levels``."""

    def __init__(self, machine: CalibrationMachine, levels: list[float]) -> None:
        self.machine = machine
        self.levels = list(levels)
        self.current: float | None = None

    def step(self, n: int = 500) -> list:
        m = self.machine
        if m.phase is Phase.CONTRACT:
            if self.current is None:
                self.current = self.levels.pop(0)
            level = self.current
        else:
            self.current = None
            level = 1.0
        return m.feed(np.full((n, m.info.channels), level))

    def run(self, until: Phase | None = None, limit: int = 10_000) -> None:
        for _ in range(limit):
            if self.machine.finished or self.machine.phase is until:
                return
            self.step()
        raise AssertionError("the machine did not get there")


def puppet(levels: list[float], *, trials: int = 3, policy: object = None) -> Puppet:
    plan = plan_for(1, trials=trials)
    info = StreamInfo(fs=FS, channels=1, channel_names=("glute_max_left",))
    machine = CalibrationMachine(plan, SPEC, info, policy=policy)  # type: ignore[arg-type]
    machine.start()
    return Puppet(machine, levels)


def test_weak_trial_is_caught_and_repeated_automatically() -> None:
    plan = plan_for(1, trials=3)
    # the second push is only 2 % of maximal; the person repeats it when the machine asks
    script = person_script(plan, 1, steps=[(0, 100), (0, 2), (0, 100), (0, 100)])
    run = run_simulated(plan, script, channels=1)
    trials = run.machine.trials
    assert [t.status for t in trials] == [TrialStatus.PASSED, TrialStatus.REPLACED, TrialStatus.PASSED, TrialStatus.PASSED]
    weak = trials[1]
    assert [p.code for p in weak.problems] == ["weak"]
    message = weak.problems[0].message
    assert "Glute max, left, trial 2: too weak" in message and "5x" in message and "repeat it" in message
    assert trials[2].number == 2 and trials[2].attempt == 2
    result = run.machine.result()
    assert result.ok
    assert len(result.muscle("glute_max_left").peaks) == 3


def test_clipping_is_caught() -> None:
    plan = plan_for(1, trials=1)
    # 800 % of the scripted MVC overdrives the 10-bit ADC; the repeat is at a sane level
    script = person_script(plan, 1, steps=[(0, 800), (0, 100)])
    run = run_simulated(plan, script, channels=1)
    first = run.machine.trials[0]
    codes = [p.code for p in first.problems]
    assert "clipping" in codes and "weak" not in codes
    clip = next(p for p in first.problems if p.code == "clipping")
    assert clip.severity is Severity.FAIL
    assert "clipping" in clip.message and "lower the sensor gain" in clip.message and "repeat" in clip.message
    assert first.status is TrialStatus.REPLACED
    assert run.machine.trials[1].status is TrialStatus.PASSED
    assert run.machine.result().ok


def test_electrode_off_is_caught() -> None:
    plan = plan_for(1, trials=1)
    script = person_script(plan, 1, steps=[(0, 100), (0, 100)], electrode_off_steps={0})
    run = run_simulated(plan, script, channels=1)
    first = run.machine.trials[0]
    assert first.problems[0].code == "electrode_off"  # the most serious finding comes first
    assert "electrode off" in first.problems[0].message and "check the cable" in first.problems[0].message
    assert run.machine.trials[1].status is TrialStatus.PASSED


def test_electrode_off_at_rest_fails_the_muscle() -> None:
    plan = plan_for(2, trials=1)
    base = person_script(plan, 2)
    script = Script(base.name, base.times, base.levels, trials=base.trials, electrode_off=((1, 0.0, 6.0),))
    result = run_simulated(plan, script, channels=2).machine.result()
    ham = result.muscle("hamstring_left")
    assert any(p.code == "electrode_off" and "at rest" in p.message for p in ham.problems)
    assert not ham.ok and not result.ok
    assert result.muscle("glute_max_left").ok


@pytest.mark.parametrize(("mains", "fix"), [("50", "check the cables"), ("off", "turn the notch on")])
def test_mains_hum_is_reported(mains: str, fix: str) -> None:
    plan = plan_for(1, trials=1)
    spec = SPEC.with_(mains=mains)
    run = run_simulated(plan, person_script(plan, 1), channels=1, hum_counts=20.0, spec=spec)
    result = run.machine.result()
    hum = [p for p in result.problems if p.code == "hum"]
    assert hum and hum[0].severity is Severity.WARN
    assert "mains hum is high" in hum[0].message and fix in hum[0].message
    assert result.ok  # a warning, not a failure


def test_no_hum_warning_on_a_clean_signal(standard_run) -> None:
    assert not [p for p in standard_run.machine.result().problems if p.code == "hum"]


def test_inconsistent_trials_warn() -> None:
    p = puppet([100.0, 70.0, 100.0])
    p.run()
    result = p.machine.result()
    m = result.muscle("glute_max_left")
    assert m.spread == pytest.approx(0.3, abs=0.01)
    warn = [x for x in m.problems if x.code == "inconsistent"]
    assert warn and warn[0].severity is Severity.WARN and "differ by 30 %" in warn[0].message
    assert result.ok and m.mvc == pytest.approx(100.0)


def test_failed_trial_waits_for_a_decision_then_accept() -> None:
    p = puppet([100.0, 3.0, 100.0])
    p.run(until=Phase.DECIDE)
    assert p.machine.pending is not None and p.machine.pending.number == 2
    assert "repeat" in p.machine.prompt.detail.lower()
    index = p.machine.index
    p.machine.feed(np.full((5000, 1), 1.0))  # waiting: time does not count
    assert p.machine.index == index and p.machine.phase is Phase.DECIDE
    events = p.machine.decide(Decision.ACCEPT)
    assert p.machine.phase is Phase.COUNTDOWN and events[0].kind == "phase"
    p.run()
    result = p.machine.result()
    m = result.muscle("glute_max_left")
    assert len(m.peaks) == 3
    assert any("(accepted)" in x.message and x.severity is Severity.WARN for x in m.problems)


def test_failed_trial_skip_and_repeat_during_the_rest() -> None:
    p = puppet([100.0, 3.0, 100.0, 100.0])
    while not p.machine.trials or len(p.machine.trials) < 2:
        p.step()
    assert p.machine.phase is Phase.RELAX and p.machine.pending is not None
    p.machine.decide("repeat")  # decided while resting: no waiting afterwards
    p.run()
    assert [t.status for t in p.machine.trials] == [
        TrialStatus.PASSED,
        TrialStatus.REPLACED,
        TrialStatus.PASSED,
        TrialStatus.PASSED,
    ]
    q = puppet([100.0, 3.0, 100.0])
    q.run(until=Phase.DECIDE)
    q.machine.decide(Decision.SKIP)
    q.run()
    m = q.machine.result().muscle("glute_max_left")
    assert len(m.peaks) == 2 and m.ok
    assert any("(skipped)" in x.message for x in m.problems)


def test_repeat_any_trial_after_the_end() -> None:
    p = puppet([100.0, 100.0, 60.0, 110.0])
    p.run()
    assert p.machine.phase is Phase.DONE
    weakest = min(p.machine.trials, key=lambda t: t.peak)
    p.machine.repeat(weakest.id)
    assert p.machine.phase is Phase.COUNTDOWN
    p.run()
    result = p.machine.result().muscle("glute_max_left")
    assert sorted(result.peaks) == pytest.approx([100.0, 100.0, 110.0])
    assert p.machine.trials[weakest.id].status is TrialStatus.REPLACED


def test_auto_policy_gives_up_and_reports() -> None:
    p = puppet([2.0] * 9, trials=1, policy=auto_policy(max_attempts=3))
    p.run()
    trials = p.machine.trials
    assert [t.attempt for t in trials] == [1, 2, 3]
    assert trials[-1].status is TrialStatus.SKIPPED
    result = p.machine.result()
    assert not result.ok
    codes = [x.code for x in result.muscle("glute_max_left").problems]
    assert "no_trial" in codes and "weak" in codes


def test_gaps_count_as_time_not_as_data() -> None:
    """A dropped stretch arrives as NaN rows (the ring buffer's gap marker): it is skipped, not averaged."""
    p = puppet([100.0, 100.0, 100.0])
    gaps = 0
    for k in range(10_000):
        if p.machine.finished:
            break
        if p.machine.phase in (Phase.BASELINE, Phase.CONTRACT) and p.machine.index > 1000 and k % 3 == 0:
            p.machine.feed(np.full((100, 1), np.nan))
            gaps += 1
        p.step()
    assert gaps > 10
    result = p.machine.result().muscle("glute_max_left")
    assert result.noise == pytest.approx(1.0) and result.mvc == pytest.approx(100.0)
    assert result.ok


def test_cancel() -> None:
    p = puppet([100.0])
    p.step()
    events = p.machine.cancel()
    assert p.machine.phase is Phase.CANCELLED and [e.kind for e in events] == ["cancelled"]
    assert p.machine.result().cancelled
    assert p.machine.feed(np.ones((10, 1))) == []


def test_plan_errors_are_one_line() -> None:
    protos = available_protocols()
    with pytest.raises(SettingsError, match="channel 1 appears twice"):
        CalibrationPlan.build({"glute_max_left": 1, "hamstring_left": 1}, protos)
    with pytest.raises(ProtocolError, match=r"no MVC protocol for muscle kind 'erector'.*--protocol FILE"):
        CalibrationPlan.build({"erector_left": 0}, protos)
    with pytest.raises(SettingsError, match="channels 0-1"):
        CalibrationPlan.build({"glute_max_left": 2}, protos, channels=2)
    info = StreamInfo(fs=FS, channels=1)
    with pytest.raises(SettingsError, match="fix the muscle map"):
        CalibrationMachine(CalibrationPlan.build({"hamstring_left": 3}, protos), SPEC, info)


def test_plan_duration_matches_the_run(standard_run) -> None:
    assert standard_run.machine.index == pytest.approx(standard_run.machine.plan.duration_s() * FS)
    assert math.isclose(standard_run.machine.plan.duration_s(), 124.0)


def test_levels_over_rest_read_the_same_in_every_message() -> None:
    from emgfeedback.calibration.checks import times_rest

    assert [times_rest(r) for r in (1.5, 4.96, 12.4, 100.2, float("inf"), float("nan"))] == [
        "1.5x",
        "5.0x",
        "12x",
        "100x",
        "-",
        "-",
    ]
