"""Colours and fonts: high contrast, readable from 3 m, dark and light variants.

State colours are paired with words and arrows on screen, so nothing relies on colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from emgfeedback.feedback import State
from emgfeedback.palette import palette


@dataclass(frozen=True)
class Theme:
    """One colour scheme."""

    name: str
    background: str
    panel: str
    text: str
    muted: str
    grid: str
    band: str
    states: dict[State, str]
    traces: tuple[str, ...]

    def state_color(self, state: State) -> QColor:
        return QColor(self.states[state])

    def band_color(self, alpha: int = 70) -> QColor:
        """The band's fill: its colour, translucent."""
        c = QColor(self.band)
        c.setAlpha(alpha)
        return c


DARK = Theme(
    name="dark",
    background="#0d1117",
    panel="#161b22",
    text="#f0f6fc",
    muted="#9da7b3",
    grid="#30363d",
    band="#2ea043",
    states={State.UNKNOWN: "#6e7681", State.BELOW: "#58a6ff", State.IN: "#3fb950", State.OVER: "#ff5c5c"},
    traces=palette("dark"),
)
LIGHT = Theme(
    name="light",
    background="#ffffff",
    panel="#f3f4f6",
    text="#0b0f14",
    muted="#4b5563",
    grid="#d0d7de",
    band="#1a7f37",
    states={State.UNKNOWN: "#6e7781", State.BELOW: "#0550ae", State.IN: "#1a7f37", State.OVER: "#cf222e"},
    traces=palette("light"),
)
THEMES = {"dark": DARK, "light": LIGHT}

#: What each state says on a gauge, with an arrow telling which way to go.
STATE_WORDS = {
    State.UNKNOWN: "NO SIGNAL",
    State.BELOW: "LOW  \u2191 a bit more",
    State.IN: "IN BAND",
    State.OVER: "EASE OFF  \u2193",
}


def font(points: int, bold: bool = False) -> QFont:
    """A UI font of ``points`` size."""
    f = QFont()
    f.setPointSize(points)
    f.setBold(bold)
    return f


def scrollbar_css(theme: Theme) -> str:
    """Scroll bars in the theme's colours (the platform's are white on a dark window), wide enough to grab."""
    return (
        f"QScrollBar:vertical {{ background: {theme.panel}; width: 18px; margin: 0; border: none; }}"
        f"QScrollBar:horizontal {{ background: {theme.panel}; height: 18px; margin: 0; border: none; }}"
        f"QScrollBar::handle {{ background: {theme.muted}; border-radius: 6px; margin: 3px; }}"
        f"QScrollBar::handle:vertical {{ min-height: 40px; }}"
        f"QScrollBar::handle:horizontal {{ min-width: 40px; }}"
        f"QScrollBar::handle:hover {{ background: {theme.text}; }}"
        "QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; border: none; background: none; }"
        "QScrollBar::add-page, QScrollBar::sub-page { background: none; }"
        f"QAbstractScrollArea::corner {{ background: {theme.panel}; }}"
    )


def apply_theme(app: QApplication, theme: Theme) -> None:
    """Set the application palette and a base stylesheet for ``theme``."""
    pal = QPalette()
    bg, panel, text = QColor(theme.background), QColor(theme.panel), QColor(theme.text)
    for role, color in (
        (QPalette.ColorRole.Window, bg),
        (QPalette.ColorRole.Base, panel),
        (QPalette.ColorRole.AlternateBase, bg),
        (QPalette.ColorRole.Button, panel),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.ToolTipBase, panel),
        (QPalette.ColorRole.ToolTipText, text),
    ):
        pal.setColor(role, color)
    app.setPalette(pal)
    app.setStyleSheet(
        f"QWidget {{ color: {theme.text}; }}"
        f"QMainWindow, QDialog {{ background: {theme.background}; }}"
        f"QPushButton {{ background: {theme.panel}; border: 2px solid {theme.grid}; border-radius: 8px;"
        f" padding: 8px 16px; font-size: 16pt; }}"
        f"QPushButton:checked {{ border-color: {theme.states[State.IN]}; }}"
        f"QPushButton:focus {{ border-color: {theme.text}; }}"
        f"QStatusBar {{ background: {theme.panel}; font-size: 12pt; }}"
        f"QStatusBar QLabel {{ padding: 0 8px; }}"
        f"QFrame#card {{ background: {theme.panel}; border: 3px solid {theme.grid}; border-radius: 14px; }}"
        + scrollbar_css(theme)
    )
