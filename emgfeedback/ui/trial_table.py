"""The calibration wizard's results table: one row per trial (repeats stay, greyed), a Repeat button each."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QPushButton, QTableWidget, QTableWidgetItem, QWidget

from emgfeedback.calibration.checks import times_rest
from emgfeedback.calibration.results import Phase, Prompt, Trial, TrialStatus
from emgfeedback.ui.calibration_style import FAIL_COLOR, GOOD_COLOR, PUSH_COLOR
from emgfeedback.ui.theme import DARK, Theme, font


class TrialTable(QTableWidget):
    """Trial results; ``repeat_requested(trial id)`` when a row's Repeat button is clicked.

    Rows never move, and the current trial's row (the newest, or the one waiting for a
    decision) stays in view, also when a later layout pass shrinks the table.
    """

    COLUMNS = ("Muscle", "Trial", "Peak", "x rest", "Verdict", "")
    repeat_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, theme: Theme = DARK) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self.theme = theme
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(40)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.setMinimumHeight(150)
        self._focus_row = -1
        self._trial_rows = 0  # rows holding finished trials (a row for the trial in progress may follow)
        # the table's height settles in a later layout pass: keep the current row in view when it does
        self.verticalScrollBar().rangeChanged.connect(lambda *_: self.scroll_to_current())

    def show_trials(self, trials: Sequence[Trial], prompt: Prompt, pending: Trial | None, *, repeatable: bool) -> None:
        """Fill one row per trial, plus a row for the trial in progress; ``repeatable`` enables the Repeat buttons."""
        running = prompt.phase in (Phase.COUNTDOWN, Phase.CONTRACT) and prompt.trial > 0
        old = self._trial_rows
        self.setRowCount(len(trials) + running)
        for row, trial in enumerate(trials):
            self._fill_row(row, trial, new=row >= old, repeatable=repeatable)
        self._trial_rows = len(trials)
        if running:  # the trial in progress, in the row its result will take
            self._fill_current_row(len(trials), prompt)
        if pending is not None and 0 <= pending.id < len(trials):
            self._focus_row = pending.id
        else:
            self._focus_row = self.rowCount() - 1
        self.scroll_to_current()

    def scroll_to_current(self) -> None:
        """Scroll so the current trial's row is fully visible."""
        row = self._focus_row
        if 0 <= row < self.rowCount():
            self.scrollTo(self.model().index(row, 0), QAbstractItemView.ScrollHint.EnsureVisible)

    def _fill_current_row(self, row: int, prompt: Prompt) -> None:
        cells = (prompt.label, f"{prompt.trial}", "", "", "now" if prompt.phase is Phase.CONTRACT else "next")
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setForeground(QColor(PUSH_COLOR if col == 4 else self.theme.text))
            item.setFont(font(15, bold=True))
            self.setItem(row, col, item)
        self.removeCellWidget(row, 5)

    def _fill_row(self, row: int, trial: Trial, *, new: bool, repeatable: bool) -> None:
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
            self.setItem(row, col, item)
        button = self.cellWidget(row, 5) if not new else None
        if not isinstance(button, QPushButton):
            button = QPushButton("Repeat")
            button.setFont(font(13, bold=True))
            button.setStyleSheet("padding: 2px 12px;")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAccessibleName(f"repeat {trial.label}")
            button.clicked.connect(lambda _=False, tid=trial.id: self.repeat_requested.emit(tid))
            self.setCellWidget(row, 5, button)
        button.setEnabled(status is not TrialStatus.REPLACED and repeatable)
