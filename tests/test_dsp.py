"""The streaming chain: chunked equals one-shot, settings validation, filter behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal

from emgfeedback.config import Band, FilterSpec, InputMode, Mains, StreamInfo, parse_band, parse_mains
from emgfeedback.dsp import MvcNormalizer, Pipeline
from emgfeedback.dsp.envelope import MovingRMS
from emgfeedback.dsp.filters import SosFilter, design_chain
from emgfeedback.errors import SettingsError

SPECS = [
    FilterSpec(),
    FilterSpec(fs=2000, mains=Mains.HZ60, notch_harmonics=True, window_ms=50),
    FilterSpec(fs=500, window_ms=300),
    FilterSpec(input_mode=InputMode.PRE_RECTIFIED, window_ms=100),
]


def _signal(seed: int, n: int, channels: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = 512 + 40 * rng.standard_normal((n, channels))
    x[n // 3 : n // 2] *= 0.05  # a quiet stretch after a loud one: rounding must stay relative
    return np.rint(x)


def _chunked(pipeline: Pipeline, x: np.ndarray, sizes: list[int]) -> dict[str, np.ndarray]:
    outs: dict[str, list[np.ndarray]] = {"filtered": [], "envelope": [], "percent": []}
    pos, i = 0, 0
    while pos < x.shape[0]:
        step = sizes[i % len(sizes)]
        out = pipeline.process(x[pos : pos + step])
        for k, parts in outs.items():
            parts.append(getattr(out, k))
        pos += step
        i += 1
    return {k: np.concatenate(v) for k, v in outs.items()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    sizes=st.lists(st.integers(1, 512), min_size=1, max_size=40),
    spec_index=st.integers(0, len(SPECS) - 1),
    channels=st.integers(1, 4),
)
def test_chunked_equals_one_shot(seed: int, sizes: list[int], spec_index: int, channels: int) -> None:
    spec = SPECS[spec_index]
    x = _signal(seed, 6000, channels)
    norm = MvcNormalizer(np.full(channels, 60.0), np.full(channels, 2.0))
    whole = Pipeline(spec, normalizer=norm).process(x)
    parts = _chunked(Pipeline(spec, normalizer=norm), x, sizes)
    for name in ("filtered", "envelope", "percent"):
        ref = getattr(whole, name)
        scale = np.max(np.abs(ref))
        np.testing.assert_allclose(parts[name], ref, rtol=1e-9, atol=1e-9 * scale, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=20),
    spec_index=st.integers(0, len(SPECS) - 1),
    channels=st.integers(1, 4),
)
def test_the_filter_stage_is_scipy_sosfilt_bit_for_bit(seed: int, sizes: list[int], spec_index: int, channels: int) -> None:
    """SosFilter calls sosfilt's kernel directly (no per-call checks): in any chunks it gives exactly what
    ``scipy.signal.sosfilt`` gives in one call, so the shortcut changes no sample."""
    sos = design_chain(SPECS[spec_index])
    x = _signal(seed, 3000, channels)
    stage, pos, parts, i = SosFilter(sos), 0, [], 0
    while pos < x.shape[0]:
        parts.append(stage.process(x[pos : pos + sizes[i % len(sizes)]]))
        pos += sizes[i % len(sizes)]
        i += 1
    expected = signal.sosfilt(sos, x, axis=0) if len(sos) else x  # pre-rectified input: no filter at all
    assert np.array_equal(np.concatenate(parts), expected)


def test_moving_rms_matches_direct_definition() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3000, 2))
    width = 150
    got = MovingRMS(width).process(x)
    padded = np.vstack([np.zeros((width - 1, 2)), x])
    want = np.sqrt(np.array([np.mean(padded[i : i + width] ** 2, axis=0) for i in range(x.shape[0])]))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_band_pass_and_notch_response() -> None:
    spec = FilterSpec(mains=Mains.HZ50)
    p = Pipeline(spec)
    freqs = np.array([5.0, 50.0, 100.0, 200.0, 480.0])
    mag = p.filter.frequency_response(freqs, spec.fs)
    assert mag[0] < 0.01  # motion artifacts and DC gone
    assert mag[1] < 0.01  # mains notched
    assert 0.9 < mag[2] < 1.1 and 0.9 < mag[3] < 1.1  # EMG band passes
    assert mag[4] < 0.5  # above the upper edge


def test_offset_of_unipolar_adc_is_removed_without_transient() -> None:
    x = np.full((2000, 1), 2040.0)  # a flat unipolar signal at mid-scale
    out = Pipeline(FilterSpec()).process(x)
    assert np.max(np.abs(out.envelope)) == 0.0


def test_normalizer_formula_and_inverse() -> None:
    norm = MvcNormalizer([100.0], [10.0])
    env = np.array([[10.0], [5.0], [np.sqrt(10.0**2 + 0.25 * (100.0**2 - 10.0**2))], [100.0]])
    pct = norm.process(env)[:, 0]
    np.testing.assert_allclose(pct, [0.0, 0.0, 50.0, 100.0])
    np.testing.assert_allclose(norm.process(norm.to_rms(np.array([[37.0]]))), [[37.0]])


@pytest.mark.parametrize(
    ("kwargs", "phrase"),
    [
        ({"fs": 400, "band_high_hz": 450}, "too low for the band"),
        ({"window_ms": 1}, "under 2 samples"),
        ({"fs": 100, "band_high_hz": 40, "mains": "60"}, "Nyquist"),
        ({"band_low_hz": 300, "band_high_hz": 200}, "not below the upper edge"),
        ({"fs": -5}, "not positive"),
        ({"mains": "55"}, "use 50, 60 or off"),
        ({"fs": 0}, "sample rate 0 Hz is not positive"),
        ({"fs": float("inf")}, "not a finite number"),
        ({"fs": float("nan")}, "not a finite number"),
        ({"fs": 1e12}, "far beyond any sEMG front end"),
        ({"window_ms": float("inf")}, "RMS window (ms) is inf, not a finite number"),
        ({"window_ms": float("nan")}, "RMS window (ms) is nan, not a finite number"),
        ({"window_ms": 1e9}, "is too long"),
        ({"band_low_hz": float("nan")}, "band lower edge (Hz) is nan"),
        ({"band_high_hz": float("inf")}, "band upper edge (Hz) is inf"),
        ({"notch_q": float("inf")}, "notch Q is inf"),
    ],
)
def test_invalid_settings_give_one_line_errors(kwargs: dict, phrase: str) -> None:
    with pytest.raises(SettingsError) as info:
        FilterSpec(**kwargs)
    msg = str(info.value)
    assert phrase in msg and "\n" not in msg and ":" in msg


def test_default_band_edge_follows_sample_rate() -> None:
    assert FilterSpec(fs=500).band_high == 0.45 * 500
    assert FilterSpec(fs=1000).band_high == 450.0  # the documented default: --band-high 450 means the same chain
    assert FilterSpec(fs=2000).band_high == 450.0
    assert FilterSpec().envelope_delay_ms == pytest.approx(74.5)


def test_band_parsing_and_validation() -> None:
    assert parse_band("30-50") == Band(30, 50)
    assert parse_mains("60Hz") is Mains.HZ60
    with pytest.raises(SettingsError, match="LOW-HIGH"):
        parse_band("thirty")
    with pytest.raises(SettingsError, match="invalid"):
        Band(60, 40)


def test_profile_spec_round_trip_and_differences() -> None:
    spec = FilterSpec(fs=2000, mains=Mains.HZ60, window_ms=100)
    assert FilterSpec.from_dict(spec.to_dict()) == spec.with_(band_high_hz=450.0)
    diffs = FilterSpec().differences(spec)
    assert any(d.startswith("fs") for d in diffs) and any(d.startswith("window_ms") for d in diffs)
    with pytest.raises(SettingsError, match="unknown filter settings"):
        FilterSpec.from_dict({"fs": 1000, "bogus": 1})


@pytest.mark.parametrize("fs", [0.0, -1.0, float("inf"), float("nan"), 1e12])
def test_stream_info_refuses_impossible_rates(fs: float) -> None:
    with pytest.raises(SettingsError, match="sample rate"):
        StreamInfo(fs=fs, channels=1)


def test_dwell_must_be_finite() -> None:
    with pytest.raises(SettingsError, match="dwell"):
        Band(dwell_ms=float("nan"))
