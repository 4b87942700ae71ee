"""The simulated sensor: reproducible, follows its script, and the chain recovers the script."""

from __future__ import annotations

import numpy as np
import pytest

from emgfeedback.config import FilterSpec
from emgfeedback.dsp import MvcNormalizer, Pipeline, QualityMonitor
from emgfeedback.errors import SettingsError
from emgfeedback.io.simulated import (
    SCENARIOS,
    SimulatedSource,
    constant_script,
    make_script,
    rest_script,
)


def _mean_power_rms(script, seconds: float = 20.0, channels: int = 4) -> np.ndarray:
    """RMS level the chain measures on a constant script (skipping the first second)."""
    src = SimulatedSource(script, channels=channels, realtime=False, seed=99)
    src.open()
    env = Pipeline(FilterSpec()).process(src.generate(int(seconds * 1000))).envelope[1000:]
    return np.sqrt(np.mean(env**2, axis=0))


@pytest.fixture(scope="module")
def reference() -> MvcNormalizer:
    """Calibrate as a user would: the chain's resting and maximal levels on the simulator."""
    noise = _mean_power_rms(rest_script(4))
    mvc = _mean_power_rms(constant_script(4, 100.0))
    return MvcNormalizer(mvc, noise)


@pytest.mark.parametrize("level", [10.0, 30.0, 50.0, 80.0])
def test_steady_state_percent_mvc_matches_script(reference: MvcNormalizer, level: float) -> None:
    src = SimulatedSource(constant_script(4, level), channels=4, realtime=False, seed=7)
    src.open()
    pct = Pipeline(FilterSpec(), normalizer=reference).process(src.generate(15000)).percent[2000:]
    assert np.all(np.abs(pct.mean(axis=0) - level) <= 2.0), pct.mean(axis=0)


def test_same_seed_same_samples_whatever_the_chunking() -> None:
    a = SimulatedSource("backbend-hold", realtime=False, chunk_samples=7, seed=3)
    b = SimulatedSource("backbend-hold", realtime=False, chunk_samples=1000, seed=3)
    a.open()
    b.open()
    xa = np.concatenate([a.read().samples for _ in range(1000)])
    xb = np.concatenate([b.read().samples for _ in range(7)])
    np.testing.assert_array_equal(xa, xb)
    c = SimulatedSource("backbend-hold", realtime=False, seed=4)
    c.open()
    assert not np.array_equal(c.generate(7000), xa)


def test_samples_look_like_an_arduino_adc() -> None:
    src = SimulatedSource("calibration", realtime=False)
    src.open()
    x = src.generate(20000)
    assert src.info.adc_bits == 10 and src.info.units == "counts"
    assert np.all(x == np.rint(x)) and x.min() >= 0 and x.max() <= 1023
    assert abs(np.median(x) - 512) < 2


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_exposes_its_script(name: str) -> None:
    script = make_script(name, 2)
    assert script.channels == 2 and script.duration > 0
    levels = script.level_at(np.linspace(0, script.duration, 50))
    assert levels.shape == (50, 2) and np.all(levels >= 0) and np.all(levels <= 100)


def test_backbend_script_drifts_in_and_out_of_band_and_over_clenches() -> None:
    script = make_script("backbend-hold", 4)
    assert len(script.holds) == 2
    t = np.arange(0, script.duration, 0.01)
    lv = script.level_at(t)
    glute = lv[:, 0]
    assert (glute > 55).any() and ((glute > 30) & (glute < 50)).mean() > 0.3 and (glute[(t > 45) & (t < 75)] < 30).any()


def test_calibration_script_has_three_maximal_trials_per_muscle() -> None:
    script = make_script("calibration", 4)
    assert len(script.trials) == 12
    for ch, start, stop in script.trials:
        mid = script.level_at((start + stop) / 2)[0]
        assert mid[ch] == 100.0


def test_electrode_off_and_hum_are_caught_by_quality_checks() -> None:
    src = SimulatedSource("electrode-off", channels=2, realtime=False)
    src.open()
    q = QualityMonitor(1000, 2, adc_max=1023, mains_hz=50)
    x = src.generate(10000)  # 8-10 s: electrode 0 off
    q.update(x)
    rep = q.report()
    assert rep is not None and rep.channels[0].electrode_off and rep.channels[0].label == "OFF"
    assert not rep.channels[1].electrode_off
    hum = SimulatedSource("rest", channels=1, realtime=False, hum_counts=8.0)
    hum.open()
    q = QualityMonitor(1000, 1, adc_max=1023, mains_hz=50)
    q.update(hum.generate(3000))
    assert q.report().channels[0].label == "HUM"  # type: ignore[union-attr]


def test_bad_simulator_settings_are_one_line_errors() -> None:
    with pytest.raises(SettingsError, match="use one of"):
        SimulatedSource("handstand")
    with pytest.raises(SettingsError, match="1 to 4"):
        SimulatedSource(channels=6)
