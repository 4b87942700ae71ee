"""The training program strip above the gauges: exercise, instructions, 3-2-1 countdown, work/rest
timer, set and rep counters, each rep's result; plus the live fatigue trend of a running hold.

It only reads :class:`~emgfeedback.runtime.program.ProgramView` snapshots (the program itself runs in
the reader thread), and it sits in the layout beside the gauges, never over them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QInputDialog, QLabel, QVBoxLayout, QWidget

from emgfeedback.config import Band
from emgfeedback.feedback import State
from emgfeedback.muscles import short_name
from emgfeedback.runtime.program import ProgramView, RepOutcome
from emgfeedback.training.program import Program, loadable_programs
from emgfeedback.ui.gauge import MuscleGauge
from emgfeedback.ui.theme import THEMES, Theme, font

PHASE_TEXT = {
    "setup": "GET INTO POSITION",
    "ready": "GET READY",
    "work": "HOLD",
    "rest": "REST",
    "set_rest": "REST BEFORE THE NEXT SET",
    "done": "PROGRAM DONE",
}


def countdown_text(view: ProgramView) -> str:
    """3-2-1 in the countdown, whole seconds left otherwise."""
    left = max(view.remaining_s, 0.0)
    if view.done:
        return "\u2713"
    if view.phase == "ready":
        return str(max(math.ceil(left), 1))
    return f"{math.ceil(left)} s"


def outcome_text(o: RepOutcome) -> str:
    if o.aborted:
        return f"{o.rep}: paused"
    mark = "\u2713" if o.success else "\u2717"
    return f"{o.rep}: {mark} {o.pct:.0f}%"


class ProgramPanel(QFrame):
    """Shows the running program; hidden when none runs."""

    def __init__(self, theme: Theme | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme or THEMES["dark"]
        self.setFrameShape(QFrame.Shape.StyledPanel)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(12, 6, 12, 6)
        left = QVBoxLayout()
        self.title = QLabel()
        self.title.setFont(font(15))
        self.exercise = QLabel()
        self.exercise.setFont(font(22, bold=True))
        self.instructions = QLabel()
        self.instructions.setFont(font(14))
        self.instructions.setWordWrap(True)
        self.instructions.setTextFormat(Qt.TextFormat.RichText)
        left.addWidget(self.title)
        left.addWidget(self.exercise)
        left.addWidget(self.instructions)
        grid = QGridLayout()
        self.phase = QLabel()
        self.phase.setFont(font(22, bold=True))
        self.phase.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.count = QLabel()
        self.count.setFont(font(64, bold=True))
        self.count.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.count.setMinimumWidth(220)
        self.counters = QLabel()
        self.counters.setFont(font(20, bold=True))
        self.counters.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.results = QLabel()
        self.results.setFont(font(16, bold=True))
        self.results.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.results.setTextFormat(Qt.TextFormat.RichText)
        self.keys = QLabel("Space pause \u00b7 Ctrl+G stop")
        self.keys.setFont(font(12))
        self.keys.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid.addWidget(self.phase, 0, 0)
        grid.addWidget(self.count, 1, 0)
        grid.addWidget(self.counters, 2, 0)
        grid.addWidget(self.results, 3, 0)
        grid.addWidget(self.keys, 4, 0)
        outer.addLayout(left, 3)
        outer.addLayout(grid, 2)
        self.view: ProgramView | None = None
        self.setVisible(False)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        if self.view is not None:
            self.show_view(self.view)

    def show_view(self, view: ProgramView | None) -> None:
        """Draw a snapshot of the program (None: hide)."""
        self.view = view
        if view is None:
            self.setVisible(False)
            return
        self.setVisible(True)
        states = self.theme.states
        self.title.setText(f"{view.title}  \u00b7  exercise {view.exercise_index + 1} of {view.exercises}")
        self.exercise.setText(view.exercise_name)
        muted = self.theme.muted
        position = "" if view.phase == "work" else f"<b>Position</b> {view.position}<br>"  # in the rep: what to feel
        self.instructions.setText(
            f"{position}<b>Feel</b> {view.feel}<br>"
            f"<span style='color:{states[State.OVER]}'><b>Avoid</b> {view.mistake}</span><br>"
            f"<span style='color:{muted}'>a rep succeeds with {view.success_text}</span>"
        )
        phase = "PAUSED (Space resumes)" if view.paused else PHASE_TEXT.get(view.phase, view.phase.upper())
        colour = {"work": states[State.IN], "ready": states[State.BELOW]}.get(view.phase, self.theme.text)
        self.phase.setText(phase)
        self.phase.setStyleSheet(f"color: {colour};")
        self.count.setText(countdown_text(view))
        self.count.setStyleSheet(f"color: {colour};")
        self.counters.setText(f"set {view.set} / {view.sets}    rep {view.rep} / {view.reps}")
        mine = [o for o in view.outcomes if o.exercise == view.exercise_index and o.set == view.set]
        if view.done:
            judged = [o for o in view.outcomes if o.success is not None]
            good = sum(1 for o in judged if o.success)
            self.results.setText(f"{good} of {len(judged)} reps succeeded")
            return
        chips = []
        for o in mine[-6:]:
            c = states[State.IN] if o.success else (self.theme.muted if o.aborted else states[State.OVER])
            chips.append(f"<span style='color:{c}'>{outcome_text(o)}</span>")
        self.results.setText(" &nbsp; ".join(chips) or "&nbsp;")


def apply_bands(gauges: Sequence[MuscleGauge], view: ProgramView | None, defaults: Sequence[Band]) -> Sequence[Band]:
    """Show each exercise's own target bands on the gauges, and ``defaults`` (the profile's) once no program runs
    (a program stopped mid-exercise gives the classifier its bands back, so the gauges must follow). Returns
    the bands shown."""
    bands = view.bands if view is not None and view.bands else defaults
    for gauge, band in zip(gauges, bands, strict=False):
        if gauge.band != band:
            gauge.band = band
            gauge.update()
    return bands


def common_band(bands: Sequence[Band], fallback: Band) -> Band:
    """The one band the trace shades: the muscles' band when they all share it, else ``fallback``."""
    return bands[0] if bands and all(b == bands[0] for b in bands) else fallback


def fatigue_text(names: Sequence[str], mdf_hz: Sequence[float | None], change: Sequence[float | None]) -> str:
    """``MDF  Ham L 118 Hz -6%  Glute L 131 Hz -2%`` (the change appears after the first two seconds)."""
    parts = []
    for c, name in enumerate(names):
        hz = mdf_hz[c] if c < len(mdf_hz) else None
        if hz is None:
            continue
        ch = change[c] if c < len(change) else None
        trend = f" {ch:+.0f}%" if ch is not None else ""
        parts.append(f"{short_name(name)} {hz:.0f} Hz{trend}")
    return ("median frequency  " + "   ".join(parts)) if parts else ""


def pick_program(parent: QWidget) -> Program | None:
    """Ask which program to run (titles, with their length; files that do not load are named); None when cancelled."""
    programs, errors = loadable_programs()
    labels = [f"{p.title}  ({round(p.duration_s / 60)} min)" for p in programs]
    prompt = "Run which program?" + "".join(f"\n(skipped: {e})" for e in errors)
    label, ok = QInputDialog.getItem(parent, "Training program", prompt, labels, 0, False)
    if not ok or label not in labels:
        return None
    return programs[labels.index(label)]
