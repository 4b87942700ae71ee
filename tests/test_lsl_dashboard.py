"""--lsl on the dashboard: `demo --lsl` publishes while it runs, and the status bar says "LSL on"."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from lsl_util import start_cli, wait_for

pytest.importorskip("mne_lsl")

from emgfeedback.calibration import demo_profile
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.runtime.live import LiveOptions, build_acquisition
from emgfeedback.runtime.lsl_out import LslPublisher
from emgfeedback.ui.lsl_indicator import LslIndicator


def test_indicator_shows_lsl_on_while_publishing(qtbot) -> None:
    acq = build_acquisition(SimulatedSource("backbend-hold", channels=2), LiveOptions(profile=demo_profile(2)))
    publisher = LslPublisher("indicator-test", device="simulated")
    indicator = LslIndicator(publisher)
    qtbot.addWidget(indicator)
    assert "LSL on" not in indicator.text()
    publisher.attach(acq, profile="demo")
    acq.start()
    try:
        qtbot.waitUntil(lambda: indicator.text() == "\u25c9 LSL on: indicator-test", timeout=15000)
        assert "visible to every machine on this network" in indicator.toolTip()
    finally:
        acq.stop()
        publisher.close()


def test_demo_publishes_the_three_streams(tmp_path: Path) -> None:
    import mne_lsl.lsl as lsl

    name = f"demo{uuid.uuid4().hex[:8]}"
    shot = tmp_path / "demo.png"
    proc = start_cli("demo", "--lsl", "--lsl-name", name, "--screenshot", str(shot), "--quit-after", "12")
    try:
        found = wait_for(lambda: lsl.resolve_streams(timeout=0.5, name=f"{name}-mvc"), 30, "the MVC stream")
        inlet = lsl.StreamInlet(found[0])
        inlet.open_stream(timeout=10)
        sinfo = inlet.get_sinfo(timeout=10)
        names = sinfo.get_channel_names()
        assert names[:4] == [f"{m}_pct_mvc" for m in ("glute_max_left", "hamstring_left", "glute_max_right", "hamstring_right")]
        assert names[-1] == "hold_s" and sinfo.stype == "MVC" and sinfo.sfreq == 1000.0
        got = []

        def enough() -> bool:
            data, stamps = inlet.pull_chunk(timeout=0.0)
            if len(stamps):
                got.append(np.array(data))
            return sum(len(g) for g in got) > 1000

        wait_for(enough, 30, "a second of %MVC")
        for suffix, kind in (("", "EMG"), ("-markers", "Markers")):
            assert lsl.resolve_streams(timeout=5, name=f"{name}{suffix}", stype=kind)
        inlet.close_stream()
        assert proc.wait(60) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
    data = np.vstack(got)
    assert np.isfinite(data[:, :4]).all() and set(np.unique(data[:, 4:8])) <= {0, 1, 2, 3}
    assert shot.exists()
