"""The calibration wizard driven by pytest-qt through whole simulated calibrations (offscreen, no sleeps)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from emgfeedback.calibration import (
    CalibrationPlan,
    Phase,
    Profile,
    TrialStatus,
    available_protocols,
    load_profile,
)
from emgfeedback.calibration.simulate import person_script
from emgfeedback.config import FilterSpec
from emgfeedback.dsp import Pipeline
from emgfeedback.io.simulated import MUSCLES, SimulatedSource, constant_script
from emgfeedback.runtime.acquisition import Acquisition
from emgfeedback.ui.calibration_wizard import CalibrationWizard

DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SPEC = FilterSpec(fs=1000.0)
CHUNK = 100


def make_plan(channels: int, trials: int | None = None) -> CalibrationPlan:
    return CalibrationPlan.build(
        {m: i for i, m in enumerate(MUSCLES[:channels])}, available_protocols(), rest_between_s=5.0, trials=trials
    )


class Feeder:
    """A simulated person behind the live chain, fed to the wizard one chunk at a time."""

    def __init__(self, wizard: CalibrationWizard, source: SimulatedSource) -> None:
        self.wizard = wizard
        self.source = source
        self.pipeline = Pipeline(SPEC)

    def step(self) -> None:
        raw = self.source.generate(CHUNK)
        self.wizard.feed(self.pipeline.process(raw).envelope, raw)


def assert_current_row_visible(wizard: CalibrationWizard) -> None:
    """The newest trial's row is scrolled into view, and a scroll bar (if any) wears the theme, not white."""
    table = wizard.table
    last = table.rowCount() - 1
    rect = table.visualRect(table.model().index(last, 0))
    assert table.viewport().rect().contains(rect), (last, rect, table.viewport().rect())
    bar = table.verticalScrollBar()
    if bar.isVisible():
        shot = bar.grab().toImage()
        pixels = [shot.pixelColor(x, y) for x in range(0, shot.width(), 2) for y in range(0, shot.height(), 4)]
        white = sum(c.lightness() > 230 for c in pixels)
        assert white < 0.05 * len(pixels), f"{white} of {len(pixels)} scroll bar pixels are white"


def test_wizard_drives_a_whole_simulated_calibration(qtbot, tmp_path: Path, emg_home: Path) -> None:
    plan = make_plan(2)
    # the person's second hamstring push is feeble (3 %): the wizard flags it, R repeats it
    steps = [(0, 100), (0, 100), (0, 100), (1, 100), (1, 3), (1, 100), (1, 100)]
    source = SimulatedSource(person_script(plan, 2, steps=steps), channels=2, realtime=False)
    source.open()
    wizard = CalibrationWizard(plan, SPEC, source.info, name="left side, standard placement")
    qtbot.addWidget(wizard)
    wizard.resize(1280, 800)
    wizard.show()
    qtbot.waitExposed(wizard)
    phases: list[Phase] = []
    judged: list[object] = []
    wizard.phase_changed.connect(lambda prompt: phases.append(prompt.phase))
    wizard.trial_finished.connect(judged.append)
    assert wizard.prompt_label.text() == "Press Space to start"
    feeder = Feeder(wizard, source)
    feeder.step()  # before Space nothing is measured
    assert wizard.machine.index == 0
    qtbot.keyClick(wizard, Qt.Key.Key_Space)
    assert wizard.machine.phase is Phase.BASELINE and wizard.prompt_label.text() == "Rest"
    shot_taken = False
    limit = int(source.script.duration * 1000 / CHUNK) + 10
    for _ in range(limit):
        if wizard.machine.finished:
            break
        feeder.step()
        machine = wizard.machine
        if machine.pending is not None:  # a failed trial: press R while the person rests
            assert machine.phase is Phase.RELAX
            assert "too weak" in wizard.detail_label.text()
            qtbot.keyClick(wizard, Qt.Key.Key_R)
            assert machine.pending is None
        if (
            not shot_taken
            and machine.phase is Phase.CONTRACT
            and machine.prompt.trial == 2
            and machine.prompt.muscle == "hamstring_left"
            and any(t.status is TrialStatus.REPLACED for t in machine.trials)  # the repeat of the weak push
            and machine.prompt.remaining_s <= 2.0
        ):
            assert wizard.prompt_label.text() == "Push!"
            assert wizard.countdown_label.text() == "2 s"
            assert wizard.level_bar.fraction > 0.5
            image = wizard.grab()
            assert_current_row_visible(wizard)
            current = wizard.table.rowCount() - 1  # the trial in progress has its row, in view
            assert wizard.table.item(current, 4).text() == "now" and wizard.table.item(current, 1).text() == "2"
            image.save(str(tmp_path / "calibration_wizard.png"))
            if os.environ.get("EMGFEEDBACK_UPDATE_SCREENSHOTS") == "1":
                DOCS.mkdir(parents=True, exist_ok=True)
                image.save(str(DOCS / "calibration_wizard.png"))
            shot_taken = True
    assert shot_taken
    assert wizard.machine.phase is Phase.DONE
    assert Phase.COUNTDOWN in phases and Phase.CONTRACT in phases and Phase.RELAX in phases
    statuses = [t.status for t in wizard.machine.trials]
    assert statuses.count(TrialStatus.REPLACED) == 1 and statuses.count(TrialStatus.PASSED) == 6
    assert len(judged) == 7
    assert wizard.table.rowCount() == 7  # the repeated trial stays in the table, greyed
    assert "weak (repeated)" in wizard.table.item(4, 4).text()
    assert wizard.start_button.text().startswith("Save")
    with qtbot.waitSignal(wizard.finished, timeout=5000) as blocker:
        qtbot.keyClick(wizard, Qt.Key.Key_Return)
    profile = blocker.args[0]
    assert isinstance(profile, Profile)
    assert profile.path == emg_home / "profiles" / "left-side-standard-placement.json"
    stored = load_profile("left side, standard placement")
    assert stored.muscles == {"glute_max_left": 0, "hamstring_left": 1}
    assert all(len(r.trials) == 3 for r in stored.references)
    assert (tmp_path / "calibration_wizard.png").stat().st_size > 10_000


def test_keys_accept_skip_and_cancel(qtbot) -> None:
    plan = make_plan(1, trials=2)
    source = SimulatedSource(constant_script(1, 0.0), channels=1, realtime=False)  # a person who never pushes
    source.open()
    wizard = CalibrationWizard(plan, SPEC, source.info, name="x", save=False)
    qtbot.addWidget(wizard)
    wizard.show()
    feeder = Feeder(wizard, source)
    qtbot.keyClick(wizard, Qt.Key.Key_Enter)
    for _ in range(1000):
        if wizard.machine.phase is Phase.DECIDE:
            break
        feeder.step()
    assert wizard.machine.phase is Phase.DECIDE
    assert wizard.prompt_label.text() == "Repeat this trial?"
    assert wizard.accept_button.isEnabled() and wizard.skip_button.isEnabled()
    qtbot.keyClick(wizard, Qt.Key.Key_S)
    assert wizard.machine.trials[0].status is TrialStatus.SKIPPED
    for _ in range(1000):
        if wizard.machine.phase is Phase.DECIDE:
            break
        feeder.step()
    qtbot.keyClick(wizard, Qt.Key.Key_A)
    assert wizard.machine.trials[1].status is TrialStatus.ACCEPTED
    assert wizard.machine.phase is Phase.DONE
    assert wizard.prompt_label.text() == "Done, with problems"
    qtbot.keyClick(wizard, Qt.Key.Key_Return)  # the accepted weak trial cannot be a reference: refused, shown
    assert wizard.profile is None and "reference is only 1.0x the resting noise" in wizard.detail_label.text()
    with qtbot.waitSignal(wizard.cancelled, timeout=2000):
        qtbot.keyClick(wizard, Qt.Key.Key_Escape)  # at the end, Esc discards the result
    assert "nothing was saved" in wizard.detail_label.text()
    other = CalibrationWizard(plan, SPEC, source.info)
    qtbot.addWidget(other)
    with qtbot.waitSignal(other.cancelled, timeout=2000):
        qtbot.keyClick(other, Qt.Key.Key_Escape)
    assert other.machine.phase is Phase.CANCELLED and other.prompt_label.text() == "Cancelled"


def test_repeat_button_in_the_results_table(qtbot, emg_home: Path) -> None:
    plan = make_plan(1, trials=2)
    # two pushes, then one more for the repeat asked from the table
    script = person_script(plan, 1, steps=[(0, 100), (0, 60), (0, 100)])
    source = SimulatedSource(script, channels=1, realtime=False)
    source.open()
    wizard = CalibrationWizard(plan, SPEC, source.info, name="one muscle")
    qtbot.addWidget(wizard)
    feeder = Feeder(wizard, source)
    wizard.start()
    for _ in range(1000):
        if wizard.machine.finished:
            break
        feeder.step()
    assert wizard.machine.phase is Phase.DONE
    result = wizard.machine.result().muscle("glute_max_left")
    assert result.spread > 0.3  # 60 % vs 100 %: inconsistent
    assert any(p.code == "inconsistent" for p in result.problems)
    button = wizard.table.cellWidget(1, 5)
    assert isinstance(button, QPushButton)
    # the simulated person rests for the relax period before the third push; feed that rest, then repeat
    for _ in range(20):
        feeder.step()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert wizard.machine.phase is Phase.COUNTDOWN and not button.isEnabled()
    for _ in range(1000):
        if wizard.machine.finished:
            break
        feeder.step()
    assert wizard.machine.trials[1].status is TrialStatus.REPLACED
    result = wizard.machine.result().muscle("glute_max_left")
    assert result.spread < 0.2 and not any(p.code == "inconsistent" for p in result.problems)
    wizard.show()
    wizard.name_edit.setFocus()
    qtbot.keyClick(wizard.name_edit, Qt.Key.Key_End)
    qtbot.keyClicks(wizard.name_edit, " ras")  # typing a name: the letters are text, not shortcuts
    assert wizard.name_edit.text() == "one muscle ras" and wizard.machine.phase is Phase.DONE
    assert len(wizard.machine.trials) == 3
    with qtbot.waitSignal(wizard.finished, timeout=2000):
        qtbot.keyClick(wizard.name_edit, Qt.Key.Key_Return)
    assert load_profile("one muscle ras").muscles == {"glute_max_left": 0}


def test_wizard_pulls_from_an_acquisition(qtbot, emg_home: Path) -> None:
    plan = make_plan(2, trials=1)
    source = SimulatedSource(person_script(plan, 2), channels=2, realtime=False, chunk_samples=200)
    acquisition = Acquisition(source, lambda info: Pipeline(SPEC), ring_seconds=120.0)
    acquisition.start()
    try:
        qtbot.waitUntil(lambda: acquisition.opened.is_set() and acquisition.pipeline is not None, timeout=10000)
        default = CalibrationWizard.from_acquisition(acquisition, rest_between_s=5.0)
        qtbot.addWidget(default)
        assert default.plan.muscles == {"glute_max_left": 0, "hamstring_left": 1}  # from the channel names
        assert default.plan.total_trials == 6
        default.detach()
        wizard = CalibrationWizard.from_acquisition(acquisition, plan=plan, name="from the ring")
        qtbot.addWidget(wizard)
        wizard.start(from_index=0)  # the simulated person started with the stream: measure from its first sample
        qtbot.waitUntil(lambda: wizard.machine.finished, timeout=30000)
    finally:
        acquisition.stop()
    assert wizard.machine.phase is Phase.DONE, wizard.machine.prompt
    assert wizard._missed == 0
    with qtbot.waitSignal(wizard.finished, timeout=5000):
        qtbot.keyClick(wizard, Qt.Key.Key_Space)
    profile = load_profile("from the ring")
    mvc = np.array([r.mvc for r in profile.references])
    assert np.all(mvc > 50 * np.array([r.noise for r in profile.references]))


def test_from_acquisition_needs_an_open_source() -> None:
    from emgfeedback.errors import SettingsError

    source = SimulatedSource("rest", channels=1, realtime=False)
    acquisition = Acquisition(source, lambda info: Pipeline(SPEC))
    with pytest.raises(SettingsError, match="not open yet"):
        CalibrationWizard.from_acquisition(acquisition)
