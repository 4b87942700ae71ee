"""The live dashboard: gauges, traces, hold timer, summary card, status bar, cues, shortcuts.

A QTimer pulls the newest values from the acquisition's ring buffer and draws; the
acquisition thread never waits on the UI. Every action has a keyboard shortcut.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from emgfeedback.config import Band
from emgfeedback.errors import UserError
from emgfeedback.feedback import HoldSummary, State
from emgfeedback.muscles import has_synergy
from emgfeedback.paths import data_dir
from emgfeedback.runtime.acquisition import Acquisition
from emgfeedback.runtime.commands import PauseProgram, SetAutoStart, StartProgram, StopProgram
from emgfeedback.runtime.live import ProfileLike, Recorder, RecorderFactory
from emgfeedback.ui.audio import CuePlayer
from emgfeedback.ui.dashboard_config import SHORTCUTS, DashboardConfig, settings_store
from emgfeedback.ui.dashboard_profiles import ProfileActions
from emgfeedback.ui.gauge import MuscleGauge
from emgfeedback.ui.hold_panel import HoldTimer
from emgfeedback.ui.private_image import save_private_image
from emgfeedback.ui.program_panel import ProgramPanel, apply_bands, common_band, fatigue_text, pick_program
from emgfeedback.ui.sound_check import SoundCheck
from emgfeedback.ui.speech import Speaker
from emgfeedback.ui.status_text import quality_text, rate_text
from emgfeedback.ui.summary_area import BelowGauges
from emgfeedback.ui.theme import THEMES, apply_theme, font
from emgfeedback.ui.traces import TraceView

#: A stored state value (a float in the ring buffer, NaN before any) -> the State it stands for.
_STATES: dict[float, State] = {float(s): s for s in State}


class Dashboard(ProfileActions, QMainWindow):
    """The main window. ``restart`` rebuilds the acquisition with another profile."""

    hold_finished = Signal(object)
    refreshed = Signal()

    def __init__(
        self,
        acquisition: Acquisition,
        config: DashboardConfig,
        *,
        restart: Callable[[ProfileLike | None], Acquisition] | None = None,
        recorder_factory: RecorderFactory | None = None,
    ) -> None:
        super().__init__()
        self.acq = acquisition
        self.config = config
        self.restart_with = restart
        self.recorder_factory = recorder_factory
        self.recorder: Recorder | None = None
        self.settings = settings_store()
        self.theme = THEMES.get(config.theme or str(self.settings.value("theme", "dark")), THEMES["dark"])
        self.player = CuePlayer(
            self, volume=float(self.settings.value("volume", 0.8)), muted=self.settings.value("muted", "false") == "true"
        )
        self.speaker = Speaker()
        self.gauges: list[MuscleGauge] = []
        self.traces: TraceView | None = None
        self.summaries: list[HoldSummary] = []
        self.frame_times: list[float] = []
        self._last_status = 0.0
        self._hints: dict[int, str] = {}
        self._default_bands: list[Band] = []
        self._built = False
        self.screenshots: list[Path] = []  # saved with Ctrl+S
        self.setWindowTitle("emgfeedback - backbend biofeedback")
        self.resize(1400, 900)
        self._build_frame()
        self._build_actions()
        apply_theme(QApplication.instance(), self.theme)  # type: ignore[arg-type]
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(int(1000 / config.fps))
        if not self.acq.running and not self.acq.finished.is_set():
            self.acq.start()

    @property
    def _holding(self) -> bool:
        return self.acq.snapshot().hold is not None

    @property
    def _has_synergy(self) -> bool:
        """Whether the muscles include a high hamstring and a glute max (else the synergy figure is n/a)."""
        return self.acq.engine is not None and has_synergy(list(self.acq.engine.names))

    # --- layout -------------------------------------------------------------------------------
    def _build_frame(self) -> None:
        central = QWidget()
        self.setCentralWidget(central)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(12, 8, 12, 4)
        self.banner = QLabel()
        self.banner.setFont(font(16, bold=True))
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.hold_timer = HoldTimer()
        self.hold_timer.toggled.connect(self.toggle_hold)
        self.sound_check = SoundCheck(self.player, self)  # "test sounds": each cue once, its name shown
        self.fatigue = QLabel()
        self.fatigue.setFont(font(14))
        self.program_panel = ProgramPanel(self.theme)
        outer.addWidget(self.banner)
        outer.addWidget(self.hold_timer)
        outer.addWidget(self.sound_check.label)
        outer.addWidget(self.fatigue)
        outer.addWidget(self.program_panel)
        self.stack_host = QWidget()
        self.stack = QStackedLayout(self.stack_host)
        self.gauge_host = QWidget()
        self.gauge_row = QHBoxLayout(self.gauge_host)
        self.gauge_row.setSpacing(16)
        self.waiting = QLabel(f"connecting to {self.config.source_text} ...")
        self.waiting.setFont(font(24, bold=True))
        self.waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.gauge_row.addWidget(self.waiting)
        self.stack.addWidget(self.gauge_host)
        self.stack.setCurrentWidget(self.gauge_host)
        outer.addWidget(self.stack_host, 5)
        self.below = BelowGauges()  # the traces, or the last summary in their place: never over the gauges
        self.trace_host = self.below.trace_layout
        self.card, self.card_host = self.below.card, self.below.card_host
        self.card.dismissed.connect(self.dismiss_summary)
        outer.addWidget(self.below, 3)
        self.help = QLabel("<br>".join(f"<b>{k}</b> &nbsp; {v}" for k, v in SHORTCUTS))
        self.help.setFont(font(15))
        self.help.setWindowFlags(Qt.WindowType.Tool)
        self.help.setWindowTitle("emgfeedback keyboard shortcuts")
        self.help.setMargin(20)
        # status bar
        sb = self.statusBar()
        self.status_source = QLabel(self.config.source_text)
        self.status_rate = QLabel("")
        self.status_quality = QLabel("")
        self.status_delay = QLabel("")
        self.status_delay.setToolTip("the envelope lags the muscle by half its window; use --window-ms for faster cues")
        self.status_audio = QLabel(self.player.status)
        self.status_record = QLabel("")
        self.status_profile = QLabel(f"profile: {self.config.profile_name or 'none'}")
        for w in (
            self.status_source,
            self.status_rate,
            self.status_quality,
            self.status_delay,
            self.status_profile,
            self.status_audio,
            self.status_record,
        ):
            sb.addWidget(w)
        self.player.status_changed.connect(self.status_audio.setText)

    def _action(self, text: str, keys: list[str], slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.actions_by_name = {
            "hold": self._action("Start/stop hold", ["Space"], self.toggle_hold),
            "dismiss": self._action("Close summary", ["Return", "Enter", "Escape"], self.dismiss_summary),
            "summary": self._action("Last hold summary", ["H"], self.toggle_summary),
            "card_down": self._action("Scroll the summary down", ["PgDown"], lambda: self.below.scroll_card(+1)),
            "card_up": self._action("Scroll the summary up", ["PgUp"], lambda: self.below.scroll_card(-1)),
            "auto": self._action("Auto-start holds", ["A"], self.toggle_auto),
            "program": self._action("Run a training program", ["G"], self.choose_program),
            "stop_program": self._action("Stop the training program", ["Ctrl+G"], lambda: self.acq.send(StopProgram())),
            "calibrate": self._action("Calibrate", ["C"], self.calibrate),
            "profile": self._action("Choose profile", ["P"], self.choose_profile),
            "record": self._action("Record", ["R"], self.toggle_record),
            "mute": self._action("Mute", ["M"], lambda: self.player.set_muted(not self.player.muted)),
            "sounds": self._action("Test sounds", ["S"], lambda: self.sound_check.toggle(hold_running=self._holding)),
            "louder": self._action("Louder", ["+", "="], lambda: self.player.set_volume(self.player.volume + 0.1)),
            "quieter": self._action("Quieter", ["-"], lambda: self.player.set_volume(self.player.volume - 0.1)),
            "raw": self._action("Raw trace", ["W"], self.toggle_raw),
            "shorter": self._action("Shorter history", ["["], lambda: self.change_history(-10)),
            "longer": self._action("Longer history", ["]"], lambda: self.change_history(+10)),
            "theme": self._action("Theme", ["T"], self.toggle_theme),
            "fullscreen": self._action("Full screen", ["F11"], self.toggle_fullscreen),
            "screenshot": self._action("Screenshot", ["Ctrl+S"], self.save_screenshot),
            "help": self._action("Help", ["F1", "?"], self.show_help),
            "quit": self._action("Quit", ["Ctrl+Q"], self.close),
        }

    def _build_live(self) -> None:
        """Once the source is open: one gauge per muscle and the traces."""
        assert self.acq.info is not None and self.acq.engine is not None
        self.waiting.setVisible(False)
        names = self.acq.engine.names
        for name in names:
            gauge = MuscleGauge(name, self.config.muscle_bands.get(name, self.config.band), theme=self.theme)
            self.gauges.append(gauge)
            self.gauge_row.addWidget(gauge)
        self._default_bands = [g.band for g in self.gauges]  # shown again when no program runs
        self.traces = TraceView(
            names, self.config.band, self.acq.info.fs, theme=self.theme, seconds=float(self.settings.value("history_s", 20))
        )
        self.traces.show_raw(self.settings.value("show_raw", "false") == "true")
        self.trace_host.addWidget(self.traces)
        delay = self.acq.pipeline.cue_latency_ms if self.acq.pipeline else math.nan
        self.status_delay.setText(f"cue delay ~{delay:.0f} ms")
        self.status_source.setText(self.acq.info.description or self.config.source_text)
        self.setWindowTitle(f"emgfeedback - {self.status_source.text()}")
        self._auto_start = self.acq.engine is not None and self.acq.engine.auto_start  # set before the stream opened
        if self.acq.engine is not None and self.settings.value("auto_start", "false") == "true":
            self._auto_start = True
            self.acq.send(SetAutoStart(True))
        if self.player.note:
            self.status_audio.setText(self.player.status)
        self._built = True

    # --- the frame loop -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Pull the newest samples and redraw; runs on the UI timer."""
        t0 = time.perf_counter()
        if not self._built:
            if self.acq.error:
                self.show_error(self.acq.error)
                return
            if not (self.acq.opened.is_set() and self.acq.ring is not None and self.acq.engine is not None):
                return
            self._build_live()
        ring = self.acq.ring
        assert ring is not None and self.traces is not None
        end, last = ring.newest(("percent", "state"))
        snap = self.acq.snapshot()  # one snapshot per frame: every part of the screen shows the same moment
        hold = snap.hold
        if end >= 0:
            for c, (gauge, pct, st) in enumerate(zip(self.gauges, last["percent"], last["state"], strict=False)):
                in_band = hold.in_band_pct[c] if hold is not None else None
                gauge.set_value(pct, _STATES.get(st, State.UNKNOWN), in_band_pct=in_band, hint=self._hints.get(c, ""))
            if self.traces.due(end + 1):  # the envelope moves on one strided point at a time (~11 a second)
                index, data = ring.latest_strided(self.traces.samples, self.traces.stride(), ("percent",))
                filtered = None
                if self.traces.raw_shown:
                    filtered = ring.latest(self.traces.samples, ("filtered",))[1]["filtered"]
                self.traces.draw(end + 1, index, data["percent"], filtered)
        for cue in self.acq.drain_cues():
            if not self.speaker.say(cue.cue):  # program cues are spoken where the system can, tones otherwise
                self.player.play(cue)
        for summary in self.acq.drain_holds():
            self.summaries.append(summary)
            if not summary.tags:  # a program rep reports in the program panel; no card over the gauges
                self.show_summary(summary)
            self.hold_finished.emit(summary)
        self.program_panel.show_view(snap.program)
        if snap.program is not None and not snap.program.done and hold is None:
            self.hold_timer.detail.setText("training program running: Space pauses it")
        self.traces.set_band(common_band(apply_bands(self.gauges, snap.program, self._default_bands), self.config.band))
        names = self.acq.engine.names if self.acq.engine is not None else []
        self.fatigue.setText(fatigue_text(names, hold.mdf_hz, hold.mdf_change_pct) if hold is not None else "")
        if hold is not None:
            self.sound_check.stop_for_hold()
            if self.below.card_shown:  # a hold started (by key or automatically): the card gives way to the traces
                self.dismiss_summary()
            synergy = hold.synergy_pct if self._has_synergy else None
            self.hold_timer.show_running(hold.duration_s, synergy, hold.overclench_episodes, hold.auto)
        elif self.hold_timer.button.isChecked():
            self.hold_timer.show_idle()
        now = time.monotonic()
        if now - self._last_status > 0.5:
            self._last_status = now
            self.update_status()
        if self.acq.error:
            self.show_error(self.acq.error)
        self.frame_times.append(time.perf_counter() - t0)
        del self.frame_times[:-600]
        self.refreshed.emit()

    def update_status(self) -> None:
        """Rate, drops, reconnects, per-channel quality with plain hints."""
        info, stats = self.acq.info, self.acq.stats
        if info is None:
            return
        text, tip = rate_text(info, stats)
        self.status_rate.setText(text)
        self.status_rate.setToolTip(tip)
        report = self.acq.quality_report()
        hints: dict[int, str] = {}
        if report is not None and self.acq.engine is not None:
            text, tip, hints = quality_text(self.acq.engine.names, report)
            self.status_quality.setText(text)
            self.status_quality.setToolTip(tip)
        self._hints = hints
        if self.recorder is not None:
            self.status_record.setText(f"\u25cf REC {self.recorder.status_text}")
        else:
            self.status_record.setText("not recording (R)")

    def show_error(self, message: str) -> None:
        self.banner.setText(f"\u26a0 {message}")
        self.banner.setStyleSheet(f"color: {self.theme.states[State.OVER]};")
        self.banner.setVisible(True)
        if not self._built:
            self.waiting.setText("no data: see the message above")

    # --- actions ------------------------------------------------------------------------------
    def toggle_hold(self) -> None:
        if self.acq.engine is None:
            return
        program = self.acq.snapshot().program
        if program is not None and not program.done:  # one key pauses the program
            self.acq.send(PauseProgram())
            return
        if self.acq.snapshot().hold is None:
            self.dismiss_summary()
            self.hold_timer.show_running(0.0, 0.0 if self._has_synergy else None, 0, False)
        self.acq.toggle_hold()

    def show_summary(self, summary: HoldSummary) -> None:
        """The hold's card below the gauges, unless another hold already runs (then H shows it later)."""
        if self.acq.snapshot().hold is None:
            self.below.show_card(summary)
        synergy = f", synergy {summary.synergy_pct:.0f}%" if has_synergy([m.name for m in summary.muscles]) else ""
        self.hold_timer.show_idle(f"last hold {summary.duration_s:.1f} s{synergy}  (H: its summary)")

    def dismiss_summary(self) -> None:
        self.below.show_traces()

    def toggle_summary(self) -> None:
        """H: show or hide the last hold's summary (while a hold runs the gauges and traces stay)."""
        if self.below.card_shown:
            self.dismiss_summary()
        elif not self.summaries:
            self.statusBar().showMessage("no hold yet: its summary shows here when it ends", 3000)
        elif self.acq.snapshot().hold is not None:
            self.statusBar().showMessage("a hold is running: its summary shows when it ends", 3000)
        else:
            self.below.show_card(self.summaries[-1])

    def toggle_auto(self) -> None:
        if self.acq.engine is not None:
            self._auto_start = not self._auto_start
            self.acq.send(SetAutoStart(self._auto_start))
            self.settings.setValue("auto_start", "true" if self._auto_start else "false")
            self.statusBar().showMessage(f"auto-start holds {'on' if self._auto_start else 'off'}", 3000)

    def choose_program(self) -> None:
        """Pick a training program and run it from the next sample (its reps become tagged holds)."""
        try:
            program = pick_program(self)
        except UserError as exc:
            self.show_error(str(exc))
            return
        if program is not None:
            self.dismiss_summary()
            self.acq.send(StartProgram(program))

    def toggle_raw(self) -> None:
        if self.traces is not None:
            visible = not self.traces.raw_shown  # the switch, not isVisible(): that is False until the window shows
            self.traces.show_raw(visible)
            self.settings.setValue("show_raw", "true" if visible else "false")

    def change_history(self, delta: float) -> None:
        if self.traces is not None:
            self.traces.set_seconds(self.traces.seconds + delta)
            self.settings.setValue("history_s", self.traces.seconds)

    def toggle_theme(self) -> None:
        self.theme = THEMES["light" if self.theme.name == "dark" else "dark"]
        self.settings.setValue("theme", self.theme.name)
        apply_theme(QApplication.instance(), self.theme)  # type: ignore[arg-type]
        for g in self.gauges:
            g.set_theme(self.theme)
        self.program_panel.set_theme(self.theme)
        if self.traces is not None:
            self.traces.set_theme(self.theme)

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def show_help(self) -> None:
        self.help.show()
        self.help.raise_()

    def save_screenshot(self, path: str | Path | None = None) -> Path:
        """Save the window as PNG (default: the data directory) and return the path."""
        target = Path(path) if path else data_dir() / f"screenshot-{time.strftime('%Y%m%d-%H%M%S')}.png"
        saved = save_private_image(self.grab(), target)
        if saved:
            self.screenshots.append(target)  # the app names them on exit
        self.statusBar().showMessage(f"saved {target}" if saved else f"could not save {target}: is the folder writable?", 4000)
        return target

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop drawing, recording and acquisition cleanly."""
        self.timer.stop()
        if self.recorder is not None:
            self.recorder.stop()
            self.recorder = None
        self.acq.stop()
        self.player.close()  # stop the sound stream's thread
        self.speaker.close()
        self.help.close()
        super().closeEvent(event)
