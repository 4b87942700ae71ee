"""Start the dashboard: QApplication, window, optional screenshot-and-quit for tests and docs."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from emgfeedback.errors import CommandError
from emgfeedback.runtime.acquisition import Acquisition
from emgfeedback.runtime.live import ProfileLike, Recorder, RecorderFactory
from emgfeedback.runtime.lsl_out import LslPublisher
from emgfeedback.runtime.signals import on_stop_signal

#: How often (ms) the event loop hands control to Python, so Ctrl-C / SIGTERM are noticed promptly.
SIGNAL_POLL_MS = 200

#: Harmless platform chatter that would only worry a user (no sound server, offscreen plugin limits).
_QUIET = ("propagateSizeHints", "PulseAudioService", "symbolsresolver", "Using Qt multimedia with FFmpeg")


def quiet_qt_messages() -> None:
    """Drop Qt's harmless start-up warnings from the terminal; everything else still prints."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

    def handler(kind: QtMsgType, context: object, message: str) -> None:
        category = str(getattr(context, "category", "") or "")
        if kind in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg) or category.startswith("qt.multimedia"):
            return
        if any(q in message for q in _QUIET):
            return
        print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def ensure_display(offscreen_ok: bool) -> None:
    """Pick the offscreen platform when there is no display and only a screenshot is wanted.

    Without a display and without ``--screenshot``, fail with a one-line error instead of
    letting Qt abort the process.
    """
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")  # no sound-server chatter in the terminal
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform != "linux":
        return
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    if offscreen_ok:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return
    raise CommandError(
        "no display found (DISPLAY is not set): run this on a desktop session, "
        "or add --screenshot FILE.png --quit-after SECONDS to render offscreen"
    )


def run_dashboard(
    make_acquisition: Callable[[ProfileLike | None], Acquisition],
    profile: ProfileLike | None,
    config: object,
    *,
    screenshot: str | None = None,
    quit_after: float | None = None,
    recorder_factory: RecorderFactory | None = None,
    fullscreen: bool = False,
    record: bool = False,
    lsl: LslPublisher | None = None,
) -> int:
    """Open the window and run the Qt event loop until it closes (Ctrl+Q, Ctrl-C, SIGTERM, --quit-after).

    Returns the exit code; prints one line per recorded session and per saved screenshot.
    """
    ensure_display(offscreen_ok=screenshot is not None or quit_after is not None)
    quiet_qt_messages()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from emgfeedback.ui.main_window import Dashboard, DashboardConfig
    from emgfeedback.ui.private_image import save_private_image

    assert isinstance(config, DashboardConfig)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("emgfeedback")
    recordings: list[Recorder] = []
    tracking = None
    if recorder_factory is not None:
        factory = recorder_factory

        def tracking(acquisition: Acquisition) -> Recorder:
            made = factory(acquisition)
            recordings.append(made)
            return made

    window = Dashboard(make_acquisition(profile), config, restart=make_acquisition, recorder_factory=tracking)
    if window.player.note:
        print(f"emgfeedback: {window.player.note} (see emgfeedback doctor)", file=sys.stderr)
    if lsl is not None:
        from emgfeedback.ui.lsl_indicator import LslIndicator

        window.statusBar().addPermanentWidget(LslIndicator(lsl, window))
    if fullscreen:
        window.showFullScreen()
    else:
        window.show()
    if record:
        window.toggle_record()
    failure: list[str] = []
    saved: list[Path] = []
    finished = False

    def finish() -> None:
        """Save the --screenshot, then close the window (which stops recording and acquisition)."""
        nonlocal finished
        if finished:
            return
        finished = True
        if screenshot:
            target = Path(screenshot)
            if target.parent and not target.parent.exists():
                failure.append(f"{target.parent}: no such directory for --screenshot: create it first")
            elif not save_private_image(window.grab(), target):
                failure.append(f"{target}: could not write the screenshot: check the path and permissions")
            else:
                saved.append(target)
        window.close()
        app.quit()

    if quit_after is not None:
        QTimer.singleShot(int(quit_after * 1000), finish)
    # Ctrl-C / SIGTERM: the handler only queues finish(); the timer lets Python run while Qt waits
    poll = QTimer()
    poll.timeout.connect(lambda: None)
    poll.start(SIGNAL_POLL_MS)
    print(f"dashboard on {config.source_text}: Ctrl+Q or Ctrl-C quits", file=sys.stderr, flush=True)
    try:
        with on_stop_signal(lambda _name: QTimer.singleShot(0, finish)):
            app.exec()
            poll.stop()
            if window.isVisible():  # the loop ended another way (e.g. a dialog's quit): close cleanly all the same
                window.close()
    finally:
        if lsl is not None:
            lsl.close()
    for recording in recordings:
        line = recording.summary_line()
        if line:
            print(line, flush=True)
    for path in [*saved, *window.screenshots]:
        print(f"screenshot saved to {path}", flush=True)
    if failure:
        raise CommandError(failure[0])
    if window.acq.error and not window._built:
        raise CommandError(window.acq.error)
    return 0
