"""Below the gauges: the traces, or the last hold's summary card in their place between holds.

The card never covers the gauges: it takes the traces' place while no hold runs, and the
dashboard puts the traces back as soon as a hold starts (by key or automatically), so a user
upside down in a backbend always sees the gauges without pressing anything.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from emgfeedback.feedback import HoldSummary
from emgfeedback.ui.hold_panel import SummaryCard


class BelowGauges(QStackedWidget):
    """Two pages: ``trace_layout`` (where the dashboard puts its traces) and the summary ``card``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trace_page = QWidget()
        self.trace_layout = QVBoxLayout(self.trace_page)
        self.trace_layout.setContentsMargins(0, 0, 0, 0)
        self.card_host = QWidget()
        layout = QVBoxLayout(self.card_host)
        layout.setContentsMargins(0, 4, 0, 0)
        self.card = SummaryCard()
        # the card scrolls when its lines (four muscles, fatigue, side by side) outgrow the room below the gauges,
        # instead of squeezing its lines or growing the window past the screen
        self.card_scroll = QScrollArea()
        self.card_scroll.setWidgetResizable(True)
        self.card_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.card_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.card_scroll.setWidget(self.card)
        layout.addWidget(self.card_scroll)
        self.addWidget(self.trace_page)
        self.addWidget(self.card_host)
        self.show_traces()

    def minimumSizeHint(self) -> QSize:
        """The page shown sets the minimum (a stacked widget's default is the largest page's): the card's
        height must not squeeze the gauges while the traces are shown."""
        current = self.currentWidget()
        return current.minimumSizeHint() if current is not None else super().minimumSizeHint()

    def _relayout(self) -> None:
        self.updateGeometry()

    @property
    def card_shown(self) -> bool:
        return self.currentWidget() is self.card_host

    def show_card(self, summary: HoldSummary) -> None:
        """The summary in the traces' place."""
        self.card.show_summary(summary)
        self.card_host.setVisible(True)
        self.setCurrentWidget(self.card_host)
        self._relayout()

    def scroll_card(self, pages: int) -> None:
        """Scroll the summary card by ``pages`` screens (negative: up), when it is shown and longer than its room."""
        if self.card_shown:
            bar = self.card_scroll.verticalScrollBar()
            bar.setValue(bar.value() + pages * bar.pageStep())

    def show_traces(self) -> None:
        self.card_host.setVisible(False)
        self.setCurrentWidget(self.trace_page)
        self._relayout()
