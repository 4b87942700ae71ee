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
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeyEvent, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from emgfeedback.calibration.checks import times_rest
from emgfeedback.calibration.machine import CalibrationMachine
from emgfeedback.calibration.plan import CalibrationPlan, default_muscles
from emgfeedback.calibration.profile import Profile, save_profile
from emgfeedback.calibration.protocol import MvcProtocol, available_protocols
from emgfeedback.calibration.results import Decision, Event, Phase, Prompt, Trial, TrialStatus
from emgfeedback.config import FilterSpec, StreamInfo
from emgfeedback.errors import ProfileError, SettingsError
from emgfeedback.runtime.acquisition import Acquisition
from emgfeedback.ui.theme import DARK, Theme, font, scrollbar_css

#: Seconds of envelope history drawn, and the decimation of the drawn trace.
HISTORY_S = 12.0
TRACE_STRIDE = 10
#: Colours of the big prompt per phase (paired with words, never colour alone).
PUSH_COLOR = "#ffd23f"
RELAX_COLOR = "#56b4e9"
FAIL_COLOR = "#ff5c5c"
GOOD_COLOR = "#3fb950"


class LevelBar(QWidget):
    """A wide horizontal bar: the live level of the muscle being tested, the best trial as a marker."""

    def __init__(self, parent: QWidget | None = None, *, theme: Theme = DARK) -> None:
        super().__init__(parent)
        self.theme = theme
        self.fraction = 0.0
        self.best = math.nan
        self.color = QColor(theme.text)
        self.caption = ""
        self.setMinimumHeight(90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(800, 100)

    def set_level(self, fraction: float, best: float, color: str, caption: str) -> None:
        shown = (round(self.fraction, 3), round(self.best, 3) if math.isfinite(self.best) else None, self.caption)
        new = (round(fraction, 3), round(best, 3) if math.isfinite(best) else None, caption)
        self.fraction, self.best, self.color = fraction, best, QColor(color)
        self.caption = caption
        if shown != new:
            self.update()

    def paintEvent(self, event: object) -> None:
        t = self.theme
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        caption_w = 230.0  # the caption sits right of the bar, never on the fill
        rect = QRectF(4, 4, self.width() - 8 - caption_w, self.height() - 8)
        p.setPen(QPen(QColor(t.grid), 3))
        p.setBrush(QColor(t.background))
        p.drawRoundedRect(rect, 12, 12)
        inner = rect.adjusted(8, 8, -8, -8)
        if self.fraction > 0:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self.color)
            p.drawRoundedRect(QRectF(inner.left(), inner.top(), inner.width() * min(self.fraction, 1.0), inner.height()), 8, 8)
        if math.isfinite(self.best) and 0 < self.best <= 1.0:
            x = inner.left() + inner.width() * self.best
            p.setPen(QPen(QColor(t.text), 5))
            p.drawLine(x, rect.top() - 2, x, rect.bottom() + 2)
        if self.caption:
            p.setPen(QColor(t.text))
            p.setFont(font(24, bold=True))
            where = QRectF(rect.right() + 12, rect.top(), caption_w - 12, rect.height())
            p.drawText(where, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.caption)


class CalibrationWizard(QWidget):
    """Guides one calibration on :class:`CalibrationMachine`; saves a :class:`Profile` at the end."""

    phase_changed = Signal(object)  # Prompt, when a new phase begins
    trial_finished = Signal(object)  # Trial, as judged
    decision_needed = Signal(object)  # Trial, a failed one waiting for repeat / accept / skip
    finished = Signal(object)  # Profile, saved (unless save=False)
    cancelled = Signal()

    COLUMNS = ("Muscle", "Trial", "Peak", "x rest", "Verdict", "")

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
    ) -> None:
        super().__init__(parent)
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
        n_hist = int(HISTORY_S * info.fs / TRACE_STRIDE)
        self._history = np.full((n_hist, info.channels), np.nan)
        self._phase_count = 0
        self.setObjectName("calibrationWizard")
        self.setAccessibleName("MVC calibration")
        self._build(name)
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
    ) -> CalibrationWizard:
        """A wizard on a running acquisition (opened: info and pipeline known), pulling on a timer.

        Without a ``plan`` one is built from ``muscles`` (default: the stream's channel names when
        they are muscle names) and the available protocols.
        """
        if acquisition.info is None or acquisition.pipeline is None:
            raise SettingsError("the source is not open yet: wait for it to connect, then calibrate")
        info = acquisition.info
        if plan is None:
            protos = dict(protocols) if protocols is not None else available_protocols()
            mapping = dict(muscles) if muscles is not None else default_muscles(info.names, protos)
            if not mapping:
                raise SettingsError(
                    f"the channels ({', '.join(info.names)}) are not muscle names: choose a profile or map the muscles first"
                )
            plan = CalibrationPlan.build(mapping, protos, channels=info.channels, rest_between_s=rest_between_s)
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
        )
        wizard.attach(acquisition)
        return wizard

    def _label(self, points: int, *, bold: bool = False, color: str | None = None, wrap: bool = False) -> QLabel:
        label = QLabel("")
        label.setFont(font(points, bold=bold))
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(wrap)
        label.setStyleSheet(f"color: {color or self.theme.text};")
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # long text wraps, never widens
        return label

    def _button(self, text: str, slot: object) -> QPushButton:
        button = QPushButton(text)
        button.setFont(font(14, bold=True))
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys drive the wizard, not the focused button
        button.clicked.connect(slot)
        return button

    def _build(self, name: str) -> None:
        t = self.theme
        self.setAutoFillBackground(True)
        self.setStyleSheet(
            f"QWidget#calibrationWizard {{ background: {t.background}; }}"
            f"QTableWidget {{ background: {t.panel}; color: {t.text}; gridline-color: {t.grid}; font-size: 15pt; }}"
            f"QHeaderView::section {{ background: {t.panel}; color: {t.muted}; font-size: 13pt; border: none; padding: 4px; }}"
            f"QLineEdit {{ background: {t.panel}; color: {t.text}; border: 2px solid {t.grid}; font-size: 16pt; padding: 4px; }}"
            f"QPushButton {{ background: {t.panel}; color: {t.text}; border: 2px solid {t.grid}; border-radius: 8px;"
            f" padding: 8px 16px; }}"
            f"QPushButton:disabled {{ color: {t.grid}; }}" + scrollbar_css(t)
        )
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
        self.plot = pg.PlotWidget()
        self.plot.setBackground(t.background)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setXRange(-HISTORY_S, 0, padding=0)
        self.plot.setLabel("bottom", "seconds")
        self.plot.setLabel("left", f"envelope ({self.info.units})")
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setPen(pg.mkPen(t.muted))
            self.plot.getAxis(axis).setTextPen(pg.mkPen(t.text))
        self.curve = self.plot.plot(pen=pg.mkPen(PUSH_COLOR, width=3), connect="finite")
        self.best_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(t.text, width=2, style=Qt.PenStyle.DashLine))
        self.best_line.setVisible(False)
        self.plot.addItem(self.best_line)
        self.plot.setMinimumHeight(160)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(40)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(150)
        self._focus_row = -1
        self._trial_rows = 0  # rows holding finished trials (a row for the trial in progress may follow)
        # the table's height settles in a later layout pass: keep the current row in view when it does
        self.table.verticalScrollBar().rangeChanged.connect(lambda *_: self.scroll_to_current())
        middle = QHBoxLayout()
        middle.addWidget(self.plot, 2)
        middle.addWidget(self.table, 3)
        self.name_edit = QLineEdit(name)
        self.name_edit.setPlaceholderText("profile name, e.g. both sides, standard placement")
        self.name_edit.setAccessibleName("profile name")
        self.name_edit.setCursorPosition(0)
        self.name_edit.returnPressed.connect(self.next_action)
        self.start_button = self._button("Start [Space]", self.next_action)
        self.repeat_button = self._button("Repeat [R]", self.repeat_last)
        self.accept_button = self._button("Accept [A]", lambda: self.decide(Decision.ACCEPT))
        self.skip_button = self._button("Skip [S]", lambda: self.decide(Decision.SKIP))
        self.cancel_button = self._button("Cancel [Esc]", self.cancel)
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
        self._keys: dict[int, object] = {
            Qt.Key.Key_Space: self.next_action,
            Qt.Key.Key_Return: self.next_action,
            Qt.Key.Key_Enter: self.next_action,
            Qt.Key.Key_R: self.repeat_last,
            Qt.Key.Key_A: lambda: self.decide(Decision.ACCEPT),
            Qt.Key.Key_S: lambda: self.decide(Decision.SKIP),
            Qt.Key.Key_Escape: self.cancel,
        }
        for keys, slot in (
            (["Space", "Return", "Enter"], self.next_action),
            (["R"], self.repeat_last),
            (["A"], lambda: self.decide(Decision.ACCEPT)),
            (["S"], lambda: self.decide(Decision.SKIP)),
            (["Escape"], self.cancel),
        ):
            action = QAction(self)
            action.setShortcuts([QKeySequence(k) for k in keys])
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
            profile = Profile.from_result(
                name,
                self.machine.result(),
                self.spec,
                self.info,
                protocols=self.plan.protocols(),
                scale=self.scale,
                source=self.source_text,
            )
            if self.save:
                path = save_profile(profile)
                profile = replace(profile, path=path)
        except (ProfileError, SettingsError, OSError) as exc:
            self._message(str(exc), FAIL_COLOR)
            return None
        self.profile = profile
        self._timer.stop()
        self._message(f"Saved profile '{profile.name}'." if self.save else f"Profile '{profile.name}' ready.", GOOD_COLOR)
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
        self._remember(env)
        events = self.machine.feed(env, raw)
        self._handle(events)
        return events

    def _remember(self, env: np.ndarray) -> None:
        dec = env[::TRACE_STRIDE]
        n = min(dec.shape[0], self._history.shape[0])
        if n:
            self._history = np.roll(self._history, -n, axis=0)
            self._history[-n:] = dec[-n:]

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
        color = {
            Phase.CONTRACT: PUSH_COLOR,
            Phase.COUNTDOWN: PUSH_COLOR,
            Phase.RELAX: RELAX_COLOR,
            Phase.BASELINE: RELAX_COLOR,
            Phase.DECIDE: FAIL_COLOR,
            Phase.CANCELLED: FAIL_COLOR,
        }.get(phase, self.theme.text)
        if phase is Phase.DONE:
            color = GOOD_COLOR if self.machine.result().ok else FAIL_COLOR
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
        self.repeat_button.setEnabled(bool(self.machine.trials) and self.machine.phase is not Phase.CANCELLED)
        self.cancel_button.setEnabled(not self.machine.finished)

    def _draw_trace(self) -> None:
        ch = self.machine.test.channel
        y = self._history[:, ch]
        x = (np.arange(y.shape[0]) - y.shape[0]) * TRACE_STRIDE / self.info.fs
        self.curve.setData(x, y)
        best = max((t.peak for t in self.machine.trials if t.channel == ch and t.status.counted), default=math.nan)
        self.best_line.setVisible(math.isfinite(best))
        if math.isfinite(best):
            self.best_line.setValue(best)

    def _fill_table(self) -> None:
        """One row per trial, repeats included (a repeated one stays, greyed): rows never move.

        The table keeps the current trial's row (the newest, or the one being repeated) in view,
        also when a later layout pass shrinks the table.
        """
        trials = self.machine.trials
        prompt = self.machine.prompt
        running = prompt.phase in (Phase.COUNTDOWN, Phase.CONTRACT) and prompt.trial > 0
        old = self._trial_rows
        self.table.setRowCount(len(trials) + running)
        for row, trial in enumerate(trials):
            self._fill_row(row, trial, new=row >= old)
        self._trial_rows = len(trials)
        if running:  # the trial in progress, in the row its result will take
            self._fill_current_row(len(trials), prompt)
        pending = self.machine.pending
        if pending is not None and 0 <= pending.id < len(trials):
            self._focus_row = pending.id
        else:
            self._focus_row = self.table.rowCount() - 1
        self.scroll_to_current()

    def _fill_current_row(self, row: int, prompt: Prompt) -> None:
        cells = (prompt.label, f"{prompt.trial}", "", "", "now" if prompt.phase is Phase.CONTRACT else "next")
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setForeground(QColor(PUSH_COLOR if col == 4 else self.theme.text))
            item.setFont(font(15, bold=True))
            self.table.setItem(row, col, item)
        self.table.removeCellWidget(row, 5)

    def scroll_to_current(self) -> None:
        """Scroll the trial table so the current trial's row is fully visible."""
        row = self._focus_row
        if 0 <= row < self.table.rowCount():
            self.table.scrollTo(self.table.model().index(row, 0), QAbstractItemView.ScrollHint.EnsureVisible)

    def _fill_row(self, row: int, trial: Trial, *, new: bool) -> None:
        status = trial.status
        verdict = "good" if not trial.problems else trial.verdict
        if status is TrialStatus.PENDING:
            verdict += ": repeat?"
        elif status is not TrialStatus.PASSED:
            verdict += f" ({'repeated' if status is TrialStatus.REPLACED else status.value})"
        cells = (
            trial.label.rsplit(", trial", 1)[0],
            f"{trial.number}" + (f" (try {trial.attempt})" if trial.attempt > 1 else ""),
            f"{trial.peak:.4g}",
            times_rest(trial.ratio),
            verdict,
        )
        if status is TrialStatus.REPLACED:
            color = QColor(self.theme.muted)
        elif status is TrialStatus.PASSED:
            color = QColor(GOOD_COLOR)
        else:
            color = QColor(FAIL_COLOR if trial.failed else self.theme.text)
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setForeground(color if col == 4 or status is TrialStatus.REPLACED else QColor(self.theme.text))
            item.setToolTip(" ".join(p.message for p in trial.problems))
            self.table.setItem(row, col, item)
        button = self.table.cellWidget(row, 5) if not new else None
        if not isinstance(button, QPushButton):
            button = QPushButton("Repeat")
            button.setFont(font(13, bold=True))
            button.setStyleSheet("padding: 2px 12px;")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAccessibleName(f"repeat {trial.label}")
            button.clicked.connect(lambda _=False, tid=trial.id: self.repeat_trial(tid))
            self.table.setCellWidget(row, 5, button)
        button.setEnabled(
            status is not TrialStatus.REPLACED and self.machine.phase is not Phase.CANCELLED and self.profile is None
        )

    def sizeHint(self) -> QSize:
        return QSize(1280, 800)
