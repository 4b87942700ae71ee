"""A large vertical %MVC gauge with the target band drawn on it, readable from across a room."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from emgfeedback.config import Band
from emgfeedback.feedback import State
from emgfeedback.muscles import display_name
from emgfeedback.ui.theme import DARK, STATE_WORDS, Theme, font

#: Shortest time between two changes of the number (s): five a second can be read; the bar moves every frame.
NUMBER_EVERY_S = 0.2
#: Most numbers kept drawn per gauge (each a few tens of kB): the values and colours of a hold or two.
NUMBER_CACHE = 64
#: The bar's widest, in pixels: wider cards (one or two channels) get a wider bar, not a wider gap.
MAX_BAR_WIDTH = 420.0


def _whole(pct: float | None) -> int | None:
    """``pct`` in whole percents (None when unknown): what the bar and the figures can show."""
    return round(pct) if pct is not None and math.isfinite(pct) else None


def _bar_moved(drawn: float, value: float) -> bool:
    """Whether the bar must move: by a whole percent or more (about 3 px, the bar's resolution), or to or from
    unknown. A value hovering at x.5 would otherwise flip between two whole percents every frame (a fifth of
    all bar repaints on a steady hold)."""
    if math.isfinite(drawn) and math.isfinite(value):
        return abs(value - drawn) >= 1.0
    return math.isfinite(drawn) != math.isfinite(value)


def _percent_text(pct: float) -> str:
    return f"{pct:.0f}%" if math.isfinite(pct) else "--"


class MuscleGauge(QWidget):
    """One muscle: name, a bar from 0 to ``scale_max`` %MVC, the band, the value and the state."""

    def __init__(
        self, muscle: str, band: Band, parent: QWidget | None = None, *, theme: Theme = DARK, scale_max: float = 100.0
    ) -> None:
        super().__init__(parent)
        self.muscle = muscle
        self.band = band
        self.theme = theme
        self.scale_max = scale_max
        self.value = math.nan
        self.state = State.UNKNOWN
        self.in_band_pct: float | None = None
        self.hint = ""
        self._text = "--"  # the number shown, and when it last changed
        self._text_at = -math.inf
        self._drawn_value = math.nan  # the value the bar is drawn at
        self._in_band_whole: int | None = None  # in_band_pct in whole percents, as shown
        self._bar: tuple[tuple[int, int], tuple[float, float, float, float]] | None = None  # (size, bar geometry)
        self._kit_for: Theme | None = None  # the theme _colors and _edge_pen were made for
        self._colors: dict[State, QColor] = {}
        self._edge_pen = QPen()
        self._cache: QPixmap | None = None  # the static layer (see _static_layer)
        self._cache_key: tuple[object, ...] = ()
        self._numbers: dict[tuple[object, ...], QPixmap] = {}  # the number drawn, by text, colour and size
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # the static layer covers every pixel
        self.setMinimumSize(200, 300)  # room for a program panel above on a laptop screen; fonts scale with height
        self.setAccessibleName(f"{display_name(muscle)} gauge")

    def sizeHint(self) -> QSize:
        return QSize(260, 520)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()

    def set_value(self, value: float, state: State, *, in_band_pct: float | None = None, hint: str = "") -> None:
        """Show a new %MVC value and state (and, during a hold, the time in band so far).

        The bar follows every frame once the value has moved a whole percent (:func:`_bar_moved`); the number
        changes at most every :data:`NUMBER_EVERY_S` (a figure that changes 30 times a second cannot be read, and
        costs a repaint each time); a new state, time in band or hint shows at once.
        """
        self.value = value
        in_band = _whole(in_band_pct)
        if state is self.state and in_band == self._in_band_whole and hint == self.hint:
            if _bar_moved(self._drawn_value, value):  # only the part of the bar between old and new
                self.update(self._fill_change(self._drawn_value, value))
                self._drawn_value = value
            text = _percent_text(value)
            if text != self._text:
                now = time.monotonic()
                if now - self._text_at >= NUMBER_EVERY_S:
                    self._show_text(text, now)
                    self.update(self._value_rect().toAlignedRect())
            return
        now = time.monotonic()
        text = _percent_text(value)
        self.state = state
        self.in_band_pct = in_band_pct
        self._in_band_whole = in_band
        self.hint = hint
        self._drawn_value = value
        self._show_text(text, now)
        self.update()

    def _show_text(self, text: str, now: float) -> None:
        self._text, self._text_at = text, now
        self.setAccessibleDescription(f"{text} {STATE_WORDS[self.state]}")

    def _value_rect(self) -> QRectF:
        h = self.height()
        return QRectF(0, h * 0.08, self.width(), h * 0.16)

    def _fill_change(self, old: float, new: float) -> QRect:
        """The pixels that differ between fills at ``old`` and ``new`` %MVC (with the fill's rounded top)."""
        left, top, width, height = self._bar_geometry()
        bottom = top + height
        if math.isfinite(old) and math.isfinite(new):
            y_old, y_new = self._y(old), self._y(new)
            y0, y1 = min(y_old, y_new) - 24, max(y_old, y_new) + 24
        else:  # to or from unknown: the whole bar
            y0, y1 = top - 28, bottom + 24
        x0 = math.floor(left - 12)
        return QRect(x0, math.floor(y0), math.ceil(left + width + 12) - x0, math.ceil(y1) - math.floor(y0))

    @property
    def value_text(self) -> str:
        """The number on the gauge (it trails the value by up to :data:`NUMBER_EVERY_S`)."""
        return self._text

    def _y(self, pct: float) -> float:
        """The row of ``pct`` %MVC on the bar (clamped to the scale)."""
        _, top, _, height = self._bar_geometry()
        return top + height - min(max(pct / self.scale_max, 0.0), 1.0) * height

    def bar_rect(self) -> QRectF:
        """Where the bar is drawn: below the name, value and state word, above the footer; it grows
        with the card (one or two channels) up to :data:`MAX_BAR_WIDTH`."""
        return QRectF(*self._bar_geometry())

    def _bar_geometry(self) -> tuple[float, float, float, float]:
        """:meth:`bar_rect` as (left, top, width, height), worked out once per size (every frame asks)."""
        size = (self.width(), self.height())
        if self._bar is None or self._bar[0] != size:
            w, h = size
            top = h * (0.08 + 0.16 + 0.07) + 8
            bar_w = min(w * 0.42, MAX_BAR_WIDTH)
            self._bar = (size, ((w - bar_w) / 2 + 14, top, bar_w, h - top - h * 0.09))
        return self._bar[1]

    def _static_layer(self) -> QPixmap:
        """What changes only with size, theme, band or scale (panel, name, empty bar, band, scale labels),
        drawn once into a pixmap so each repaint draws only the value, the state and the frame."""
        ratio = self.devicePixelRatioF()
        key = (self.width(), self.height(), ratio, self.theme.name, self.band.low, self.band.high, self.scale_max)
        if self._cache is not None and self._cache_key == key:
            return self._cache
        t = self.theme
        w, h = self.width(), self.height()
        pix = QPixmap(max(round(w * ratio), 1), max(round(h * ratio), 1))
        pix.setDevicePixelRatio(ratio)
        pix.fill(QColor(t.panel))
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QColor(t.text))
        p.setFont(font(max(12, int(h / 30)), bold=True))
        p.drawText(QRectF(0, 4, w, h * 0.08), Qt.AlignmentFlag.AlignCenter, display_name(self.muscle))
        bar = self.bar_rect()
        p.setPen(QPen(QColor(t.grid), 2))
        p.setBrush(QColor(t.background))
        p.drawRoundedRect(bar, 8, 8)
        y_hi, y_lo = self._y(self.band.high), self._y(self.band.low)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(t.band_color(90))
        p.drawRect(QRectF(bar.left(), y_hi, bar.width(), y_lo - y_hi))
        p.setFont(font(max(9, int(h / 48))))
        p.setPen(QColor(t.muted))
        for pct in range(0, int(self.scale_max) + 1, 25):
            y = self._y(pct)
            p.drawText(
                QRectF(bar.left() - 64, y - 10, 46, 20), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{pct}"
            )
        p.setPen(QColor(t.text))
        for edge, y in ((self.band.high, y_hi), (self.band.low, y_lo)):
            p.drawText(
                QRectF(bar.right() + 14, y - 10, 60, 20), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{edge:g}"
            )
        p.end()
        self._cache, self._cache_key = pix, key
        return pix

    def _draw_number(self, p: QPainter, rect: QRectF, color: QColor) -> None:
        """The number in ``color``, centred in ``rect``, from a pixmap made once per text, colour and size: laying
        out and rasterizing glyphs this large costs ~120 us a time, and a hold shows the same few numbers again and
        again. Each pixmap is as wide as its text (a few tens of kB)."""
        ratio = self.devicePixelRatioF()
        key = (self.value_text, color.rgba(), rect.height(), ratio)
        pix = self._numbers.get(key)
        if pix is None:
            if len(self._numbers) >= NUMBER_CACHE:
                self._numbers.clear()
            number_font = font(max(20, int(self.height() / 11)), bold=True)
            width = QFontMetrics(number_font).horizontalAdvance(self.value_text) + 8
            pix = QPixmap(max(round(width * ratio), 1), max(round(rect.height() * ratio), 1))
            pix.setDevicePixelRatio(ratio)
            pix.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pix)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setFont(number_font)
            painter.setPen(color)
            painter.drawText(QRectF(0, 0, width, rect.height()), Qt.AlignmentFlag.AlignCenter, self.value_text)
            painter.end()
            self._numbers[key] = pix
        width = pix.width() / pix.devicePixelRatio()
        p.drawPixmap(QPointF(rect.center().x() - width / 2, rect.top()), pix)

    def _kit(self) -> tuple[dict[State, QColor], QPen]:
        """The theme's state colours and band-edge pen, made once per theme (each repaint uses them)."""
        if self._kit_for is not self.theme:
            t = self.theme
            self._colors = {state: t.state_color(state) for state in State}
            self._edge_pen = QPen(QColor(t.states[State.IN]), 4)
            self._kit_for = t
        return self._colors, self._edge_pen

    def paintEvent(self, event: object) -> None:
        t = self.theme
        colors, edge_pen = self._kit()
        p = QPainter(self)
        static = self._static_layer()
        area = event.rect() if isinstance(event, QPaintEvent) else self.rect()
        ratio = static.devicePixelRatio()
        source = QRectF(area.x() * ratio, area.y() * ratio, area.width() * ratio, area.height() * ratio)
        p.drawPixmap(QRectF(area), static, source)  # only the part being repainted
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        top, bottom = area.top(), area.top() + area.height()  # what is repainted, vertically

        def dirty(y0: float, y1: float) -> bool:
            return y0 < bottom and y1 > top

        state_color = colors[self.state]
        # value and state word (text is laid out even where it is clipped away, so skip what is not repainted)
        name_h, value_h, word_h = h * 0.08, h * 0.16, h * 0.07
        if dirty(name_h, name_h + value_h):
            self._draw_number(p, QRectF(0, name_h, w, value_h), state_color)
        if dirty(name_h + value_h, name_h + value_h + word_h):
            p.setFont(font(max(11, int(h / 32)), bold=True))
            p.setPen(state_color)
            p.drawText(QRectF(0, name_h + value_h, w, word_h), Qt.AlignmentFlag.AlignCenter, STATE_WORDS[self.state])
        # fill up to the value
        footer = h * 0.09
        left, bar_top, bar_w, bar_h = self._bar_geometry()
        bar_bottom = bar_top + bar_h
        if math.isfinite(self._drawn_value):
            y_v = self._y(self._drawn_value)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(state_color)
            p.drawRoundedRect(QRectF(left + 6, y_v, bar_w - 12, bar_bottom - y_v - 3), 5, 5)
            if self._drawn_value > self.scale_max:  # off the scale: an arrow on top
                p.setPen(QPen(state_color, 4))
                p.drawLine(QPointF(left + bar_w / 2, bar_top - 2), QPointF(left + bar_w / 2, bar_top + 14))
        # band edges, over the fill (where repainted)
        p.setPen(edge_pen)
        for edge in (self.band.high, self.band.low):
            y = self._y(edge)
            if dirty(y - 3, y + 3):
                p.drawLine(QPointF(left - 10, y), QPointF(left + bar_w + 10, y))
        # footer: time in band during a hold, or a quality hint
        if dirty(h - footer, h) and (self.hint or self.in_band_pct is not None):
            footer_rect = QRectF(0, h - footer, w, footer)
            p.setFont(font(max(10, int(h / 36)), bold=self.in_band_pct is not None))
            if self.hint:
                p.setPen(colors[State.OVER])
                p.drawText(footer_rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.hint)
            else:
                p.setPen(QColor(t.text))
                p.drawText(footer_rect, Qt.AlignmentFlag.AlignCenter, f"in band {self.in_band_pct:.0f}% of hold")
        # a thick frame in the state colour: visible from far away (stroking it costs more than a small repaint)
        inner = area.left() >= 12 and top >= 12 and area.left() + area.width() <= w - 12 and bottom <= h - 12
        if not inner:
            p.setPen(QPen(state_color, 6))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(QRectF(3, 3, w - 6, h - 6), 12, 12)
        p.end()
