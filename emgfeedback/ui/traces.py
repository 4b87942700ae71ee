"""Scrolling traces: %MVC envelopes over the last 10-60 s with the band shaded; optional raw trace."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from emgfeedback.config import Band
from emgfeedback.feedback import State
from emgfeedback.muscles import display_name
from emgfeedback.palette import DASH, TRACE_WIDTH, is_dashed, muscle_colors
from emgfeedback.ui.curve_set import CurveSet
from emgfeedback.ui.theme import DARK, Theme, font

#: At most this many points per curve are drawn: the envelope is smooth, so striding loses nothing visible.
MAX_POINTS = 450
#: Pixels of plot width per drawn point: a 3 px pen's cost grows with its points (a 1300 px plot draws ~220),
#: and a point every 6 px still shows every change the envelope can make within a frame of history.
PX_PER_POINT = 6
#: Fewest points per curve, however narrow the window.
MIN_POINTS = 100
#: Dashed guide lines across the envelope plot (%MVC).
GUIDES = (25.0, 75.0, 100.0)
#: The raw (filtered) trace keeps its peaks by min/max pairs, at most this many points.
RAW_MAX_POINTS = 700


def _stride(n: int, width_px: float = PX_PER_POINT * MAX_POINTS) -> int:
    """Samples per drawn point for ``n`` samples on a plot ``width_px`` wide (decimated to the pixel width)."""
    points = min(max(width_px / PX_PER_POINT, MIN_POINTS), MAX_POINTS)
    return max(1, math.ceil(n / points))


def peak_decimate(t: np.ndarray, y: np.ndarray, max_points: int = RAW_MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Min/max pairs per bucket, so a decimated raw trace keeps its peaks."""
    n = y.shape[0]
    bucket = max(1, math.ceil(2 * n / max_points))
    if bucket == 1:
        return t, y
    m = n // bucket * bucket
    yb = y[:m].reshape(-1, bucket)
    tb = t[:m].reshape(-1, bucket)[:, 0]
    out_y = np.empty(2 * yb.shape[0])
    out_y[0::2] = np.nanmin(yb, axis=1)
    out_y[1::2] = np.nanmax(yb, axis=1)
    return np.repeat(tb, 2), out_y


def trace_pen(color: str, muscle: str, width: float = TRACE_WIDTH) -> QPen:
    """The envelope pen of ``muscle``: its colour, solid on the left side, dashed on the right."""
    pen = pg.mkPen(color, width=width)
    if is_dashed(muscle):
        pen.setStyle(Qt.PenStyle.CustomDashLine)
        pen.setDashPattern(list(DASH))
    return pen


def swatch(pen: QPen, width: int = 46, height: int = 18) -> QPixmap:
    """A short sample of ``pen`` for the legend, on a transparent background."""
    pix = QPixmap(width, height)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setPen(pen)
    p.drawLine(QPointF(2, height / 2), QPointF(width - 2, height / 2))
    p.end()
    return pix


class TraceView(QWidget):
    """Envelope plot (always) and raw plot (toggled), both ending at 'now'.

    The legend is a row of labels above the plot, so it never covers data (over-clench shows
    near the top of the plot).
    """

    def __init__(
        self,
        muscles: list[str],
        band: Band,
        fs: float,
        parent: QWidget | None = None,
        *,
        theme: Theme = DARK,
        seconds: float = 20.0,
    ) -> None:
        super().__init__(parent)
        self.muscles = muscles
        self.fs = fs
        self.seconds = seconds
        self.theme = theme
        pg.setConfigOptions(antialias=False, foreground=theme.text, background=theme.background)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        # the legend: one coloured line sample and name per muscle, outside the data area
        self.legend = QWidget()
        self.legend.setAccessibleName("trace legend")
        legend_row = QHBoxLayout(self.legend)
        legend_row.setContentsMargins(60, 0, 12, 0)
        legend_row.setSpacing(8)
        self.legend_swatches: list[QLabel] = []
        self.legend_labels: list[QLabel] = []
        for m in muscles:
            sample = QLabel()
            name = QLabel(display_name(m))
            name.setFont(font(14, bold=True))
            legend_row.addWidget(sample)
            legend_row.addWidget(name)
            legend_row.addSpacing(22)
            self.legend_swatches.append(sample)
            self.legend_labels.append(name)
        legend_row.addStretch(1)
        self.env_plot = pg.PlotWidget()
        self.raw_plot = pg.PlotWidget()
        for plot in (self.env_plot, self.raw_plot):
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.showGrid(x=False, y=False)  # axis grids repaint the whole view every frame: far too slow
            # room above and right of the data for the top and last tick labels, which overhang it
            plot.getPlotItem().layout.setContentsMargins(4, 14, 16, 2)
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setTickFont(font(12))
                # drawn once into a pixmap, redrawn only when its ticks change: tick labels are slow to lay out
                plot.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.getAxis("left").setWidth(64)
        label_style = {"font-size": "13pt"}
        self.env_plot.setLabel("left", "%MVC", **label_style)
        self.env_plot.setLabel("bottom", "seconds", **label_style)
        self.raw_plot.setLabel("left", "filtered", **label_style)
        self.env_curves = CurveSet(len(muscles))  # one item for every envelope: the plot repaints ~11 times a second
        self._set_top(100.0)
        self._drawn = (-1, 0, 0)  # newest strided index, stride and history length (samples) the curves show
        self._stride: tuple[int, int] | None = None  # (samples, stride) for the plot's width, until it resizes
        layout.addWidget(self.legend)
        layout.addWidget(self.env_plot, 3)
        layout.addWidget(self.raw_plot, 2)
        self.raw_plot.setVisible(False)
        self._band = band
        self.env_plot.addItem(self.env_curves)  # it draws the band and the guides under the curves
        self.env_plot.getViewBox().sigResized.connect(self._forget_stride)
        self.raw_curves = []
        for _ in muscles:
            raw = pg.PlotCurveItem(connect="finite")
            self.raw_plot.addItem(raw)
            self.raw_curves.append(raw)
        self.set_theme(theme)
        self.set_seconds(seconds)

    def colors(self) -> list[str]:
        """The trace colour of each muscle in the current theme."""
        return muscle_colors(self.muscles, self.theme.name)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for plot in (self.env_plot, self.raw_plot):
            plot.setBackground(theme.background)
            for axis in ("left", "bottom"):
                ax = plot.getAxis(axis)
                ax.setPen(pg.mkPen(theme.muted))
                ax.setTextPen(pg.mkPen(theme.text))
        self._show_band()
        self.env_curves.set_guides(list(GUIDES), pg.mkPen(theme.grid, width=1, style=Qt.PenStyle.DashLine))
        self._dashed: list[bool] = []
        for c, (m, color, r, sample, name) in enumerate(
            zip(self.muscles, self.colors(), self.raw_curves, self.legend_swatches, self.legend_labels, strict=True)
        ):
            pen = trace_pen(color, m)
            self.env_curves.set_pen(c, pg.mkPen(color, width=TRACE_WIDTH))  # solid: dashes are drawn as gaps (see draw)
            self._dashed.append(is_dashed(m))
            r.setPen(pg.mkPen(color, width=1))
            sample.setPixmap(swatch(pen))
            name.setStyleSheet(f"color: {QColor(theme.text).name()};")

    def _set_top(self, top: float) -> None:
        """Show 0..``top`` %MVC with a labelled tick every 25 (50 above 100), like the gauges."""
        self._top = top
        step = 25 if top <= 100 else 50
        self.env_plot.getAxis("left").setTicks([[(v, f"{v}") for v in range(0, int(top) + 1, step)], []])
        self.env_plot.setYRange(0, top, padding=0)
        self._bound_curves()

    def _bound_curves(self) -> None:
        """The envelope curves cover the visible range and no more (see CurveSet)."""
        self.env_curves.set_bounds(QRectF(-self.seconds, 0.0, self.seconds, self._top))

    def set_band(self, band: Band) -> None:
        """Shade ``band`` (e.g. a program exercise's own band)."""
        if band != self._band:
            self._band = band
            self._show_band()

    def _show_band(self) -> None:
        theme = self.theme
        edge = pg.mkPen(theme.states[State.IN], width=2)
        self.env_curves.set_band(self._band.low, self._band.high, pg.mkBrush(theme.band_color(60)), edge)

    def set_seconds(self, seconds: float) -> None:
        """Length of the visible history, 10-60 s."""
        self.seconds = min(max(seconds, 10.0), 60.0)
        for plot in (self.env_plot, self.raw_plot):
            plot.setXRange(-self.seconds, 0, padding=0)
        self._bound_curves()

    def show_raw(self, visible: bool) -> None:
        self.raw_plot.setVisible(visible)

    @property
    def raw_shown(self) -> bool:
        """Whether the raw trace is switched on (even while the window itself is not shown yet)."""
        return not self.raw_plot.isHidden()

    @property
    def samples(self) -> int:
        return int(self.seconds * self.fs)

    def stride(self) -> int:
        """Samples per drawn point for the current history length and plot width (kept until either changes)."""
        if self._stride is None or self._stride[0] != self.samples:
            width = self.env_plot.getViewBox().width() or PX_PER_POINT * MAX_POINTS
            self._stride = (self.samples, _stride(self.samples, width))
        return self._stride[1]

    def _forget_stride(self) -> None:
        self._stride = None

    def due(self, end_index: int) -> bool:
        """Whether a frame ending before sample ``end_index`` would show something the plot does not show yet:
        a new strided point (every ``stride`` samples), another history length, or the raw trace (every frame)."""
        step = self.stride()
        return self.raw_shown or ((end_index - 1) // step * step, step, self.samples) != self._drawn

    def draw(self, end_index: int, index: np.ndarray, percent: np.ndarray, filtered: np.ndarray | None = None) -> None:
        """Draw strided %MVC samples at absolute ``index`` (n,), ``percent`` (n, ch); the newest sample is
        ``end_index - 1``. ``filtered`` (full rate, ending at the same sample) feeds the raw trace.

        Draws only what changed: the decimated envelope changes when a new strided point arrives (every
        ``stride`` samples, ~90 ms at 20 s of history), so other frames leave the curves as they are, and
        the curves end at 0 s with their newest point (at most one stride before the newest sample).
        """
        if index.size == 0:
            return
        step = int(index[1] - index[0]) if index.size > 1 else 0
        drawn = (int(index[-1]), step, self.samples)
        if drawn == self._drawn and not (filtered is not None and self.raw_shown):
            return
        self._drawn = drawn
        t = (index - index[-1]) / self.fs
        peak = 0.0
        # a dashed curve is a solid one with every third segment left out, counted from the absolute index so
        # the dashes scroll with the data: a wide dashed pen costs twice as much to draw as these segments
        dash = (index // max(step, 1)) % 3 != 2
        keep = np.ones(percent.shape, dtype=bool)
        keep[:, self._dashed] = dash[:, None]
        self.env_curves.set_data(t, percent, keep)
        if np.isfinite(percent).any():
            peak = float(np.nanmax(percent))
        # rescale only in steps of 25 %MVC: a range change repaints the axes, which is slow
        top = min(max(25.0 * math.ceil(peak * 1.05 / 25.0), 100.0), 200.0)
        if top != self._top:
            self._set_top(top)
        if filtered is not None and self.raw_shown:
            n = filtered.shape[0]
            tt = (np.arange(n) - (n - 1)) / self.fs
            for c, curve in enumerate(self.raw_curves):
                curve.setData(*peak_decimate(tt, filtered[:, c]))
