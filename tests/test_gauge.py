"""The %MVC gauge rendered offscreen: the number and the frame in the state's colour, cached numbers redrawn right."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage

from emgfeedback.config import Band
from emgfeedback.feedback import State
from emgfeedback.ui.gauge import MuscleGauge
from emgfeedback.ui.theme import DARK


def _count(image: QImage, area: QRect, color: QColor) -> int:
    """Pixels of ``area`` within a small distance of ``color``."""
    hits = 0
    for y in range(area.top(), area.bottom(), 2):
        for x in range(area.left(), area.right(), 2):
            c = QColor(image.pixel(x, y))
            hits += abs(c.red() - color.red()) + abs(c.green() - color.green()) + abs(c.blue() - color.blue()) < 30
    return hits


def _gauge(qtbot) -> MuscleGauge:
    gauge = MuscleGauge("glute_max_left", Band(30.0, 50.0), theme=DARK)
    qtbot.addWidget(gauge)
    gauge.resize(330, 700)
    gauge.show()
    qtbot.waitExposed(gauge)
    return gauge


def test_number_and_frame_take_the_state_colour_and_follow_the_value(qtbot) -> None:
    gauge = _gauge(qtbot)
    number = QRect(0, int(700 * 0.08), 330, int(700 * 0.16))
    frame = QRect(0, 300, 8, 100)  # the left edge of the thick frame
    green, red = DARK.state_color(State.IN), DARK.state_color(State.OVER)
    gauge.set_value(40.0, State.IN)
    image = in_band = gauge.grab().toImage()
    assert gauge.value_text == "40%"
    assert _count(image, number, green) > 200 and _count(image, number, red) == 0
    assert _count(image, frame, green) > 20
    gauge.set_value(65.0, State.OVER)  # a new state shows at once, number and frame
    image = gauge.grab().toImage()
    assert gauge.value_text == "65%"
    assert _count(image, number, red) > 200 and _count(image, number, green) == 0
    assert _count(image, frame, red) > 20 and _count(image, frame, green) == 0
    gauge.set_value(40.0, State.IN)  # the cached "40%" in green again, pixel for pixel
    assert gauge.grab().toImage().copy(number) == in_band.copy(number)


def test_cached_numbers_are_centred(qtbot) -> None:
    """The number comes from a pixmap as wide as its text, placed in the middle of the gauge."""
    gauge = _gauge(qtbot)
    gauge.set_value(47.0, State.IN)
    first = gauge.grab().toImage()
    number = QRect(0, int(700 * 0.08), 330, int(700 * 0.16))
    ink = _count(first, number, DARK.state_color(State.IN))
    left = _count(first, QRect(0, number.top(), 165, number.height()), DARK.state_color(State.IN))
    assert ink > 200 and 0.35 < left / ink < 0.65  # centred


def test_the_bar_repaints_only_once_the_value_moved_a_whole_percent(qtbot, monkeypatch) -> None:
    """A value hovering at x.5 must not repaint the bar every frame; a real move of the bar repaints it."""
    from PySide6.QtCore import QEvent, QObject

    from emgfeedback.ui import gauge as gauge_module

    monkeypatch.setattr(gauge_module, "NUMBER_EVERY_S", 1e9)  # the number stays: only the bar could repaint
    gauge = _gauge(qtbot)

    class Paints(QObject):
        count = 0

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                Paints.count += 1
            return False

    paints = Paints()
    gauge.installEventFilter(paints)
    gauge.set_value(42.4, State.IN)
    qtbot.waitUntil(lambda: Paints.count > 0, timeout=2000)  # the new state drawn whole
    Paints.count = 0
    for value in (42.6, 42.4, 42.7, 42.3, 43.3):  # whole percents flip, the value moves less than one
        gauge.set_value(value, State.IN)
        qtbot.wait(1)  # let Qt deliver a repaint, if any was asked for
    assert Paints.count == 0
    gauge.set_value(44.0, State.IN)  # 1.6 points from the drawn 42.4
    qtbot.waitUntil(lambda: Paints.count > 0, timeout=2000)
