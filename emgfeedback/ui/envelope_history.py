"""The calibration wizard's plot: the last seconds of the tested muscle's envelope, the best trial as a line."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from emgfeedback.ui.calibration_style import PUSH_COLOR
from emgfeedback.ui.theme import DARK, Theme

#: Seconds of envelope history drawn, and the decimation of the drawn trace.
HISTORY_S = 12.0
TRACE_STRIDE = 10


class EnvelopeHistory(pg.PlotWidget):
    """Keeps a decimated history of every channel's envelope and draws one channel of it."""

    def __init__(self, fs: float, channels: int, units: str, *, theme: Theme = DARK) -> None:
        super().__init__()
        self.fs = fs
        self._history = np.full((int(HISTORY_S * fs / TRACE_STRIDE), channels), np.nan)
        self.setBackground(theme.background)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setXRange(-HISTORY_S, 0, padding=0)
        self.setLabel("bottom", "seconds")
        self.setLabel("left", f"envelope ({units})")
        for axis in ("left", "bottom"):
            self.getAxis(axis).setPen(pg.mkPen(theme.muted))
            self.getAxis(axis).setTextPen(pg.mkPen(theme.text))
        self.curve = self.plot(pen=pg.mkPen(PUSH_COLOR, width=3), connect="finite")
        self.best_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(theme.text, width=2, style=Qt.PenStyle.DashLine))
        self.best_line.setVisible(False)
        self.addItem(self.best_line)
        self.setMinimumHeight(160)

    def remember(self, env: np.ndarray) -> None:
        """Append a block of envelope samples (samples, channels)."""
        dec = env[::TRACE_STRIDE]
        n = min(dec.shape[0], self._history.shape[0])
        if n:
            self._history = np.roll(self._history, -n, axis=0)
            self._history[-n:] = dec[-n:]

    def draw(self, channel: int, best: float) -> None:
        """Draw ``channel``'s history; ``best`` (NaN: none yet) as a dashed line."""
        y = self._history[:, channel]
        x = (np.arange(y.shape[0]) - y.shape[0]) * TRACE_STRIDE / self.fs
        self.curve.setData(x, y)
        self.best_line.setVisible(math.isfinite(best))
        if math.isfinite(best):
            self.best_line.setValue(best)
