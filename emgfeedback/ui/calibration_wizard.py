"""The MVC calibration wizard: the calibration state machine on screen, readable from 3 m.

A big prompt ("Rest", "Push!", "Relax"), a countdown, a live level bar with the best trial
marked, the envelope of the muscle being tested, and a table of trial results with a
Repeat button per trial. Every action has a key: Space/Enter start/next (and save at the
end), R repeat, A accept a failed trial, S skip it, Esc cancel.

Feed it envelope blocks with :meth:`CalibrationWizard.feed`, or :meth:`attach` it to a
running :class:`~emgfeedback.runtime.acquisition.Acquisition` so a QTimer pulls from the ring
buffer. It emits ``finished(Profile)`` once the profile is saved, or ``cancelled()``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from emgfeedback.calibration.checks import times_rest
from emgfeedback.calibration.machine import CalibrationMachine
from emgfeedback.calibration.plan import CalibrationPlan, plan_for
from emgfeedback.calibration.profile import Profile, save_profile
from emgfeedback.calibration.protocol import MvcProtocol
from emgfeedback.calibration.results import Decision, Event, Phase, Prompt, TrialStatus
from emgfeedback.calibration.saving import calibrated_profile, missing_text
from emgfeedback.config import FilterSpec, StreamInfo
from emgfeedback.errors import ProfileError, SettingsError
from emgfeedback.runtime.acquisition import Acquisition
from emgfeedback.ui.calibration_style import FAIL_COLOR, GOOD_COLOR, PUSH_COLOR, big_label, key_button, phase_color, wizard_css
from emgfeedback.ui.envelope_history import EnvelopeHistory
from emgfeedback.ui.level_bar import LevelBar
from emgfeedback.ui.theme import DARK, Theme, font
from emgfeedback.ui.trial_table import TrialTable


class CalibrationWizard(QWidget):
    """Guides one calibration on :class:`CalibrationMachine`; saves a :class:`Profile` at the end."""

    phase_changed = Signal(object)  # Prompt, when a new phase begins
    trial_finished = Signal(object)  # Trial, as judged
    decision_needed = Signal(object)  # Trial, a failed one waiting for repeat / accept / skip
    finished = Signal(object)  # Profile, saved (unless save=False)
    cancelled = Signal()

    def __init__(
        self,
        plan: CalibrationPlan,
        spec: FilterSpec,
        info: StreamInfo,
        parent: QWidget | None = None,
        *,
        name: str = "",
        scale: float | None = None,
        source_text: str = "",
        save: bool = True,
        theme: Theme = DARK,
        update: Profile | None = None,
    ) -> None:
        """``update``: merge the muscles measured into this saved profile (under its name) instead of a new one."""
        super().__init__(parent)
        self.update_profile = update
        self.plan = plan
        self.spec = spec
        self.info = info
        self.scale = scale
        self.source_text = source_text or info.description
        self.save = save
        self.theme = theme
        self.machine = CalibrationMachine(plan, spec, info)
        self.profile: Profile | None = None
        self.acquisition: Acquisition | None = None
        self._next_index: int | None = None
        self._missed = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.pull)
        self._phase_count = 0
        self.setObjectName("calibrationWizard")
        self.setAccessibleName("MVC calibration")
        self._build(update.name if update is not None else name)
        self.name_edit.setReadOnly(update is not None)
        self._build_actions()
        self._show(self.machine.prompt)

    # --- construction ------------------------------------------------------------------------------
    @classmethod
    def from_acquisition(
        cls,
        acquisition: Acquisition,
        parent: QWidget | None = None,
        *,
        plan: CalibrationPlan | None = None,
        muscles: Mapping[str, int] | None = None,
        protocols: Mapping[str, MvcProtocol] | None = None,
        rest_between_s: float | None = None,
        name: str = "",
        save: bool = True,
        theme: Theme = DARK,
        update: Profile | None = None,
    ) -> CalibrationWizard:
        """A wizard on a running acquisition (opened: info and pipeline known), pulling on a timer.

        Without a ``plan`` one is built from ``muscles`` (default: the stream's channel names when
        they are muscle names) and the available protocols.
        """
        if acquisition.info is None or acquisition.pipeline is None:
            raise SettingsError("the source is not open yet: wait for it to connect, then calibrate")
        info = acquisition.info
        if plan is None:
            plan = plan_for(info, muscles, protocols, rest_between_s=rest_between_s)
        wizard = cls(
            plan,
            acquisition.pipeline.spec,
            info,
            parent,
            name=name,
            scale=acquisition.pipeline.scale,
            source_text=info.description,
            save=save,
            theme=theme,
            update=update,
        )
        wizard.attach(acquisition)
        return wizard

    def _label(self, points: int, *, bold: bool = False, color: str | None = None, wrap: bool = False) -> QLabel:
        return big_label(points, color or self.theme.text, bold=bold, wrap=wrap)

    def _build(self, name: str) -> None:
        t = self.theme
        self.setAutoFillBackground(True)
        self.setStyleSheet(wizard_css(t))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.setSpacing(10)
        self.step_label = self._label(24, bold=True, color=t.muted)
        self.prompt_label = self._label(72, bold=True, wrap=True)
        self.prompt_label.setAccessibleName("prompt")
        self.countdown_label = self._label(54, bold=True)
        self.countdown_label.setAccessibleName("time left")
        top = QHBoxLayout()
        top.addWidget(self.prompt_label, 4)
        top.addWidget(self.countdown_label, 1)
        self.level_bar = LevelBar(theme=t)
        self.detail_label = self._label(20, wrap=True)
        self.detail_label.setMinimumHeight(70)
        self.plot = EnvelopeHistory(self.info.fs, self.info.channels, self.info.units, theme=t)
        self.table = TrialTable(theme=t)
        self.table.repeat_requested.connect(self.repeat_trial)
        middle = QHBoxLayout()
        middle.addWidget(self.plot, 2)
        middle.addWidget(self.table, 3)
        self.name_edit = QLineEdit(name)
        self.name_edit.setPlaceholderText("profile name, e.g. both sides, standard placement")
        self.name_edit.setAccessibleName("profile name")
        self.name_edit.setCursorPosition(0)
        self.name_edit.returnPressed.connect(self.next_action)
        self.start_button = key_button("Start [Space]", self.next_action)
        self.repeat_button = key_button("Repeat [R]", self.repeat_last)
        self.accept_button = key_button("Accept [A]", lambda: self.decide(Decision.ACCEPT))
        self.skip_button = key_button("Skip [S]", lambda: self.decide(Decision.SKIP))
        self.cancel_button = key_button("Cancel [Esc]", self.cancel)
        buttons = QHBoxLayout()
        name_caption = QLabel("Profile:")
        name_caption.setFont(font(16))
        name_caption.setStyleSheet(f"color: {t.text};")
        buttons.addWidget(name_caption)
        buttons.addWidget(self.name_edit, 3)
        for b in (self.start_button, self.repeat_button, self.accept_button, self.skip_button, self.cancel_button):
            buttons.addWidget(b)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet(f"color: {t.grid};")
        layout.addWidget(self.step_label)
        layout.addLayout(top)
        layout.addWidget(self.level_bar)
        layout.addWidget(self.detail_label)
        layout.addWidget(line)
        layout.addLayout(middle, 1)
        layout.addLayout(buttons)

    def _build_actions(self) -> None:
        """Keyboard shortcuts for every action (also handled in keyPressEvent when the shortcut map is bypassed)."""
        self._keys: dict[int, object] = {}
        for keys, slot in (
            (["Space", "Return", "Enter"], self.next_action),
            (["R"], self.repeat_last),
            (["A"], lambda: self.decide(Decision.ACCEPT)),
            (["S"], lambda: self.decide(Decision.SKIP)),
            (["Escape"], self.cancel),
        ):
            sequences = [QKeySequence(k) for k in keys]
            self._keys.update({seq[0].key(): slot for seq in sequences})
            action = QAction(self)
            action.setShortcuts(sequences)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.addAction(action)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        slot = self._keys.get(event.key())
        if slot is None or event.modifiers() not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier):
            super().keyPressEvent(event)
            return
        slot()  # type: ignore[operator]
        event.accept()

    # --- actions ------------------------------------------------------------------------------------
    def start(self, from_index: int | None = None) -> None:
        """Begin the rest baseline: with an acquisition, from ring index ``from_index`` (default: now)."""
        if self.machine.phase is not Phase.READY:
            return
        if self.acquisition is not None:
            ring = self.acquisition.ring
            self._next_index = from_index if from_index is not None else (ring.index if ring is not None else 0)
        self._handle(self.machine.start())

    def next_action(self) -> None:
        """Space/Enter: start, or (at the end) save; while waiting on a failed trial, repeat it."""
        phase = self.machine.phase
        if phase is Phase.READY:
            self.start()
        elif phase is Phase.DECIDE:
            self.decide(Decision.REPEAT)
        elif phase is Phase.DONE:
            self.finish()

    def decide(self, decision: Decision) -> None:
        if self.machine.pending is not None:
            self._handle(self.machine.decide(decision))

    def repeat_last(self) -> None:
        """R: repeat the failed trial waiting for a decision, else the most recent trial still standing."""
        pending = self.machine.pending
        if pending is not None:
            self.decide(Decision.REPEAT)
            return
        standing = [t for t in self.machine.trials if t.status is not TrialStatus.REPLACED]
        if standing:
            self.repeat_trial(standing[-1].id)

    def repeat_trial(self, trial_id: int) -> None:
        if self.profile is None:  # once saved, the result stands
            self._handle(self.machine.repeat(trial_id))

    def cancel(self) -> None:
        """Esc: stop the calibration (or, at the end, discard its result) without saving."""
        if self.profile is not None or self.machine.phase is Phase.CANCELLED:
            return
        self._timer.stop()
        if self.machine.phase is Phase.DONE:
            self._message("Discarded: nothing was saved.", FAIL_COLOR)
            self.cancelled.emit()
            return
        self._handle(self.machine.cancel())

    def finish(self) -> Profile | None:
        """Build (and save) the profile; errors are shown in the wizard, not raised."""
        if self.machine.phase is not Phase.DONE or self.profile is not None:
            return self.profile
        name = self.name_edit.text().strip()
        if not name:
            self._message("Type a profile name first (click the name field), then press Enter.", FAIL_COLOR)
            return None
        try:
            profile = calibrated_profile(
                name,
                self.machine.result(),
                self.spec,
                self.info,
                protocols=self.plan.protocols(),
                scale=self.scale,
                source=self.source_text,
                update=self.update_profile,
            )
            if self.save:
                profile = replace(profile, path=save_profile(profile))
        except (ProfileError, SettingsError, OSError) as exc:
            self._message(str(exc), FAIL_COLOR)
            return None
        self.profile = profile
        self._timer.stop()
        self._fill_table()  # Repeat, Save and Cancel are off once the result is saved
        self._show(self.machine.prompt)
        said = f"Saved profile '{profile.name}'" if self.save else f"Profile '{profile.name}' ready"
        if profile.complete:
            self._message(f"{said}.", GOOD_COLOR)
        else:
            self._message(f"{said} without {missing_text(profile)}: press C later to redo only that.", PUSH_COLOR)
        self.finished.emit(profile)
        return profile

    # --- data ---------------------------------------------------------------------------------------
    def attach(self, acquisition: Acquisition, interval_ms: int = 40) -> None:
        """Pull new samples from ``acquisition``'s ring buffer on a timer."""
        self.acquisition = acquisition
        self._timer.start(interval_ms)

    def detach(self) -> None:
        """Stop pulling from the acquisition (the dashboard takes the stream back)."""
        self._timer.stop()
        self.acquisition = None

    def pull(self) -> None:
        """One timer tick: feed what the acquisition wrote since the last tick."""
        acq = self.acquisition
        if acq is None or acq.ring is None:
            return
        if self._next_index is None:  # not started: show the level of the newest samples only
            self._next_index = max(acq.ring.index - int(0.2 * self.info.fs), 0)
        start, missed, data = acq.ring.since(self._next_index, fields=("raw", "envelope"))
        self._missed += missed
        n = data["envelope"].shape[0]
        if n:
            self._next_index = start + n
            self.feed(data["envelope"], data["raw"])

    def feed(self, envelope: np.ndarray, raw: np.ndarray | None = None) -> list[Event]:
        """Advance on a block of envelope samples (samples, channels) in the chain's units, with raw if known."""
        env = np.asarray(envelope, dtype=np.float64)
        env = env[:, None] if env.ndim == 1 else env
        self.plot.remember(env)
        events = self.machine.feed(env, raw)
        self._handle(events)
        return events

    # --- display -------------------------------------------------------------------------------------
    def _handle(self, events: list[Event]) -> None:
        for event in events:
            if event.kind == "phase":
                self._phase_count += 1
                self.phase_changed.emit(event.prompt)
            elif event.kind == "trial" and event.trial is not None:
                self.trial_finished.emit(self.machine.trials[event.trial.id])
            elif event.kind == "decide" and event.trial is not None:
                self.decision_needed.emit(event.trial)
            elif event.kind == "cancelled":
                self.cancelled.emit()
        if any(e.kind in ("trial", "phase", "decide", "done") for e in events):
            self._fill_table()
        self._show(self.machine.prompt)

    def _message(self, text: str, color: str) -> None:
        self.detail_label.setText(text)
        self.detail_label.setStyleSheet(f"color: {color};")

    def _show(self, prompt: Prompt) -> None:
        phase = prompt.phase
        color = phase_color(phase, self.theme, self.machine.result() if phase is Phase.DONE else None)
        text = prompt.text
        if prompt.label and text.startswith(prompt.label + ": "):  # the step line above names the muscle
            text = text[len(prompt.label) + 2 :].capitalize()
        self.prompt_label.setText(text)
        self.prompt_label.setStyleSheet(f"color: {color};")
        self.countdown_label.setText(f"{math.ceil(prompt.remaining_s - 1e-9)} s" if prompt.remaining_s > 0 else "")
        if prompt.trial:
            step = f"{prompt.label}: trial {prompt.trial} of {prompt.trials}"
        elif phase in (Phase.READY, Phase.BASELINE):
            step = f"Rest baseline, then {len(self.plan.tests)} muscles"
        else:
            step = prompt.label
        self.step_label.setText(f"{step}    ({prompt.done} of {prompt.total} trials done)")
        if self.profile is None:
            self.detail_label.setText(prompt.detail)
            self.detail_label.setStyleSheet(f"color: {self.theme.text};")
        noise = self.machine.noise[self.machine.test.channel]
        caption = f"{times_rest(prompt.level / noise)} rest" if np.isfinite(noise) and noise > 0 else ""
        bar_color = PUSH_COLOR if phase is Phase.CONTRACT else self.theme.muted
        self.level_bar.set_level(prompt.level_fraction, prompt.best_fraction, bar_color, caption)
        self._draw_trace()
        waiting = self.machine.pending is not None
        self.start_button.setText("Save [Enter]" if phase is Phase.DONE else "Start [Space]")
        self.start_button.setEnabled(phase in (Phase.READY, Phase.DONE) and self.profile is None)
        self.accept_button.setEnabled(waiting)
        self.skip_button.setEnabled(waiting)
        self.repeat_button.setEnabled(bool(self.machine.trials) and phase is not Phase.CANCELLED and self.profile is None)
        self.cancel_button.setEnabled(not self.machine.finished)

    def _draw_trace(self) -> None:
        ch = self.machine.test.channel
        best = max((t.peak for t in self.machine.trials if t.channel == ch and t.status.counted), default=math.nan)
        self.plot.draw(ch, best)

    def _fill_table(self) -> None:
        repeatable = self.machine.phase is not Phase.CANCELLED and self.profile is None
        self.table.show_trials(self.machine.trials, self.machine.prompt, self.machine.pending, repeatable=repeatable)

    def scroll_to_current(self) -> None:
        """Scroll the trial table so the current trial's row is fully visible."""
        self.table.scroll_to_current()

    def sizeHint(self) -> QSize:
        return QSize(1280, 800)
