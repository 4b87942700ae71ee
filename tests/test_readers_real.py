"""Every real recording in tests/data, read as its sidecar describes it: format, rate, names, kinds.

The expected values are the sidecars' statements (checked against the sidecar text here, so a
wrong table cannot pass), and an EMG channel's envelope from ``process`` equals a reference
computed in the test with scipy from values loaded independently (numpy, edfio).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from emgfeedback.cli import main
from emgfeedback.io.readers import Kind, open_recording, select

E, M, T, C, D, X = Kind.EMG, Kind.MOTION, Kind.TIME, Kind.COUNTER, Kind.DIGITAL, Kind.OTHER

OPENBCI_NAMES = [
    "Sample Index",
    *(f"EXG Channel {i}" for i in range(8)),
    *(f"Accel Channel {i}" for i in range(3)),
    "Not Used",
    *(f"Digital Channel {i} (D{d})" for i, d in enumerate((11, 12, 13, 17))),
    "Not Used",
    "Digital Channel 4 (D18)",
    *(f"Analog Channel {i}" for i in range(3)),
    "Timestamp",
    "Marker Channel",
]
OPENBCI_KINDS = [C, *[E] * 8, *[M] * 3, X, D, D, D, D, X, D, X, X, X, T, D]
DELSYS_SIGNALS = [
    f"Mini sensor {s}: {k} {s}" for s in (10, 11) for k in ("EMG", "ACC.X", "ACC.Y", "ACC.Z", "GYRO.X", "GYRO.Y", "GYRO.Z")
]
UCI = ["RF", "BF", "VM", "ST", "FX"]

#: file -> (sidecar, format, {channel name: fs}, names, kinds, samples of the first channel)
CASES = {
    "biosppy_emg_1.txt": ("biosppy_emg_1.json", "text", [1000.0], ["EMG"], [E], 63880),
    "uci_lowerlimb_4Npie_knee_flexion.txt": (None, "datalog", [1000.0] * 5, UCI, [E, E, E, E, M], 13820),
    "uci_lowerlimb_1Nsen_knee_extension_60hz.txt": (None, "datalog", [1000.0] * 5, UCI, [E, E, E, E, M], 15300),
    "openbci_gui_v6_blinks_jawClench_alpha.txt": (None, "openbci", [250.0] * 24, OPENBCI_NAMES, OPENBCI_KINDS, 10000),
    "opensignals_biosignalsplux_rps_stone_2_1.txt": (
        None,
        "opensignals",
        [1000.0] * 5,
        ["nSeq", "DI", "CH1", "CH2", "CH3"],
        [C, D, E, E, M],
        5550,
    ),
    "delsys_trigno_emgworks_truncated_sample.csv": (
        None,
        "delsys",
        [r for k in ("EMG", *["ACC/GYRO"] * 6) for r in [1259.259 if k == "EMG" else 148.1481] * 2] * 2,
        [n for s in DELSYS_SIGNALS for n in ("X[s]", s)],
        [k for s in DELSYS_SIGNALS for k in (T, E if "EMG" in s else M)],
        2519,
    ),
    "edf_sleepedf_SC4001E0_first5min_short_psg.edf": (
        None,
        "edf",
        [100.0, 100.0, 100.0, 1.0, 1.0, 1.0, 1.0],
        ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "Resp oro-nasal", "EMG submental", "Temp rectal", "Event marker"],
        [X, X, X, X, E, X, D],
        30000,
    ),
    "arduino_olimex_shield_emg_bicepContraction.txt": (None, "arduino", [None], ["value"], [E], 57254),
    "xdf_example_minimal.xdf": (
        "xdf_example_files.json",
        "xdf",
        [10.0] * 3,
        ["SendDataC 0", "SendDataC 1", "SendDataC 2"],
        [X] * 3,
        9,
    ),
    "xdf_example_clock_resets.xdf": (
        "xdf_example_files.json",
        "xdf",
        [100.0] * 8,
        [f"BioSemi {i}" for i in range(8)],
        [X] * 8,
        27815,
    ),
}


def _sidecar(real_data: Path, name: str, side: str | None) -> str:
    return (real_data / (side or Path(name).with_suffix(".json").name)).read_text(encoding="utf-8")


def _rates_stated(text: str) -> set[float]:
    """Every rate a sidecar states: "250 Hz", "1.259259e+003", "sampling_rate_hz": 1000, "nominal 10 Hz"."""
    found = {float(m) for m in re.findall(r"([0-9]+(?:\.[0-9]+)?)\s*(?:Hz|hz)", text)}
    found |= {float(m) for m in re.findall(r'"sampling_rate_hz":\s*([0-9.]+)', text)}
    found |= {float(m) for m in re.findall(r"[0-9]\.[0-9]+e[+-][0-9]+", text)}
    return found


@pytest.mark.parametrize("name", sorted(CASES))
def test_real_file_reads_as_its_sidecar_says(real_data: Path, name: str) -> None:
    side_name, fmt, rates, names, kinds, samples = CASES[name]
    side = _sidecar(real_data, name, side_name)
    rec = open_recording(real_data / name)
    try:
        assert rec.format == fmt
        assert [c.name for c in rec.channels] == names
        assert [c.kind for c in rec.channels] == kinds
        assert [c.fs for c in rec.channels] == pytest.approx(rates)
        assert rec.channels[0].samples == samples
        stated = _rates_stated(side)
        # the sidecar describes clock_resets.xdf's purpose only: 100 Hz and "BioSemi" are its stream header's
        silent = name == "xdf_example_clock_resets.xdf"
        for fs in set() if silent else {r for r in rates if r is not None}:
            assert any(abs(fs - s) < 0.01 for s in stated), (fs, stated)  # the rate is the one the sidecar states
        if rates[0] is None:
            assert "not in file" in side  # the Arduino log: the sidecar says the rate is not in the file
        for n in set() if silent else {n.split(" (")[0] for n in names if n != "X[s]"}:
            assert n.split(" ")[0].lower() in side.lower(), n  # every name is the sidecar's (XDF channels: the stream's name)
    finally:
        rec.close()


def test_ragged_delsys_channels_keep_their_own_lengths(real_data: Path) -> None:
    rec = open_recording(real_data / "delsys_trigno_emgworks_truncated_sample.csv")
    side = json.loads(_sidecar(real_data, rec.path.name, None))
    assert any("row 297" in q and "row 2519" in q for q in side["quirks"])
    assert {c.samples for c in rec.channels if c.kind is E} == {2519}
    assert {c.samples for c in rec.channels if c.kind is M} == {297}
    assert any("81141" in n and "2519" in n for n in rec.notes)  # the header/data mismatch is said
    with pytest.raises(
        Exception, match=r"different rates \(Mini sensor 10: EMG 10 1259.26 Hz, Mini sensor 10: ACC.X 10 148.148 Hz\)"
    ):
        select(rec, ["Mini sensor 10: EMG 10", "mini sensor 10: acc.x 10"])


def test_edf_envelope_channel_is_flagged_and_annotations_kept(real_data: Path) -> None:
    rec = open_recording(real_data / "edf_sleepedf_SC4001E0_first5min_short_psg.edf")
    side = json.loads(_sidecar(real_data, rec.path.name, None))
    chin = rec.channels[4]
    assert chin.envelope and chin.prefilter == "HP:16Hz Rectification LP:0.7Hz"
    assert chin.prefilter in side["quirks"][0]
    assert not any(c.envelope for c in rec.channels if c is not chin)
    sel = select(rec, None)  # the EMG channel by default, with its warning
    assert sel.names == ("EMG submental",)
    assert any("already an envelope" in m for m in sel.messages)
    import edfio

    want = edfio.read_edf(rec.path).signals[4].data
    np.testing.assert_allclose(sel.read()[:, 0], want, rtol=1e-9, atol=1e-9)
    rec.close()


def test_xdf_minimal_values_and_markers(real_data: Path) -> None:
    rec = open_recording(real_data / "xdf_example_minimal.xdf")
    sel = select(rec, [0, 1, 2])
    data = sel.read()
    np.testing.assert_array_equal(data[0], [192, 255, 238])
    np.testing.assert_array_equal(data[1:5, 0], [12, 13, 14, 15])
    assert len(rec.annotations) == 9  # the string stream: annotations, not data
    assert any("SendDataString" in n or "string stream" in n for n in rec.notes)


def test_xdf_clock_resets_use_the_nominal_rate_and_say_so(real_data: Path) -> None:
    rec = open_recording(real_data / "xdf_example_clock_resets.xdf", stream="EEG")
    assert rec.channels[0].fs == 100.0
    assert any("segments" in n for n in rec.notes) and any("effective rate" in n for n in rec.notes)
    assert open_recording(real_data / "xdf_example_clock_resets.xdf", stream=" biosemi ").channels[0].name == "BioSemi 0"
    with pytest.raises(Exception, match="no stream named or typed 'EMG'"):
        open_recording(real_data / "xdf_example_clock_resets.xdf", stream="EMG")


# --- the envelope against an independent reference -------------------------------------------------------
def _reference(x: np.ndarray, fs: float, mains: float = 50.0) -> np.ndarray:
    """First-sample offset, 4th-order Butterworth 20-min(450, 0.45 fs) Hz, a Q=30 notch, a 150 ms moving RMS."""
    x = x - x[0]
    sos = signal.butter(4, [20.0, min(450.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    y = signal.sosfilt(sos, x)
    b, a = signal.iirnotch(mains, 30.0, fs=fs)
    y = signal.lfilter(b, a, y)
    w = round(0.150 * fs)
    power = np.convolve(y * y, np.ones(w))[: y.size] / w
    return np.sqrt(np.maximum(power, 0.0))


def _raw(path: Path, name: str) -> np.ndarray:
    """The EMG channel's values, loaded with numpy as the sidecar's notes say (not with our readers)."""
    if name.startswith("biosppy"):
        return np.loadtxt(path)
    if name.startswith("uci"):
        d = np.genfromtxt(path, delimiter="\t", skip_header=7)
        return d[~np.isnan(d[:, :4]).any(axis=1), 1]
    if name.startswith("openbci"):
        return np.genfromtxt(path, delimiter=",", skip_header=5, usecols=(1,))
    if name.startswith("opensignals"):
        return np.loadtxt(path, comments="#", delimiter="\t", usecols=(2,))
    if name.startswith("delsys"):
        return np.genfromtxt(path, delimiter=",", skip_header=18, usecols=(1,))
    return np.loadtxt(path, delimiter=",", usecols=(0,))


@pytest.mark.parametrize(
    ("name", "column", "fs"),
    [
        ("biosppy_emg_1.txt", "EMG", None),
        ("uci_lowerlimb_4Npie_knee_flexion.txt", "BF", None),
        ("openbci_gui_v6_blinks_jawClench_alpha.txt", "exg channel 0", None),
        ("opensignals_biosignalsplux_rps_stone_2_1.txt", "CH1", None),
        ("delsys_trigno_emgworks_truncated_sample.csv", "1", None),
        ("arduino_olimex_shield_emg_bicepContraction.txt", "0", 3333.0),
    ],
)
def test_process_envelope_matches_an_independent_scipy_reference(
    real_data: Path, tmp_path: Path, name: str, column: str, fs: float | None
) -> None:
    out = tmp_path / "env.csv"
    args = ["process", str(real_data / name), "--columns", column, "--out", str(out)]
    assert main(args + (["--fs", str(fs)] if fs else [])) == 0
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    rate = fs or open_recording(real_data / name).channels[0 if name.startswith(("biosppy", "arduino")) else 1].fs
    if name.startswith(("uci", "opensignals")):
        rate = 1000.0
    x = _raw(real_data / name, name)
    want = _reference(x, rate)
    assert table.shape[0] == x.size
    scale = np.max(want)
    np.testing.assert_allclose(table[:, 1], want, rtol=1e-4, atol=1e-6 * scale)
    np.testing.assert_allclose(table[1, 0], 1.0 / rate, atol=1e-4)
