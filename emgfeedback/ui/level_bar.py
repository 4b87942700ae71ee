"""The calibration level bar: the live level of the muscle being tested, with the best trial marked."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from emgfeedback.ui.theme import DARK, Theme, font


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
        """Show ``fraction`` (0..1) of full scale filled in ``color``, ``best`` as a marker, ``caption`` beside it."""
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
