"""The hold timer and the summary card shown after each backbend hold."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from emgfeedback.feedback import HoldSummary
from emgfeedback.muscles import display_name, has_synergy
from emgfeedback.training.describe import fatigue_lines, underbutt_lines
from emgfeedback.ui.theme import font


def synergy_text(pct: float | None) -> str:
    """The synergy figure for the hold header, or "n/a" without a hamstring and a glute max."""
    figure = "n/a" if pct is None else f"{pct:.0f}%"
    return f"hamstring in band, glute not clenching: {figure}"


def format_duration(seconds: float) -> str:
    """``75.3`` -> ``1:15.3``."""
    seconds = max(seconds, 0.0)
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


class HoldTimer(QWidget):
    """A big timer and the hold button; the window drives it from the feedback engine."""

    toggled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 0, 8, 0)
        self.title = QLabel("READY")
        self.title.setFont(font(22, bold=True))
        self.time = QLabel("0:00.0")
        self.time.setFont(font(54, bold=True))
        self.time.setMinimumWidth(260)
        self.detail = QLabel("press Space to start a hold")
        self.detail.setFont(font(15))
        self.button = QPushButton("Start hold  [Space]")
        self.button.setCheckable(True)
        self.button.setFont(font(18, bold=True))
        self.button.setMinimumHeight(64)
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space belongs to the window's shortcut
        self.button.clicked.connect(self.toggled.emit)
        col = QVBoxLayout()
        col.addWidget(self.title)
        col.addWidget(self.detail)
        layout.addWidget(self.time)
        layout.addLayout(col, 1)
        layout.addWidget(self.button)

    def show_running(self, seconds: float, synergy_pct: float | None, overclench: int, auto: bool) -> None:
        """``synergy_pct`` None: the profile lacks a hamstring or a glute max, so the figure is n/a."""
        self.title.setText("HOLD (auto)" if auto else "HOLD")
        self.time.setText(format_duration(seconds))
        self.detail.setText(f"{synergy_text(synergy_pct)}   over-clench: {overclench}")
        self.button.setChecked(True)
        self.button.setText("Stop hold  [Space]")

    def show_idle(self, message: str = "press Space to start a hold") -> None:
        self.title.setText("READY")
        self.detail.setText(message)
        self.button.setChecked(False)
        self.button.setText("Start hold  [Space]")


class SummaryCard(QFrame):
    """What the last hold looked like, in words and numbers a coach can read from afar."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.summary: HoldSummary | None = None
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(28, 20, 28, 20)
        self.heading = QLabel()
        self.heading.setFont(font(28, bold=True))
        self.verdict = QLabel()
        self.verdict.setFont(font(18))
        self.verdict.setWordWrap(True)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(28)
        self.details = QLabel()  # side by side and fatigue: below the table, which a coach reads first
        self.details.setFont(font(14))
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        self.close_button = QPushButton("Close  [Enter / H]")
        self.close_button.clicked.connect(self.dismissed.emit)
        self.layout_.addWidget(self.heading)
        self.layout_.addWidget(self.verdict)
        self.layout_.addLayout(self.grid)
        self.layout_.addWidget(self.details)
        self.layout_.addWidget(self.close_button, alignment=Qt.AlignmentFlag.AlignRight)

    def show_summary(self, summary: HoldSummary) -> None:
        self.summary = summary
        self.heading.setText(f"Hold {summary.number}: {format_duration(summary.duration_s)}")
        lead = summary.hamstring_lead_s
        if lead is None:
            lead_text = ""
        elif abs(lead) < 0.1:
            lead_text = "  The hamstring and the glute reached the band together."
        else:
            lead_text = f"  The hamstring reached the band {abs(lead):.1f} s {'before' if lead > 0 else 'after'} the glute."
        if has_synergy([m.name for m in summary.muscles]):
            self.verdict.setText(
                f"High hamstring in band while the glute max was not over-clenching: "
                f"<b>{summary.synergy_pct:.0f}%</b> of the hold.{lead_text}"
            )
            details = underbutt_lines(summary.underbutt()) + fatigue_lines(summary.fatigue)
        else:
            details = fatigue_lines(summary.fatigue)
            self.verdict.setText(
                "High hamstring in band while the glute max was not over-clenching: <b>n/a</b> "
                "(this profile does not have both a high hamstring and a glute max)."
            )
        self.details.setText("\n".join(details))
        self.details.setVisible(bool(details))
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        headers = ["muscle", "in band", "mean", "peak", "over-clench"]
        for col, text in enumerate(headers):
            label = QLabel(text)
            label.setFont(font(14, bold=True))
            self.grid.addWidget(label, 0, col)
        for row, m in enumerate(summary.muscles, start=1):
            d = m.as_dict(summary.fs)
            mean = d["mean_pct_mvc"]
            cells = [
                display_name(m.name),
                f"{d['time_in_band_pct']:.0f}%  ({d['time_in_band_s']:.1f} s)",
                "--" if not math.isfinite(float(mean)) else f"{float(mean):.0f}%",
                f"{d['peak_pct_mvc']:.0f}%",
                f"{d['overclench_count']}x  ({d['overclench_s']:.1f} s)",
            ]
            for col, text in enumerate(cells):
                label = QLabel(text)
                label.setFont(font(17, bold=col == 1))
                self.grid.addWidget(label, row, col)
        self.setVisible(True)
        self.raise_()
