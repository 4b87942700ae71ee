"""The dashboard's calibration entry points: the wizard in a dialog, and a profile picker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QInputDialog, QMessageBox, QVBoxLayout

from emgfeedback.calibration import Profile, list_profiles, load_profile
from emgfeedback.calibration.saving import missing_text
from emgfeedback.errors import ProfileError, SettingsError
from emgfeedback.muscles import STANDARD, muscle_kind

if TYPE_CHECKING:
    from emgfeedback.ui.main_window import Dashboard


def muscle_map(window: Dashboard) -> dict[str, int]:
    """Muscles to calibrate: the current profile's map, the stream's names if they are muscles,
    else the standard wiring (glute max left on A0, high hamstring left on A1, then the right side)."""
    acq = window.acq
    names = list(acq.engine.names) if acq.engine is not None else list(acq.info.names)
    if all(muscle_kind(n) in ("glute_max", "hamstring") for n in names):
        return {n: i for i, n in enumerate(names)}
    return {name: i for i, name in enumerate(STANDARD[: acq.info.channels])}


class CalibrationDialog(QDialog):
    """The wizard, full size, on the dashboard's running acquisition."""

    def __init__(self, window: Dashboard, name: str, *, update: Profile | None = None) -> None:
        """``update``: redo only the muscles that partial profile lacks, merged into it."""
        super().__init__(window)
        from emgfeedback.ui.calibration_wizard import CalibrationWizard

        self.setWindowTitle("Calibrate MVC" if update is None else f"Calibrate the missing muscles of {update.name}")
        self.profile: Profile | None = None
        self.wizard = CalibrationWizard.from_acquisition(
            window.acq,
            self,
            muscles=dict(update.missing) if update is not None else muscle_map(window),
            name=name,
            theme=window.theme,  # the dashboard's theme, light or dark
            update=update,
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.wizard)
        self.wizard.finished.connect(self._done)
        self.wizard.cancelled.connect(self.reject)
        self.resize(window.size())

    def _done(self, profile: Profile) -> None:
        self.profile = profile
        self.accept()


def run_calibration_dialog(window: Dashboard) -> Profile | None:
    """Ask for a profile name, run the wizard; the saved profile, or None if cancelled."""
    acq = window.acq
    if acq.info is None or acq.pipeline is None:
        QMessageBox.information(window, "Calibrate", "The sensor is not connected yet: wait for data, then press C.")
        return None
    partial = _partial_profile(window)
    if partial is not None:
        answer = QMessageBox.question(
            window,
            "Calibrate",
            f"Profile '{partial.name}' lacks {missing_text(partial)}.\n\nRedo only that now (Yes), or calibrate every "
            "muscle as a new profile (No)?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Cancel:
            return None
        if answer != QMessageBox.StandardButton.Yes:
            partial = None
    name = partial.name if partial is not None else ""
    if partial is None:
        name, ok = QInputDialog.getText(window, "Calibrate MVC", "Name for this electrode placement:", text="standard placement")
        if not ok or not name.strip():
            return None
    try:
        dialog = CalibrationDialog(window, name.strip(), update=partial)
    except SettingsError as exc:
        QMessageBox.warning(window, "Calibrate", str(exc))
        return None
    dialog.exec()
    return dialog.profile


def _partial_profile(window: Dashboard) -> Profile | None:
    """The dashboard's current profile when it is saved and lacks muscles, else None."""
    name = window.config.profile_name
    if not name:
        return None
    try:
        profile = load_profile(name)
    except ProfileError:
        return None  # e.g. the built-in demo profile, which is not a file
    return None if profile.complete else profile


def pick_profile(window: Dashboard) -> Profile | None:
    """Choose one of the saved profiles; None if there are none or the user cancels."""
    profiles = list_profiles()
    if not profiles:
        QMessageBox.information(window, "Profiles", "No calibration profiles yet: press C to calibrate.")
        return None
    names = [p.name for p in profiles]
    name, ok = QInputDialog.getItem(window, "Calibration profile", "Use profile:", names, 0, False)
    if not ok:
        return None
    try:
        return load_profile(name)
    except ProfileError as exc:
        QMessageBox.warning(window, "Profiles", str(exc))
        return None
