"""The program inside the acquisition: the same reps whatever the chunk sizes, stop and pause commands,
the ease-out cue, and chunked fatigue windows equal to one-shot ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from offline_recording import SimulatedProfile, record_offline

from emgfeedback.config import Band
from emgfeedback.dsp.spectra import HoldSpectra
from emgfeedback.feedback import Cue, FeedbackEngine
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.runtime.commands import PauseProgram, StopProgram
from emgfeedback.runtime.live import LiveOptions, build_acquisition
from emgfeedback.training.athlete import athlete_script
from emgfeedback.training.program import load_program, with_exercise

FS = 500.0


def _holds(emg_home, chunk: int) -> list[dict]:
    program = with_exercise(load_program("underbutt-isolation"), 0, reps=3)
    src = SimulatedSource(athlete_script(program, 4), channels=4, fs=FS, seed=5, realtime=False, chunk_samples=chunk)
    res = record_offline(src, store_path=emg_home / f"c{chunk}.sqlite3",
                         options=LiveOptions(profile=SimulatedProfile(4), program=program))  # fmt: skip
    return [h.as_dict() for h in res.holds]


def test_program_reps_do_not_depend_on_how_the_stream_is_chunked(emg_home) -> None:
    ref = _holds(emg_home, 5)
    assert [h["program"]["rep"] for h in ref] == [1, 2, 3]
    assert [h["program"]["success"] for h in ref] == [True, False, True]
    for chunk in (97, 1000, 7000):  # 7000 samples = 14 s: one chunk holds a whole rep and its edges
        other = _holds(emg_home, chunk)
        assert [(h["start_index"], h["stop_index"]) for h in other] == [(h["start_index"], h["stop_index"]) for h in ref]
        assert [h["program"] for h in other] == [h["program"] for h in ref]


def _acq(program_reps: int = 5):
    program = with_exercise(load_program("underbutt-isolation"), 0, reps=program_reps)
    src = SimulatedSource(athlete_script(program, 4), channels=4, fs=FS, realtime=False, chunk_samples=50)
    acq = build_acquisition(src, LiveOptions(profile=SimulatedProfile(4), program=program))
    src.open()
    acq.setup(src.info)
    return acq, src


def _feed(acq, src, seconds: float) -> None:
    for _ in range(int(seconds * FS / 50)):
        chunk = src.read(0.0)
        acq.process_chunk(chunk.start, chunk.samples)


def test_pause_abandons_the_rep_and_stop_ends_the_program() -> None:
    acq, src = _acq()
    _feed(acq, src, 15.0)  # inside rep 1 (13-23 s)
    assert acq.snapshot().program.phase == "work" and acq.snapshot().hold is not None
    acq.send(PauseProgram())
    _feed(acq, src, 5.0)
    view = acq.snapshot().program
    assert view.paused and acq.snapshot().hold is None
    assert view.outcomes[-1].aborted
    holds = acq.drain_holds()
    assert holds[-1].tags["aborted"] is True and holds[-1].tags["success"] is None
    acq.send(PauseProgram())  # resume: the countdown, then rep 1 again
    _feed(acq, src, 4.0)
    assert acq.snapshot().program.phase == "work" and acq.snapshot().program.rep == 1
    acq.send(StopProgram())
    _feed(acq, src, 1.0)
    assert acq.snapshot().program is None and acq.snapshot().hold is None
    assert acq.engine.classifier.bands[0] == Band()  # the session's band is back


def test_cues_mark_each_program_step() -> None:
    acq, src = _acq(program_reps=2)
    _feed(acq, src, 40.0)
    cues = [(c.cue, c.index) for c in acq.drain_cues() if c.cue in (Cue.GET_READY, Cue.GO, Cue.REST, Cue.DONE)]
    # 10 s setup, 3 s countdown, 10 s rep, 7 s rest, 3 s countdown, 10 s rep, done at 43 s
    assert cues[:5] == [(Cue.GET_READY, int(10 * FS)), (Cue.GO, int(13 * FS)), (Cue.REST, int(23 * FS)),
                        (Cue.GET_READY, int(30 * FS)), (Cue.GO, int(33 * FS))]  # fmt: skip


def test_ease_out_cue_when_the_median_frequency_falls() -> None:
    fs = 1000.0
    rng = np.random.default_rng(2)
    from scipy import signal

    sos = signal.butter(2, [60, 180], btype="bandpass", fs=fs, output="sos")
    x = signal.sosfilt(sos, rng.standard_normal(40_000))
    phase = np.cumsum(1.0 - 0.01 * np.arange(30_000) / fs)  # frequencies fall 1 % per second
    y = np.interp(phase, np.arange(x.size), x)[:, None]
    engine = FeedbackEngine(["hamstring_left"], [Band()], fs, ease_out_pct=15.0)
    engine.start_hold(0)
    eased = []
    for a in range(0, y.shape[0], 100):
        upd = engine.process(a, np.full((100, 1), 40.0), y[a : a + 100])
        eased += [c.index for c in upd.cues if c.cue is Cue.EASE_OUT]
    assert len(eased) == 1  # once per hold
    assert 12_000 < eased[0] < 25_000  # a 15 % fall of a 1 %/s compression: around 15-20 s in


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 900), min_size=1, max_size=30))
def test_chunked_fatigue_windows_equal_one_shot(sizes: list[int]) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6000, 2))
    one = HoldSpectra(2, 1000.0)
    one.update(x)
    chunked = HoldSpectra(2, 1000.0)
    pos, k = 0, 0
    while pos < x.shape[0]:
        n = sizes[k % len(sizes)]
        chunked.update(x[pos : pos + n])
        pos += n
        k += 1
    assert chunked.times == one.times
    np.testing.assert_allclose(np.vstack(chunked.mdf), np.vstack(one.mdf), rtol=1e-9)
    np.testing.assert_allclose(np.vstack(chunked.rms), np.vstack(one.rms), rtol=1e-9)


def test_summary_keys_match_the_contract() -> None:
    h = HoldSpectra(1, 1000.0)
    h.update(np.random.default_rng(1).standard_normal((3000, 1)))
    (entry,) = h.summary(["hamstring_left"])
    for key in ("name", "mdf_start_hz", "mdf_end_hz", "mdf_slope_hz_per_s", "mnf_slope_hz_per_s", "rms_change_pct"):
        assert key in entry
    assert entry["name"] == "hamstring_left"
    assert HoldSpectra(1, 1000.0).summary(["x"])[0]["mdf_slope_hz_per_s"] is None  # no window yet
    assert pytest.approx(entry["mdf_end_hz"] - entry["mdf_start_hz"]) == entry["mdf_slope_hz_per_s"] * 2.0
