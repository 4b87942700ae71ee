"""Every envelope curve of the trace plot, the band and the guide lines in one graphics item: one paint call.

A ``PlotCurveItem`` hands Qt its points in data coordinates, and a wide pen stroked through the
view's scaling costs the software rasterizer about 220 us per curve of 210 points; the same segments
mapped to pixels first cost about 90 us. The item's bounds are the plot's visible range, so a redraw
repaints the data area only, never the axes beside it (the view box clips what a wide pen draws past
its edge). The band and the guides are drawn by the same call, under the curves: as pyqtgraph's region and
line items they cost about 200 us of Python per repaint.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.PlotCurveItem import arrayToLineSegments
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QBrush, QPainter, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget


class CurveSet(pg.GraphicsObject):
    """Curves ``0..n-1`` sharing one x axis; each has its own pen and drops segments that touch a NaN."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self._pens: list[QPen] = [pg.mkPen("w") for _ in range(count)]
        self._segments: list[Any] = [None] * count  # pyqtgraph's reusable QLineF buffers, one per curve
        self._connect: list[str | np.ndarray] = ["finite"] * count
        self._data: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0), np.empty(0))] * count
        self._bounds = QRectF(0.0, 0.0, 1.0, 1.0)
        self._band: tuple[float, float] | None = None
        self._band_brush = QBrush()
        self._band_pen = QPen()
        self._guides: list[float] = []
        self._guide_pen = QPen()

    @property
    def count(self) -> int:
        return len(self._pens)

    def set_pen(self, curve: int, pen: QPen) -> None:
        self._pens[curve] = pen
        self.update()

    def set_band(self, low: float, high: float, brush: QBrush, edge_pen: QPen) -> None:
        """Shade ``low..high`` (data units) across the plot with its edges drawn in ``edge_pen``."""
        self._band, self._band_brush, self._band_pen = (low, high), brush, edge_pen
        self.update()

    @property
    def band(self) -> tuple[float, float] | None:
        """The shaded band (low, high), or None."""
        return self._band

    def set_guides(self, values: list[float], pen: QPen) -> None:
        """Horizontal guide lines at ``values`` (data units), under the band edges and the curves."""
        self._guides, self._guide_pen = list(values), pen
        self.update()

    def set_bounds(self, rect: QRectF) -> None:
        """The area (data coordinates) the curves may cover: the plot's visible range."""
        if rect != self._bounds:
            self.prepareGeometryChange()
            self._bounds = QRectF(rect)

    def set_data(self, x: np.ndarray, y: np.ndarray, keep: np.ndarray | None = None) -> None:
        """``y`` (n, count) against ``x`` (n,); ``keep`` (n, count) False leaves out the segment from a point
        to the next (a dashed curve); segments touching a non-finite value are always left out."""
        xs = np.ascontiguousarray(x, dtype=np.float64)
        for c in range(self.count):
            yc = np.ascontiguousarray(y[:, c], dtype=np.float64)
            self._data[c] = (xs, yc)
            connect: str | np.ndarray = "finite"
            if keep is not None and not keep[:, c].all():
                ok = np.isfinite(yc)
                connect = keep[:, c] & ok & np.append(ok[1:], False)
            self._connect[c] = connect
        self.update()

    def data(self, curve: int) -> tuple[np.ndarray, np.ndarray]:
        """The x and y values ``curve`` shows now."""
        return self._data[curve]

    def boundingRect(self) -> QRectF:
        return QRectF(self._bounds)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        t = painter.transform()
        plain = t.m12() == 0.0 and t.m21() == 0.0 and not t.isRotating()  # scale and shift only: map to pixels here
        sx, sy, dx, dy = (t.m11(), t.m22(), t.dx(), t.dy()) if plain else (1.0, 1.0, 0.0, 0.0)
        if plain:
            painter.resetTransform()
        self._paint_band(painter, sx, sy, dx, dy)
        for c, pen in enumerate(self._pens):
            x, y = self._data[c]
            if x.size < 2:
                continue
            segments = arrayToLineSegments(x * sx + dx, y * sy + dy, self._connect[c], True, out=self._segments[c])
            self._segments[c] = segments
            if len(segments):
                painter.setPen(pen)
                painter.drawLines(*segments.drawargs())
        if plain:
            painter.setTransform(t)

    def _paint_band(self, painter: QPainter, sx: float, sy: float, dx: float, dy: float) -> None:
        """The band, its edges and the guides across the bounds, in the painter's (pixel or data) coordinates."""
        b = self._bounds
        left, right = b.left() * sx + dx, b.right() * sx + dx
        if self._guides:
            painter.setPen(self._guide_pen)
            painter.drawLines([QLineF(left, v * sy + dy, right, v * sy + dy) for v in self._guides])
        if self._band is None:
            return
        y0, y1 = (v * sy + dy for v in self._band)
        painter.fillRect(QRectF(left, min(y0, y1), right - left, abs(y1 - y0)), self._band_brush)
        painter.setPen(self._band_pen)
        painter.drawLines([QLineF(left, y0, right, y0), QLineF(left, y1, right, y1)])
