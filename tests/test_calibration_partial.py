"""Calibration keeps what passed: a weak muscle leaves the others' trials standing, the profile says what
is missing, and ``calibrate --only MUSCLE --update PROFILE`` redoes that muscle alone (CLI on the simulated
sensor, the machine, the terminal prompts, the wizard)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from emgfeedback.calibration import (
    CalibrationMachine,
    CalibrationPlan,
    Decision,
    Phase,
    Severity,
    available_protocols,
    load_profile,
)
from emgfeedback.calibration.profile import Profile
from emgfeedback.calibration.terminal import TerminalPrompter
from emgfeedback.cli import main
from emgfeedback.config import FilterSpec, StreamInfo
from emgfeedback.errors import ProfileError
from emgfeedback.io.simulated import MUSCLES

NAME = "both sides, standard placement"
SIM = ["--trials", "2", "--fast"]


def calibrate(*argv: str) -> int:
    return main(["calibrate", *argv, *SIM])


def test_a_weak_muscle_leaves_a_partial_profile_then_redone_alone(capsys: pytest.CaptureFixture[str], emg_home: Path) -> None:
    code = calibrate("--source", "simulated:calibration:weak=hamstring_right", "--name", NAME)
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("High hamstring, right, trial 1 (try") == 3  # repeated automatically, then skipped
    assert "High hamstring, right (channel 3): no usable trial" in out
    assert "partial profile: 3 of 4 muscles; missing High hamstring, right (channel 3)" in out
    assert f"redo it alone: emgfeedback calibrate --source simulated --only hamstring_right --update '{NAME}'" in out
    partial = load_profile(NAME)
    assert partial.muscles == {"glute_max_left": 0, "hamstring_left": 1, "glute_max_right": 2}
    assert partial.missing == {"hamstring_right": 3} and not partial.complete
    stored = json.loads((emg_home / "profiles" / "both-sides-standard-placement.json").read_text())
    assert stored["missing"] == {"hamstring_right": 3}
    kept = {r.name: r for r in partial.references}
    assert all(len(r.trials) == 2 and r.mvc > 50 * r.noise for r in kept.values())  # good trials kept

    listing = main(["profiles"])
    assert listing == 0 and "missing hamstring_right=3" in capsys.readouterr().out

    code = calibrate("--source", "simulated", "--only", "hamstring_right", "--update", NAME)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "calibrating High hamstring, right = channel 3" in out and out.count("Push!") == 2  # only that muscle
    assert f"updated profile '{NAME}' (hamstring_right measured now)" in out
    assert "has every muscle: glute_max_left, hamstring_left, glute_max_right, hamstring_right" in out
    full = load_profile(NAME)
    assert full.complete and full.muscles == {m: i for i, m in enumerate(MUSCLES)}
    for ref in full.references:
        if ref.name in kept:
            assert ref == kept[ref.name]  # the others are untouched
        else:
            assert len(ref.trials) == 2 and ref.mvc > 50 * ref.noise
    assert [p["muscle"] for p in full.protocols] == ["glute_max", "hamstring"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--window-ms", "100"], "does not match this setup (window_ms 100.0, profile 150.0)"),
        (["--fs", "2000"], "does not match this setup (sample rate 2000 Hz, profile 1000 Hz)"),
        (["--only", "quad_left"], "--only quad_left: profile 'p' has no muscle quad_left"),
        (["--name", "other"], "--update saves into profile 'p': leave out --name 'other'"),
    ],
)
def test_update_refuses_a_different_chain_in_one_line(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str], emg_home: Path
) -> None:
    assert calibrate("--source", "simulated", "--channels", "2", "--name", "p") == 0
    before = (emg_home / "profiles" / "p.json").read_text()
    capsys.readouterr()
    argv = ["--source", "simulated", "--update", "p", *extra]
    if "--only" not in extra:
        argv += ["--only", "hamstring_left"]
    code = calibrate(*argv)
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert (emg_home / "profiles" / "p.json").read_text() == before


def test_name_or_update_is_needed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "--source", "simulated"]) == 2
    assert "give --name NAME for the new profile, or --update PROFILE" in capsys.readouterr().err
    assert main(["calibrate", "--source", "simulated", "--update", "nothing-here"]) == 2
    assert "no profile named 'nothing-here'" in capsys.readouterr().err


def test_only_without_update_makes_a_profile_of_that_muscle(capsys: pytest.CaptureFixture[str]) -> None:
    assert calibrate("--source", "simulated", "--only", "glute_max_right", "--name", "right glute") == 0
    assert load_profile("right glute").muscles == {"glute_max_right": 2}


def puppet_machine(levels: list[float]) -> tuple[CalibrationMachine, list[float]]:
    plan = CalibrationPlan.build({"glute_max_left": 0}, available_protocols(), rest_between_s=5.0, trials=len(levels))
    return CalibrationMachine(plan, FilterSpec(fs=1000.0), StreamInfo(fs=1000.0, channels=1)), levels


def run_accepting(levels: list[float]) -> CalibrationMachine:
    """Envelope 1.0 at rest and ``level`` during each push; every failed trial is accepted."""
    machine, levels = puppet_machine(levels)
    machine.start()
    while not machine.finished:
        if machine.phase is Phase.DECIDE:
            machine.decide(Decision.ACCEPT)
            continue
        level = levels[len(machine.trials)] if machine.phase is Phase.CONTRACT else 1.0
        machine.feed(np.full((250, 1), level))
    return machine


def test_accept_anyway_saves_a_weak_but_usable_reference_with_a_warning() -> None:
    result = run_accepting([3.0, 3.0]).result()
    muscle = result.muscle("glute_max_left")
    assert muscle.ok and result.ok
    weak = [p for p in muscle.problems if p.code == "weak" and "accepted with a reference only 3.0x" in p.message]
    assert weak and weak[0].severity is Severity.WARN
    # at the noise itself no reference can be made, accepted or not
    hopeless = run_accepting([1.0, 1.0]).result()
    assert not hopeless.ok and any(p.severity is Severity.FAIL for p in hopeless.muscle("glute_max_left").problems)


def test_terminal_tells_each_muscles_position_resistance_and_cue_once() -> None:
    protocols = available_protocols()
    plan = CalibrationPlan.build({"glute_max_left": 0, "hamstring_left": 1}, protocols, trials=2, rest_between_s=5.0)
    machine = CalibrationMachine(plan, FilterSpec(fs=1000.0), StreamInfo(fs=1000.0, channels=2))
    out = io.StringIO()
    screen = TerminalPrompter(out, interactive=False, units="counts")
    screen.handle(machine, machine.start())
    while not machine.finished:
        pushing = machine.phase is Phase.CONTRACT
        block = np.ones((250, 2))
        block[:, machine.test.channel] = 80.0 if pushing else 1.0
        screen.handle(machine, machine.feed(block))
    text = out.getvalue()
    for muscle, proto in (("Glute max, left", protocols["glute_max"]), ("High hamstring, left", protocols["hamstring"])):
        for what in ("position", "resistance", "cue"):
            line = f"  {what + ':':<11} {getattr(proto, what)}\n"
            assert text.count(line) == 1, (what, text)
        assert text.index(f"{muscle} (channel ") < text.index(f"{muscle}: push in 3")  # before its first countdown
        assert text.count(f"Push! {proto.cue}") == 2


def test_profile_missing_round_trips_and_is_validated(emg_home: Path) -> None:
    assert calibrate("--source", "simulated:calibration:weak=glute_max_left", "--channels", "2", "--name", "m") == 0
    path = emg_home / "profiles" / "m.json"
    data = json.loads(path.read_text())
    assert data["missing"] == {"glute_max_left": 0}
    assert Profile.from_dict(data).missing == {"glute_max_left": 0}
    data["missing"] = {"glute_max_left": 1}  # the channel of a calibrated muscle
    with pytest.raises(ProfileError, match="field missing is not an object of muscle: unused channel"):
        Profile.from_dict(data, "m.json")
    del data["missing"]  # files from before partial profiles are complete
    assert Profile.from_dict(data).complete


def run_wizard(qtbot, wizard, source) -> None:
    """Feed a simulated person to the wizard until it is done, skipping every failed trial (key S)."""
    from PySide6.QtCore import Qt

    from emgfeedback.dsp import Pipeline

    pipeline = Pipeline(wizard.spec)
    qtbot.keyClick(wizard, Qt.Key.Key_Space)
    for _ in range(int(source.script.duration * 10) + 50):
        if wizard.machine.finished:
            break
        if wizard.machine.phase is Phase.DECIDE:
            qtbot.keyClick(wizard, Qt.Key.Key_S)
            continue
        raw = source.generate(100)
        wizard.feed(pipeline.process(raw).envelope, raw)
    assert wizard.machine.phase is Phase.DONE


def test_wizard_saves_the_muscles_that_passed_then_redoes_the_missing_one(qtbot, emg_home: Path) -> None:
    from PySide6.QtCore import Qt

    from emgfeedback.calibration.simulate import person_script
    from emgfeedback.io.simulated import SimulatedSource
    from emgfeedback.ui.calibration_wizard import CalibrationWizard

    spec = FilterSpec(fs=1000.0)
    plan = CalibrationPlan.build({"glute_max_left": 0, "hamstring_left": 1}, available_protocols(), trials=2, rest_between_s=5.0)
    source = SimulatedSource(person_script(plan, 2, weak=["hamstring_left"]), channels=2, realtime=False)
    source.open()
    wizard = CalibrationWizard(plan, spec, source.info, name="left side")
    qtbot.addWidget(wizard)
    wizard.show()
    run_wizard(qtbot, wizard, source)
    with qtbot.waitSignal(wizard.finished, timeout=5000):
        qtbot.keyClick(wizard, Qt.Key.Key_Return)
    assert "Saved profile 'left side' without High hamstring, left (channel 1)" in wizard.detail_label.text()
    assert wizard.prompt_label.text() == "Done: 1 of 2 muscles"
    assert not wizard.repeat_button.isEnabled() and not wizard.start_button.isEnabled()  # saved: the result stands
    partial = load_profile("left side")
    assert partial.muscles == {"glute_max_left": 0} and partial.missing == {"hamstring_left": 1}

    redo = CalibrationPlan.build(dict(partial.missing), available_protocols(), trials=2, rest_between_s=5.0)
    again = SimulatedSource(person_script(redo, 2), channels=2, realtime=False, seed=7)
    again.open()
    second = CalibrationWizard(redo, spec, again.info, update=partial)
    qtbot.addWidget(second)
    second.show()
    assert second.name_edit.text() == "left side" and second.name_edit.isReadOnly()
    run_wizard(qtbot, second, again)
    with qtbot.waitSignal(second.finished, timeout=5000):
        qtbot.keyClick(second, Qt.Key.Key_Return)
    assert second.detail_label.text() == "Saved profile 'left side'."
    full = load_profile("left side")
    assert full.complete and full.muscles == {"glute_max_left": 0, "hamstring_left": 1}
    assert full.reference("glute_max_left") == partial.reference("glute_max_left")


def test_a_missing_muscle_does_not_block_auto_holds_or_the_synergy_figure() -> None:
    """A partial profile's missing muscle reads NaN (NO SIGNAL): the calibrated muscles alone start an auto hold."""
    from emgfeedback.config import Band
    from emgfeedback.feedback import FeedbackEngine, State

    names = ["glute_max_left", "hamstring_left", "glute_max_right", "hamstring_right"]
    fs = 1000.0
    engine = FeedbackEngine(names, [Band()] * 4, fs, auto_start=True)
    percent = np.full((5000, 4), 40.0)
    percent[:, 3] = np.nan  # hamstring_right is not calibrated
    update = engine.process(0, percent)
    assert update.started_hold is not None and engine.hold is not None and engine.hold_auto
    assert (update.states[-1] == [State.IN, State.IN, State.IN, State.UNKNOWN]).all()
    assert engine.hold.summary.synergy_pct > 90  # the left hamstring in band, no glute over
    rest = np.full((4000, 4), 2.0)
    rest[:, 3] = np.nan
    done = engine.process(5000, rest)
    assert len(done.finished_holds) == 1  # and they end it when they all rest


def test_dashboard_calibrate_offers_to_redo_only_the_missing_muscles(qtbot, emg_home: Path) -> None:
    from types import SimpleNamespace

    from PySide6.QtWidgets import QWidget

    from emgfeedback.dsp import Pipeline
    from emgfeedback.io.simulated import SimulatedSource
    from emgfeedback.runtime.acquisition import Acquisition
    from emgfeedback.ui.calibration_host import CalibrationDialog, _partial_profile
    from emgfeedback.ui.theme import DARK

    assert calibrate("--source", "simulated:calibration:weak=hamstring_right", "--name", "desk") == 0
    partial = load_profile("desk")
    acquisition = Acquisition(SimulatedSource("rest", realtime=False), lambda info: Pipeline(partial.filters.with_(fs=info.fs)))
    acquisition.start()
    try:
        qtbot.waitUntil(lambda: acquisition.opened.is_set() and acquisition.pipeline is not None, timeout=10000)
        window = QWidget()
        qtbot.addWidget(window)
        window.acq = acquisition  # type: ignore[attr-defined]
        window.config = SimpleNamespace(profile_name="desk")  # type: ignore[attr-defined]
        window.theme = DARK  # type: ignore[attr-defined]  # what calibration_host reads of the dashboard
        assert _partial_profile(window) == partial
        dialog = CalibrationDialog(window, partial.name, update=partial)
        qtbot.addWidget(dialog)
        assert dialog.wizard.plan.muscles == {"hamstring_right": 3}  # only what the profile lacks
        assert dialog.wizard.update_profile == partial and dialog.wizard.name_edit.text() == "desk"
        assert "missing muscles of desk" in dialog.windowTitle()
        dialog.wizard.detach()
        window.config = SimpleNamespace(profile_name="demo")  # type: ignore[attr-defined]  # not a saved profile
        assert _partial_profile(window) is None
    finally:
        acquisition.stop()
