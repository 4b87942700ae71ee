"""The chain on real recordings: bursts where the sidecars say, and the notch removes mains hum."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emgfeedback.config import FilterSpec, Mains
from emgfeedback.dsp import Pipeline
from emgfeedback.io.files import load_recording


def _envelope(path: Path, column: int, mains: Mains, fs: float = 1000.0) -> np.ndarray:
    rec = load_recording(path, [column])
    return Pipeline(FilterSpec(fs=fs, mains=mains)).process(rec.data).envelope[:, 0]


def _mask(n: int, spans: list[list[float]], fs: float = 1000.0, pad: float = 0.0) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    for on, off, *_ in spans:
        m[int((on - pad) * fs) : int((off + pad) * fs)] = True
    return m


@pytest.mark.parametrize(
    ("name", "channel", "column", "mains"),
    [
        ("biosppy_emg_1", None, 0, Mains.HZ50),
        ("uci_lowerlimb_4Npie_knee_flexion", "BF", 1, Mains.HZ60),
        ("uci_lowerlimb_4Npie_knee_flexion", "ST", 3, Mains.HZ60),
        ("uci_lowerlimb_1Nsen_knee_extension_60hz", "VM", 2, Mains.HZ60),
    ],
)
def test_envelope_bursts_where_the_sidecar_says(
    real_data: Path, name: str, channel: str | None, column: int, mains: Mains
) -> None:
    side = json.loads((real_data / f"{name}.json").read_text())
    activity = side["approx_activity"]
    bursts = activity["bursts_s_on_off_rmscounts"] if channel is None else activity[channel]["bursts_s_on_off_rmsuV"]
    env = _envelope(real_data / f"{name}.txt", column, mains)
    delay = 0.075  # the envelope lags by half its window
    inside = _mask(env.size, [[on + delay, off] for on, off, *_ in bursts])
    outside = ~_mask(env.size, bursts, pad=0.5)
    rest = np.median(env[outside])
    for on, off, *_ in bursts:
        seg = env[int((on + delay) * 1000) : int(off * 1000)]
        assert seg.mean() > 4 * rest, (on, off, seg.mean(), rest)
    # and the burst stretches are where the energy is
    assert np.median(env[inside]) > 5 * np.median(env[outside])


def test_notch_lowers_resting_envelope_of_the_60hz_file(real_data: Path) -> None:
    path = real_data / "uci_lowerlimb_1Nsen_knee_extension_60hz.txt"
    side = json.loads(path.with_suffix(".json").read_text())
    vm_bursts = side["approx_activity"]["VM"]["bursts_s_on_off_rmsuV"]
    off = _envelope(path, 2, Mains.OFF)
    on = _envelope(path, 2, Mains.HZ60)
    rest = ~_mask(off.size, vm_bursts, pad=0.5)
    rest[:2500] = False  # the line appears after ~2 s
    ratio = np.median(on[rest]) / np.median(off[rest])
    assert ratio < 0.7, ratio


def test_loader_reads_every_real_format(real_data: Path) -> None:
    uci = load_recording(real_data / "uci_lowerlimb_4Npie_knee_flexion.txt", [0, 1, 2, 3, 4])
    assert uci.data.shape == (13820, 5) and uci.fs == 1000 and uci.names[:4] == ("RF", "BF", "VM", "ST")
    assert uci.units[0] == "mV"
    bio = load_recording(real_data / "biosppy_emg_1.txt")
    assert bio.data.shape == (63880, 1) and bio.units == ("counts",)
    assert bio.data.mean() == pytest.approx(2040.036396)
