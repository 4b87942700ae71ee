"""The coach's screen: one row per athlete (name, a compact gauge per muscle, hold timer, connection),
readable on a projector. Number keys focus one athlete, Esc goes back to all."""

from __future__ import annotations

import functools
import math
import time

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QColor, QFont, QFontMetrics, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import QBoxLayout, QFrame, QHBoxLayout, QLabel, QMainWindow, QSizePolicy, QVBoxLayout, QWidget

from emgfeedback.feedback import State
from emgfeedback.muscles import short_name
from emgfeedback.runtime.coach_feed import AthleteView, CoachFeed
from emgfeedback.ui.theme import DARK, STATE_WORDS, Theme, font

#: Connection state -> (word shown, colour).
CONNECTION = {
    "live": ("\u25cf live", "#3fb950"),
    "stale": ("\u25cb stale", "#d29922"),
    "gone": ("\u2716 gone", "#ff5c5c"),
    "waiting": ("\u2026 waiting", "#9da7b3"),
}


#: The widest texts a gauge shows: the font is sized for these.
NAME_TEMPLATE = "Glute R"
STATUS_TEMPLATE = "100% EASE"


def fitted(text: str, width: float, height: float, largest: int = 72) -> QFont:
    """The largest bold font (points) at which ``text`` fits in ``width`` x ``height`` pixels (cached by size)."""
    return font(_fitted_points(text, int(width), int(height), largest), bold=True)


@functools.lru_cache(maxsize=256)
def _fitted_points(text: str, width: int, height: int, largest: int) -> int:
    size = largest
    while size > 9:
        f = font(size, bold=True)
        metrics = QFontMetrics(f)
        if metrics.horizontalAdvance(text) <= width and metrics.height() <= height:
            return size
        size -= 2 if size > 24 else 1
    return 9


class MiniGauge(QWidget):
    """A horizontal %MVC bar (0-100) with the band marked, filled in the state's colour, value and state in words."""

    def __init__(self, muscle: str, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.muscle = muscle
        self.theme = theme
        self.value = math.nan
        self.state = State.UNKNOWN
        self.band = (30.0, 50.0)
        self.dimmed = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(150, 110)

    def sizeHint(self) -> QSize:
        return QSize(300, 160)

    def set_value(self, value: float, state: State, band: tuple[float, float], dimmed: bool) -> None:
        shown = (round(value) if math.isfinite(value) else None, state, band, dimmed)
        if shown == (round(self.value) if math.isfinite(self.value) else None, self.state, self.band, self.dimmed):
            return
        self.value, self.state, self.band, self.dimmed = value, state, band, dimmed
        self.update()

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        t = self.theme
        w, h = float(self.width()), float(self.height())
        colour = QColor(t.muted if self.dimmed else t.states[self.state])
        value = f"{self.value:.0f}%" if math.isfinite(self.value) else "--"
        status = f"{value} {STATE_WORDS[self.state].split()[0]}"
        bar_h = min(max(h * 0.38, 16.0), 120.0)  # a taller row (a focused athlete) gives the room to the words
        name_h = (h - bar_h) * 0.38
        status_h = h - bar_h - name_h
        status_font = fitted(STATUS_TEMPLATE, w, status_h)  # one size for every gauge and state: no jumping text
        name_font = fitted(NAME_TEMPLATE, w, name_h)
        if name_font.pointSize() > status_font.pointSize():  # the value matters more than the name
            name_font = font(status_font.pointSize(), bold=True)
        p.setFont(name_font)
        p.setPen(QColor(t.muted if self.dimmed else t.text))
        p.drawText(QRectF(0, 0, w, name_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, short_name(self.muscle))
        p.setFont(status_font)
        p.setPen(colour)
        p.drawText(QRectF(0, name_h, w, status_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, status)
        bar = QRectF(2, h - bar_h + 2, w - 4, bar_h - 4)
        p.setPen(QPen(QColor(t.grid), 2))
        p.setBrush(QColor(t.background))
        p.drawRoundedRect(bar, 6, 6)
        low, high = self.band
        x_low, x_high = bar.left() + bar.width() * low / 100.0, bar.left() + bar.width() * min(high, 100.0) / 100.0
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(t.band_color(60))
        p.drawRect(QRectF(x_low, bar.top(), x_high - x_low, bar.height()))
        if math.isfinite(self.value):
            fill = bar.adjusted(3, 3, -3, -3)
            fill.setWidth(max(fill.width() * min(max(self.value, 0.0), 100.0) / 100.0, 0.0))
            p.setBrush(colour)
            p.drawRoundedRect(fill, 4, 4)
        p.setPen(QPen(QColor(t.band), 3))
        for x in (x_low, x_high):
            p.drawLine(int(x), int(bar.top()), int(x), int(bar.bottom()))
        p.end()


class AthleteRow(QFrame):
    """One athlete: number and name, the gauges, the hold timer and the connection state."""

    def __init__(self, number: int, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.number = number
        self.theme = theme
        self.view = AthleteView("")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        layout.setSpacing(18)
        self.name = QLabel()
        self.name.setFont(font(30, bold=True))
        self.name.setMinimumWidth(260)
        self.gauge_box = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.gauge_box.setSpacing(36)
        self.gauges: list[MiniGauge] = []
        self.timer = QLabel()
        self.timer.setFont(font(30, bold=True))
        self.timer.setMinimumWidth(280)
        self.timer.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.connection = QLabel()
        self.connection.setFont(font(20, bold=True))
        self.connection.setMinimumWidth(150)
        layout.addWidget(self.name)
        layout.addLayout(self.gauge_box, 1)
        layout.addWidget(self.timer)
        layout.addWidget(self.connection)

    def set_focused(self, focused: bool) -> None:
        """Alone on the screen: the gauges one under the other (wide bars, large words), a larger name and timer."""
        self.gauge_box.setDirection(QBoxLayout.Direction.TopToBottom if focused else QBoxLayout.Direction.LeftToRight)
        for label, normal in ((self.name, 30), (self.timer, 30), (self.connection, 20)):
            label.setFont(font(int(normal * 1.6) if focused else normal, bold=True))

    def show_view(self, view: AthleteView) -> None:
        self.view = view
        self.name.setText(f"{self.number}  {view.name}" if self.number <= 9 else view.name)
        if len(self.gauges) != len(view.muscles) or [g.muscle for g in self.gauges] != list(view.muscles):
            for g in self.gauges:
                g.setParent(None)
            self.gauges = [MiniGauge(m, self.theme) for m in view.muscles]
            for g in self.gauges:
                self.gauge_box.addWidget(g)
        dimmed = view.connection != "live"
        for c, gauge in enumerate(self.gauges):
            state = State(view.states[c]) if view.states[c] in State._value2member_map_ else State.UNKNOWN
            gauge.set_value(view.percent[c], state, view.bands[c], dimmed)
        if view.hold_s is not None:
            minutes, seconds = divmod(view.hold_s, 60.0)
            self.timer.setText(f"hold {int(minutes)}:{seconds:04.1f}")
            self.timer.setStyleSheet(f"color: {self.theme.text};")
        else:
            last = f"rest (last {view.last_hold_s:.0f} s)" if view.last_hold_s is not None else "rest"
            self.timer.setText(last)
            self.timer.setStyleSheet(f"color: {self.theme.muted};")
        word, colour = CONNECTION.get(view.connection, CONNECTION["waiting"])
        self.connection.setText(word)
        self.connection.setStyleSheet(f"color: {colour};")


class CoachWindow(QMainWindow):
    """Every athlete's row; a QTimer polls the feed (never blocking) and redraws."""

    def __init__(self, feed: CoachFeed, *, theme: Theme = DARK, fps: float = 15.0) -> None:
        super().__init__()
        self.feed = feed
        self.theme = theme
        self.rows: list[AthleteRow] = []
        self.focused: int | None = None  # 1-based athlete number, None: all
        self.frame_times: list[float] = []
        self.setWindowTitle("emgfeedback coach")
        self.resize(1600, 900)
        central = QWidget()
        self.setCentralWidget(central)
        self.outer = QVBoxLayout(central)
        self.outer.setContentsMargins(16, 12, 16, 12)
        self.outer.setSpacing(12)
        self.title = QLabel()
        self.title.setFont(font(18, bold=True))
        self.title.setStyleSheet(f"color: {theme.muted};")
        self.outer.addWidget(self.title)
        self.empty = QLabel("looking for athletes on this network...\n(each runs: emgfeedback live --lsl --lsl-name NAME)")
        self.empty.setFont(font(26, bold=True))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.outer.addWidget(self.empty, 1)
        self.row_box = QVBoxLayout()
        self.row_box.setSpacing(12)
        self.outer.addLayout(self.row_box, 1)
        for k in range(1, 10):
            self._action(str(k), lambda _checked=False, k=k: self.focus(k))
        self._action("Escape", lambda: self.focus(None))
        self._action("F11", lambda: self.showNormal() if self.isFullScreen() else self.showFullScreen())
        self._action("Ctrl+Q", self.close)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(int(1000 / fps))
        self.refresh()

    def _action(self, key: str, slot: object) -> None:
        action = QAction(self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)

    def focus(self, number: int | None) -> None:
        """Show only athlete ``number`` (1-based), or everyone (None)."""
        if number is not None and number > len(self.rows):
            return
        self.focused = number
        self._apply_focus()

    def _apply_focus(self) -> None:
        for row in self.rows:
            row.setVisible(self.focused is None or row.number == self.focused)
            row.set_focused(row.number == self.focused)

    def refresh(self) -> None:
        t0 = time.perf_counter()
        self.feed.poll()
        views = self.feed.views()
        while len(self.rows) < len(views):
            row = AthleteRow(len(self.rows) + 1, self.theme)
            self.rows.append(row)
            self.row_box.addWidget(row)
            self._apply_focus()
        for row, view in zip(self.rows, views, strict=False):
            row.show_view(view)
        self.empty.setVisible(not views)
        live = sum(v.connection == "live" for v in views)
        focus = f"athlete {self.focused} (Esc: all)" if self.focused else "1-9: focus one athlete"
        self.title.setText(f"emgfeedback coach \u00b7 {len(views)} athletes, {live} live \u00b7 {focus}")
        self.frame_times.append(time.perf_counter() - t0)
        del self.frame_times[:-600]

    def closeEvent(self, event: QCloseEvent) -> None:
        self.timer.stop()
        self.feed.stop()
        super().closeEvent(event)


def run_coach(
    streams: list[str] | None, *, screenshot: str | None = None, quit_after: float | None = None, fullscreen: bool = False
) -> int:
    """Open the coach window on the athletes' streams and run until it closes (or ``quit_after``)."""
    import sys
    from pathlib import Path

    from PySide6.QtWidgets import QApplication

    from emgfeedback.errors import CommandError
    from emgfeedback.ui.app import ensure_display, quiet_qt_messages
    from emgfeedback.ui.theme import apply_theme

    ensure_display(offscreen_ok=screenshot is not None or quit_after is not None)
    quiet_qt_messages()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("emgfeedback coach")
    feed = CoachFeed(streams).start()
    window = CoachWindow(feed)
    apply_theme(app, window.theme)  # type: ignore[arg-type]
    window.showFullScreen() if fullscreen else window.show()
    failure: list[str] = []
    if quit_after is not None:

        def finish() -> None:
            if screenshot:
                target = Path(screenshot)
                if not target.parent.exists():
                    failure.append(f"{target.parent}: no such directory for --screenshot: create it first")
                elif not window.grab().save(str(target)):
                    failure.append(f"{target}: could not write the screenshot: check the path and permissions")
            window.close()

        QTimer.singleShot(int(quit_after * 1000), finish)
    app.exec()
    if failure:
        raise CommandError(failure[0])
    return 0
