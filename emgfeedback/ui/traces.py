"""Scrolling traces: %MVC envelopes over the last 10-60 s with the band shaded; optional raw trace."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from emgfeedback.config import Band
from emgfeedback.feedback import State
from emgfeedback.muscles import display_name
from emgfeedback.ui.theme import DARK, Theme

#: At most this many points per curve are drawn: the envelope is smooth, so striding loses nothing visible.
MAX_POINTS = 700


def _stride(n: int) -> int:
    return max(1, math.ceil(n / MAX_POINTS))


def peak_decimate(t: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
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


class TraceView(QWidget):
    """Envelope plot (always) and raw plot (toggled), both ending at 'now'."""

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
        self.env_plot = pg.PlotWidget()
        self.raw_plot = pg.PlotWidget()
        for plot in (self.env_plot, self.raw_plot):
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.showGrid(x=False, y=False)  # axis grids repaint the whole view every frame: far too slow
        self.env_plot.setLabel("left", "%MVC")
        self.env_plot.setLabel("bottom", "seconds")
        self.env_plot.setYRange(0, 100, padding=0.02)
        self.raw_plot.setLabel("left", "filtered")
        layout.addWidget(self.env_plot, 3)
        layout.addWidget(self.raw_plot, 2)
        self.raw_plot.setVisible(False)
        self.band_region = pg.LinearRegionItem(values=(band.low, band.high), orientation="horizontal", movable=False)
        self.env_plot.addItem(self.band_region)
        self.guides = [pg.InfiniteLine(pos=v, angle=0, movable=False) for v in (25, 75, 100)]
        for line in self.guides:
            self.env_plot.addItem(line)
        self._top = 100.0
        legend = self.env_plot.addLegend(offset=(10, 5), labelTextSize="12pt")
        self.env_curves = []
        self.raw_curves = []
        for i, m in enumerate(muscles):
            color = theme.traces[i % len(theme.traces)]
            self.env_curves.append(
                self.env_plot.plot(pen=pg.mkPen(color, width=1.5), name=display_name(m), connect="finite", skipFiniteCheck=True)
            )
            self.raw_curves.append(self.raw_plot.plot(pen=pg.mkPen(color, width=1), connect="finite"))
        legend.setBrush(pg.mkBrush(theme.panel))
        self.set_theme(theme)
        self.set_seconds(seconds)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for plot in (self.env_plot, self.raw_plot):
            plot.setBackground(theme.background)
            for axis in ("left", "bottom"):
                ax = plot.getAxis(axis)
                ax.setPen(pg.mkPen(theme.muted))
                ax.setTextPen(pg.mkPen(theme.text))
        self.band_region.setBrush(pg.mkBrush(theme.band_color(60)))
        for line in self.guides:
            line.setPen(pg.mkPen(theme.grid, width=1, style=Qt.PenStyle.DashLine))
        for line in self.band_region.lines:
            line.setPen(pg.mkPen(theme.states[State.IN], width=2))
        for i, (e, r) in enumerate(zip(self.env_curves, self.raw_curves, strict=True)):
            color = theme.traces[i % len(theme.traces)]
            e.setPen(pg.mkPen(color, width=1.5))
            r.setPen(pg.mkPen(color, width=1))

    def set_band(self, band: Band) -> None:
        self.band_region.setRegion((band.low, band.high))

    def set_seconds(self, seconds: float) -> None:
        """Length of the visible history, 10-60 s."""
        self.seconds = min(max(seconds, 10.0), 60.0)
        for plot in (self.env_plot, self.raw_plot):
            plot.setXRange(-self.seconds, 0, padding=0)

    def show_raw(self, visible: bool) -> None:
        self.raw_plot.setVisible(visible)

    @property
    def samples(self) -> int:
        return int(self.seconds * self.fs)

    def stride(self) -> int:
        """Samples per drawn point for the current history length."""
        return _stride(self.samples)

    def draw(self, end_index: int, index: np.ndarray, percent: np.ndarray, filtered: np.ndarray | None = None) -> None:
        """Draw strided %MVC samples at absolute ``index`` (n,), ``percent`` (n, ch); the newest sample is
        ``end_index - 1``. ``filtered`` (full rate, ending at the same sample) feeds the raw trace."""
        if index.size == 0:
            return
        t = (index - (end_index - 1)) / self.fs
        peak = 0.0
        for c, curve in enumerate(self.env_curves):
            y = percent[:, c]
            curve.setData(t, y)
            if np.isfinite(y).any():
                peak = max(peak, float(np.nanmax(y)))
        # rescale only in steps of 25 %MVC: a range change repaints the axes, which is slow
        top = min(max(25.0 * math.ceil(peak * 1.05 / 25.0), 100.0), 200.0)
        if top != self._top:
            self._top = top
            self.env_plot.setYRange(0, top, padding=0)
        if filtered is not None and self.raw_plot.isVisible():
            n = filtered.shape[0]
            tt = (np.arange(n) - (n - 1)) / self.fs
            for c, curve in enumerate(self.raw_curves):
                curve.setData(*peak_decimate(tt, filtered[:, c]))
