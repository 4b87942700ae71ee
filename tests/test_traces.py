"""The scrolling envelope plot, rendered offscreen: what it draws, what it leaves out, and when it redraws."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QColor, QImage

from emgfeedback.config import Band
from emgfeedback.feedback import State
from emgfeedback.ui.traces import TraceView

FS = 1000.0
MUSCLES = ["glute_max_left", "glute_max_right"]  # the right side is drawn dashed


def _view(qtbot) -> TraceView:
    view = TraceView(MUSCLES, Band(30.0, 50.0), FS)
    qtbot.addWidget(view)
    view.resize(1200, 420)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.env_plot.getViewBox().width() > 1000, timeout=5000)
    return view


def _strided(view: TraceView, end: int) -> np.ndarray:
    step = view.stride()
    first = -(-(end - view.samples) // step) * step
    return np.arange(max(first, 0), end, step, dtype=np.int64)


def _row_hits(view: TraceView, level: float, color: str) -> np.ndarray:
    """For each pixel column of the data area: whether ``color`` is drawn within 2 px of ``level`` %MVC."""
    plot = view.env_plot
    vb = plot.getViewBox()
    image: QImage = plot.grab().toImage()

    def pixel(x: float, y: float) -> QPoint:
        return plot.mapFromScene(vb.mapViewToScene(QPointF(x, y)))

    left, right, y = pixel(-view.seconds, level).x(), pixel(0.0, level).x(), pixel(0.0, level).y()
    want = QColor(color)

    def close(c: QColor) -> bool:
        return abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()) < 40

    cols = range(left + 3, right - 3)
    hits = []
    for x in cols:
        near = [QColor(image.pixel(x, yy)) for yy in range(y - 2, y + 3)]
        hits.append(any(close(c) for c in near))
    return np.asarray(hits)


def test_curves_draw_each_level_leave_out_gaps_and_dash_the_right_side(qtbot) -> None:
    view = _view(qtbot)
    end = 40_000
    index = _strided(view, end)
    percent = np.empty((index.size, 2))
    percent[:, 0] = 40.0
    percent[:, 1] = 70.0
    gap = (index >= end - 12_000) & (index < end - 8_000)  # a 4 s signal gap on the left muscle
    percent[gap, 0] = np.nan
    view.draw(end, index, percent)
    colors = view.colors()
    left, right = _row_hits(view, 40.0, colors[0]), _row_hits(view, 70.0, colors[1])
    # the left muscle: drawn solid across the plot except for the gap (a fifth of the 20 s shown, at -12..-8 s)
    width = left.size
    gap_cols = slice(round(width * 8 / 20) + 8, round(width * 12 / 20) - 8)
    assert not left[gap_cols].any()
    assert left[: gap_cols.start - 16].mean() > 0.97 and left[gap_cols.stop + 16 :].mean() > 0.97
    # the right muscle: dashed, so a third of its length is left out, in regular short pieces
    assert 0.45 < right.mean() < 0.85
    runs = np.flatnonzero(np.diff(right.astype(int)) == 1).size
    assert runs > 40  # ~210 points, a dash every 3 of them


def test_redraws_only_when_a_new_strided_point_arrives(qtbot) -> None:
    view = _view(qtbot)
    step = view.stride()
    end = 50 * step + 1
    index = _strided(view, end)
    view.draw(end, index, np.full((index.size, 2), 40.0))
    assert not view.due(end)
    assert not view.due(end + step - 1)  # the newest strided point is the same one
    assert view.due(end + step)
    view.set_seconds(30.0)
    assert view.due(end)  # a longer history shows at once, not at the next strided point
    view.set_seconds(20.0)
    view.show_raw(True)
    assert view.due(end)  # the raw trace moves every frame


def test_stride_follows_the_history_length_and_the_plot_width(qtbot) -> None:
    view = _view(qtbot)
    wide = view.stride()
    view.set_seconds(60.0)
    assert view.stride() > wide  # three times the samples over the same pixels
    view.set_seconds(20.0)
    assert view.stride() == wide
    view.resize(800, 420)
    qtbot.waitUntil(lambda: view.env_plot.getViewBox().width() < 760, timeout=5000)
    assert view.stride() > wide  # fewer pixels: fewer points


def test_an_over_clench_above_100_rescales_the_plot_and_is_drawn(qtbot) -> None:
    view = _view(qtbot)
    end = 40_000
    index = _strided(view, end)
    percent = np.full((index.size, 2), 40.0)
    percent[:, 1] = 140.0
    view.draw(end, index, percent)
    assert view.env_plot.getViewBox().viewRange()[1] == [0.0, 150.0]  # in steps of 25, like the gauges
    assert view.env_curves.boundingRect().top() + view.env_curves.boundingRect().height() >= 140.0
    assert _row_hits(view, 140.0, view.colors()[1]).mean() > 0.45  # dashed
    percent[:] = np.nan  # an electrode off on both: nothing to draw, nothing fails
    view.draw(end + view.stride(), index + view.stride(), percent)
    assert not _row_hits(view, 40.0, view.colors()[0]).any()


def test_the_band_its_edges_and_the_guides_are_drawn_under_the_curves(qtbot) -> None:
    view = _view(qtbot)
    end = 40_000
    index = _strided(view, end)
    view.draw(end, index, np.full((index.size, 2), np.nan))  # no curve in the way
    theme = view.theme
    band, back = theme.band_color(60), QColor(theme.background)
    a = band.alphaF()
    shade = QColor(*(round(a * f(band) + (1 - a) * f(back)) for f in (QColor.red, QColor.green, QColor.blue))).name()
    assert _row_hits(view, 40.0, shade).mean() > 0.97  # shaded inside, over the background
    assert not _row_hits(view, 60.0, shade).any()  # not outside
    edge = theme.states[State.IN]
    assert _row_hits(view, 30.0, edge).mean() > 0.97 and _row_hits(view, 50.0, edge).mean() > 0.97
    assert 0.3 < _row_hits(view, 75.0, theme.grid).mean() < 0.9  # a dashed guide
    view.set_band(Band(20.0, 60.0))  # e.g. a program exercise's band
    assert view.env_curves.band == (20.0, 60.0)
    assert _row_hits(view, 55.0, shade).mean() > 0.97
    percent = np.full((index.size, 2), 40.0)
    percent[:, 1] = 70.0
    view.draw(end + view.stride(), index + view.stride(), percent)
    assert _row_hits(view, 40.0, view.colors()[0]).mean() > 0.97  # the curve over the band
