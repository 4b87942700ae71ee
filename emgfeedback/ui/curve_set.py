"""Every envelope curve of the trace plot in one graphics item: one paint call draws them all.

A ``PlotCurveItem`` hands Qt its points in data coordinates, and a wide pen stroked through the
view's scaling costs the software rasterizer about 220 us per curve of 210 points; the same segments
mapped to pixels first cost about 90 us. The item's bounds are the plot's visible range, so a redraw
repaints the data area only, never the axes beside it (the view box clips what a wide pen draws past
its edge).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.PlotCurveItem import arrayToLineSegments
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter, QPen
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

    @property
    def count(self) -> int:
        return len(self._pens)

    def set_pen(self, curve: int, pen: QPen) -> None:
        self._pens[curve] = pen
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
