"""Feedback semantics without Qt: states, hysteresis, dwell, holds and cues."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emgfeedback.config import Band
from emgfeedback.feedback import BandClassifier, Cue, CueEngine, FeedbackEngine, HoldTracker, State

FS = 1000.0


def _sequential_reference(p: np.ndarray, band: Band, fs: float) -> np.ndarray:
    """A plain per-sample loop of the documented rules, to check the vectorized classifier."""
    lo, hi, h = band.low, band.high, band.hysteresis
    dwell = max(round(band.dwell_ms * fs / 1000), 1)
    raw, run, reported = State.UNKNOWN, 0, State.UNKNOWN
    out = []
    for v in p:
        if not np.isfinite(v):
            new = State.UNKNOWN
        elif v < lo - h:
            new = State.BELOW
        elif v > hi + h:
            new = State.OVER
        elif lo + h < v < hi - h:
            new = State.IN
        elif v <= lo + h:  # near the lower edge: keep BELOW/IN, else IN
            new = raw if raw in (State.BELOW, State.IN) else State.IN
        else:  # near the upper edge
            new = raw if raw in (State.IN, State.OVER) else State.IN
        run = run + 1 if new == raw else 1
        raw = new
        if run >= dwell:
            reported = raw
        out.append(reported)
    return np.array(out)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=20),
    dwell=st.sampled_from([0.0, 20.0, 150.0]),
)
def test_classifier_matches_the_sequential_rules_in_any_chunking(seed: int, sizes: list[int], dwell: float) -> None:
    rng = np.random.default_rng(seed)
    walk = np.clip(40 + np.cumsum(rng.normal(0, 1.5, 3000)), -5, 90)
    walk[rng.integers(0, 3000, 20)] = np.nan
    band = Band(30, 50, hysteresis=2.0, dwell_ms=dwell)
    want = _sequential_reference(walk, band, FS)
    clf = BandClassifier([band], FS)
    got, pos, i = [], 0, 0
    while pos < walk.size:
        step = sizes[i % len(sizes)]
        got.append(clf.update(walk[pos : pos + step, None])[:, 0])
        pos += step
        i += 1
    np.testing.assert_array_equal(np.concatenate(got), want)


def test_hysteresis_stops_flicker_at_an_edge() -> None:
    band = Band(30, 50, hysteresis=2.0, dwell_ms=0)
    p = 50 + 1.5 * np.sin(np.arange(2000) / 5.0)  # wobbling around the upper edge, inside the hysteresis
    p[:100] = 40
    states = BandClassifier([band], FS).update(p[:, None])[:, 0]
    assert set(states.tolist()) == {State.IN}


def test_dwell_ignores_short_excursions() -> None:
    band = Band(30, 50, dwell_ms=150)
    p = np.full(3000, 40.0)
    p[1000:1100] = 70  # 100 ms spike: ignored
    p[2000:2400] = 70  # 400 ms: reported after 150 ms
    states = BandClassifier([band], FS).update(p[:, None])[:, 0]
    assert (states[150:2000] == State.IN).all()
    assert (states[2150:2400] == State.OVER).all() and (states[2000:2149] == State.IN).all()


def test_hold_statistics_and_synergy() -> None:
    names = ["glute_max_left", "hamstring_left"]
    n = 10_000
    pct = np.zeros((n, 2))
    pct[:, 1] = 40  # hamstring in band the whole hold
    pct[:, 0] = 40
    pct[2000:4000, 0] = 80  # glute over-clenches for 2 s
    pct[6000:6500, 0] = 80  # and again for 0.5 s
    states = np.where(pct > 50, State.OVER, State.IN).astype(np.int8)
    tracker = HoldTracker(1, names, FS, start_index=0)
    for k in range(0, n, 333):
        tracker.update(k, pct[k : k + 333], states[k : k + 333])
    s = tracker.summary
    glute = s.muscles[0].as_dict(FS)
    assert glute["overclench_count"] == 2 and glute["overclench_s"] == 2.5
    assert glute["time_in_band_s"] == 7.5 and glute["peak_pct_mvc"] == 80
    assert s.synergy_pct == 75.0 and s.duration_s == 10.0


def test_cue_engine_rate_limits_and_ticks() -> None:
    engine = CueEngine(["glute_max_left"], FS, tick_s=10.0, min_gap_s=0.4)
    states = np.full((25_000, 1), State.IN, dtype=np.int8)
    states[5000:5100] = State.OVER  # a 100 ms over-clench
    events = []
    for k in range(0, 25_000, 1000):
        events += engine.update(k, states[k : k + 1000])
    kinds = [(e.cue, e.index) for e in events]
    assert (Cue.OVER, 5000) in kinds
    assert not any(c is Cue.RETURN for c, _ in kinds)  # back within 0.4 s: no second cue
    ticks = [i for c, i in kinds if c is Cue.TICK]
    assert ticks == [15_100]  # 10 s into the unbroken in-band run that began at 5100


def test_engine_holds_by_command_and_auto_start() -> None:
    names = ["glute_max_left", "hamstring_left"]
    eng = FeedbackEngine(names, [Band()] * 2, FS, auto_start=True, auto_enter_s=1.0, auto_exit_s=2.0)
    pct = np.zeros((20_000, 2))
    pct[3000:12_000] = 40
    started, finished = [], []
    for k in range(0, 20_000, 500):
        upd = eng.process(k, pct[k : k + 500])
        if upd.started_hold is not None:
            started.append(upd.started_hold)
        finished += upd.finished_holds
    assert len(started) == 1 and 4000 <= started[0] <= 4300
    assert len(finished) == 1 and finished[0].duration_s > 7
    manual = FeedbackEngine(names, [Band()] * 2, FS)
    manual.start_hold(1000)
    manual.stop_hold(3000)
    upd = manual.process(0, np.full((5000, 2), 40.0))
    assert upd.finished_holds[0].start_index == 1000 and upd.finished_holds[0].stop_index == 3000
    assert upd.cues[0].cue is Cue.HOLD_START and upd.cues[-1].cue is Cue.HOLD_END
