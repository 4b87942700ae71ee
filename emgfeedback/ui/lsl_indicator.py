"""The dashboard's "LSL on" indicator: shown while the run is published on Lab Streaming Layer."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from emgfeedback.runtime.lsl_out import LslPublisher
from emgfeedback.ui.theme import font


class LslIndicator(QLabel):
    """ "LSL on: NAME" in bold while ``publisher`` has outlets; its tooltip says who can see the streams."""

    def __init__(self, publisher: LslPublisher, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.publisher = publisher
        self.setFont(font(13, bold=True))
        self.setToolTip(f"publishing {publisher.describe()}")
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(500)
        self.refresh()

    def refresh(self) -> None:
        if self.publisher.error:
            self.setText(f"\u26a0 LSL: {self.publisher.error}")
            self.setStyleSheet("color: #ff5c5c;")
        elif self.publisher.publishing:
            self.setText(f"\u25c9 LSL on: {self.publisher.name}")
            self.setStyleSheet("color: #d29922;")
        else:
            self.setText("LSL starting...")
            self.setStyleSheet("")
