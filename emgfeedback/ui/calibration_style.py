"""The calibration wizard's look: phase colours, its style sheet, and its big labels and key buttons."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy

from emgfeedback.calibration.results import CalibrationResult, Phase
from emgfeedback.ui.theme import Theme, font, scrollbar_css

#: Colours of the big prompt and the verdicts (paired with words, never colour alone).
PUSH_COLOR = "#ffd23f"
RELAX_COLOR = "#56b4e9"
FAIL_COLOR = "#ff5c5c"
GOOD_COLOR = "#3fb950"


def phase_color(phase: Phase, theme: Theme, result: CalibrationResult | None = None) -> str:
    """The big prompt's colour in ``phase``; at the end: green when every muscle passed, yellow when
    some did (a partial profile), red when none did."""
    if phase is Phase.DONE and result is not None:
        return GOOD_COLOR if result.ok else PUSH_COLOR if result.kept else FAIL_COLOR
    return {
        Phase.CONTRACT: PUSH_COLOR,
        Phase.COUNTDOWN: PUSH_COLOR,
        Phase.RELAX: RELAX_COLOR,
        Phase.BASELINE: RELAX_COLOR,
        Phase.DECIDE: FAIL_COLOR,
        Phase.CANCELLED: FAIL_COLOR,
    }.get(phase, theme.text)


def wizard_css(t: Theme) -> str:
    """The wizard's style sheet in theme ``t`` (tables, fields and buttons readable from afar)."""
    return (
        f"QWidget#calibrationWizard {{ background: {t.background}; }}"
        f"QTableWidget {{ background: {t.panel}; color: {t.text}; gridline-color: {t.grid}; font-size: 15pt; }}"
        f"QHeaderView::section {{ background: {t.panel}; color: {t.muted}; font-size: 13pt; border: none; padding: 4px; }}"
        f"QLineEdit {{ background: {t.panel}; color: {t.text}; border: 2px solid {t.grid}; font-size: 16pt; padding: 4px; }}"
        f"QPushButton {{ background: {t.panel}; color: {t.text}; border: 2px solid {t.grid}; border-radius: 8px;"
        f" padding: 8px 16px; }}"
        f"QPushButton:disabled {{ color: {t.grid}; }}" + scrollbar_css(t)
    )


def big_label(points: int, color: str, *, bold: bool = False, wrap: bool = False) -> QLabel:
    """A centred label whose long text wraps instead of widening the window."""
    label = QLabel("")
    label.setFont(font(points, bold=bold))
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(wrap)
    label.setStyleSheet(f"color: {color};")
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def key_button(text: str, slot: Callable[[], object]) -> QPushButton:
    """A button that never takes the focus: keys drive the wizard, not the focused button."""
    button = QPushButton(text)
    button.setFont(font(14, bold=True))
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.clicked.connect(slot)
    return button
