"""The dashboard's profile and recording actions: calibrate, choose a profile (stop-reconfigure-restart), record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emgfeedback.errors import UserError
from emgfeedback.runtime.live import ProfileLike

if TYPE_CHECKING:
    from emgfeedback.ui.main_window import Dashboard


class ProfileActions:
    """Mixed into :class:`~emgfeedback.ui.main_window.Dashboard`; every method runs in the UI thread."""

    def calibrate(self: Dashboard) -> None:
        """Open the calibration wizard on this source; a new profile restarts the live chain with it."""
        from emgfeedback.ui.calibration_host import run_calibration_dialog

        profile = run_calibration_dialog(self)
        if profile is not None:
            self.use_profile(profile)

    def choose_profile(self: Dashboard) -> None:
        from emgfeedback.ui.calibration_host import pick_profile

        profile = pick_profile(self)
        if profile is not None:
            self.use_profile(profile)

    def use_profile(self: Dashboard, profile: ProfileLike) -> None:
        """Stop, rebuild the acquisition with ``profile``, start again (stop-reconfigure-restart)."""
        if self.restart_with is None:
            return
        recording = self.recorder is not None
        if recording:
            self.toggle_record()
        self.acq.stop()
        self.acq = self.restart_with(profile)
        self.config.profile_name = profile.name
        self.status_profile.setText(f"profile: {profile.name}")
        for g in self.gauges:
            g.setParent(None)
        self.gauges.clear()
        if self.traces is not None:
            self.traces.setParent(None)
            self.traces = None
        self.waiting.setVisible(True)
        self._built = False
        self.acq.start()
        if recording:
            self.toggle_record()

    def toggle_record(self: Dashboard) -> None:
        if self.recorder_factory is None:
            self.statusBar().showMessage("recording is not available here", 3000)
            return
        if self.recorder is None:
            try:
                self.recorder = self.recorder_factory(self.acq)
            except UserError as exc:  # e.g. a store from a newer version: say so, keep showing live data
                self.show_error(f"recording could not start: {exc}")
                return
            self.statusBar().showMessage("recording", 3000)
        else:
            self.recorder.stop()
            self.recorder = None
        self.update_status()
