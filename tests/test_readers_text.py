"""Built text files with the quirks real exports have: ragged columns, encodings, separators, bad values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emgfeedback.errors import RecordingError
from emgfeedback.io.readers import Kind, open_recording, select


def _write(tmp_path: Path, text: str, name: str = "rec.txt", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def _values(path: Path, columns: list[int | str] | None = None, **kw: object) -> np.ndarray:
    rec = open_recording(path, **kw)  # type: ignore[arg-type]
    return select(rec, columns or list(range(len(rec.channels)))).read()


def test_ragged_columns_top_aligned_keep_their_lengths_and_the_span_is_cut_in_one_line(tmp_path: Path) -> None:
    p = _write(tmp_path, "fast,slow\n1,10\n2,20\n3,\n4,\n")
    rec = open_recording(p)
    assert [(c.name, c.samples) for c in rec.channels] == [("fast", 4), ("slow", 2)]
    sel = select(rec, ["fast", "slow"])
    np.testing.assert_array_equal(sel.read(), [[1, 10], [2, 20]])
    (cut,) = sel.messages
    assert "using the first 2 samples" in cut and "fast 2" in cut
    np.testing.assert_array_equal(select(rec, ["FAST "]).read()[:, 0], [1, 2, 3, 4])


def test_nan_padded_columns(tmp_path: Path) -> None:
    p = _write(tmp_path, "1\t10\n2\tNaN\n3\tnan\n")
    rec = open_recording(p)
    assert [c.samples for c in rec.channels] == [3, 1]


def test_a_last_row_with_one_empty_field_is_a_shorter_channel_not_an_error(tmp_path: Path) -> None:
    p = _write(tmp_path, "1,2,3,4,5\n6,7,8,9,10\n11,12,13,14,\n")
    rec = open_recording(p)
    assert [c.samples for c in rec.channels] == [3, 3, 3, 3, 2]


def test_an_empty_trailing_field_is_not_a_column(tmp_path: Path) -> None:
    p = _write(tmp_path, "1,2,\n3,4,\n5,6,\n")
    rec = open_recording(p)
    assert len(rec.channels) == 2 and any("separator" in n for n in rec.notes)
    np.testing.assert_array_equal(_values(p), [[1, 2], [3, 4], [5, 6]])


def test_utf8_bom_crlf_header_row_and_time_column(tmp_path: Path) -> None:
    p = _write(tmp_path, "time_s,left,right\r\n0.000,1,2\r\n0.002,3,4\r\n0.004,5,6\r\n", encoding="utf-8-sig")
    rec = open_recording(p)
    assert [c.name for c in rec.channels] == ["time_s", "left", "right"]
    assert rec.channels[0].kind is Kind.TIME and rec.channels[1].kind is Kind.EMG
    assert rec.channels[1].fs == pytest.approx(500.0)
    assert select(rec).names == ("left", "right")  # the time column is not offered as EMG


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_read(tmp_path: Path, encoding: str) -> None:
    p = _write(tmp_path, "# Sampling Rate (Hz):= 2000\na;b\n1;2\n3;4\n", encoding=encoding)
    rec = open_recording(p)
    assert rec.channels[0].fs == 2000.0 and [c.name for c in rec.channels] == ["a", "b"]
    np.testing.assert_array_equal(_values(p), [[1, 2], [3, 4]])


def test_decimal_commas_with_semicolons(tmp_path: Path) -> None:
    p = _write(tmp_path, "% sample rate = 1000 Hz\nRF;VM\n0,5;-1,25\n1,0;2,5e-1\n")
    rec = open_recording(p)
    assert rec.channels[0].fs == 1000.0
    np.testing.assert_allclose(_values(p), [[0.5, -1.25], [1.0, 0.25]])


def test_comment_lines_and_text_columns_are_ignored(tmp_path: Path) -> None:
    p = _write(tmp_path, "# recorded by hand\n% fs = 500\nemg,label\n1,rest\n# a note\n2,push\n3,push\n")
    rec = open_recording(p)
    assert [c.name for c in rec.channels] == ["emg"] and rec.channels[0].fs == 500.0
    assert any("text columns ignored: label" in n for n in rec.notes)
    np.testing.assert_array_equal(_values(p)[:, 0], [1, 2, 3])


def test_latin1_header(tmp_path: Path) -> None:
    p = _write(tmp_path, "angle (°),emg\n1,2\n3,4\n", encoding="latin-1")
    rec = open_recording(p)
    assert rec.channels[0].name == "angle (°)" and rec.channels[0].kind is Kind.MOTION


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("a,b,c\n", "no rows of numbers found"),
        ("# Sampling Rate (Hz):= 1000\nEMG\n\n", "no rows of numbers found"),
        ("1\n2\n1e200\n", "line 3: col0 is 1e+200, beyond any plausible signal"),
        ("1\n2\n-inf\n", "line 3: col0 is -inf (not a finite number)"),
        ("1\nnan\n3\n", "line 3: col0 has a value after its column was empty on line 2"),
        ("1 2\n# note\n3 4\n5 x\n", "line 4: 'x' in field 2 is not a number"),
        ("1,2\n3,4,5\n", "line 2 has 3 values where the first row has 2"),
        ("", "is empty"),
    ],
)
def test_bad_text_is_refused_with_its_line(tmp_path: Path, text: str, phrase: str) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(RecordingError, match=None) as info:
        open_recording(p)
    assert phrase in str(info.value) and "\n" not in str(info.value)


def test_a_value_beyond_plausible_after_many_good_blocks_names_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from emgfeedback.io.readers import textscan

    monkeypatch.setattr(textscan, "BLOCK_BYTES", 64)
    lines = [f"{i % 7}" for i in range(500)]
    lines[321] = "1e200"
    p = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(RecordingError, match=r"line 322: col0 is 1e\+200"):
        open_recording(p)


def test_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="is a directory"):
        open_recording(tmp_path)
    with pytest.raises(RecordingError, match="no such file"):
        open_recording(tmp_path / "nope.txt")


def test_a_file_cut_in_the_middle_of_a_row(tmp_path: Path) -> None:
    p = _write(tmp_path, "1,2,3\n4,5,6\n7,8")
    rec = open_recording(p)
    assert [c.samples for c in rec.channels] == [2, 2, 2]
    assert any("ends in the middle of a row" in n for n in rec.notes)


def test_columns_by_name_unknown_lists_the_known_and_rates_never_mix(tmp_path: Path) -> None:
    p = _write(tmp_path, "RF\tVM\n1\t2\n3\t4\n")
    rec = open_recording(p)
    np.testing.assert_array_equal(select(rec, [" vm ", "rf"]).read(), [[2, 1], [4, 3]])
    with pytest.raises(RecordingError, match="no channel named 'ST': the channels are RF, VM"):
        select(rec, ["ST"])
    with pytest.raises(RecordingError, match="column 5 does not exist"):
        select(rec, [5])


def test_fs_given_against_the_file_warns(tmp_path: Path) -> None:
    p = _write(tmp_path, "# Sampling Rate (Hz):= 1000\n1\n2\n")
    sel = select(open_recording(p), None, fs=2000.0)
    assert sel.fs == 2000.0 and sel.messages == ("warning: --fs 2000 Hz contradicts the file's 1000 Hz: using 2000 Hz",)
    assert select(open_recording(p), None, fs=1000.0).messages == ()


def test_format_override(tmp_path: Path) -> None:
    p = _write(tmp_path, "5,\n6,\n7,\n")
    assert open_recording(p).format == "arduino"
    assert open_recording(p, format="text").format == "text"
    with pytest.raises(RecordingError, match="unknown format 'word': use one of edf, xdf"):
        open_recording(p, format="word")


def test_brainflow_csv_layout(tmp_path: Path) -> None:
    rows = []
    for i in range(50):
        row = [float(i % 256), *np.linspace(1, 8, 8) * i, 0.1, 0.2, 0.3, *[0.0] * 7, *[0.0] * 3, 1.7e9 + i / 250, 0.0]
        rows.append("\t".join(f"{v:.6f}" for v in row))
    p = _write(tmp_path, "\n".join(rows) + "\n", name="brainflow.csv")
    rec = open_recording(p)
    assert rec.format == "brainflow" and len(rec.channels) == 24
    assert [c.kind for c in rec.channels[:12]] == [Kind.COUNTER, *[Kind.EMG] * 8, *[Kind.MOTION] * 3]
    assert rec.channels[22].kind is Kind.TIME and rec.channels[1].fs == 250.0


def test_old_openbci_gui_layout(tmp_path: Path) -> None:
    head = "%OpenBCI Raw EEG Data\n%Number of channels = 4\n%Sample Rate = 200.0 Hz\n%First Column = SampleIndex\n"
    rows = "".join(f"{i}, {i}.5, {i}.25, -{i}.0, 1.0, 0.0, 0.0, 0.0, 12:00:0{i % 10}.000\n" for i in range(6))
    rec = open_recording(_write(tmp_path, head + rows))
    assert rec.format == "openbci" and rec.channels[0].fs == 200.0
    assert [c.name for c in rec.channels][:5] == [
        "Sample Index",
        "EXG Channel 0",
        "EXG Channel 1",
        "EXG Channel 2",
        "EXG Channel 3",
    ]
    assert [c.kind for c in rec.channels][:6] == [Kind.COUNTER, *[Kind.EMG] * 4, Kind.OTHER]


def test_openbci_gui_v5_layout(tmp_path: Path) -> None:
    head = "%OpenBCI Raw EEG Data\n%Number of channels = 4\n%Sample Rate = 200 Hz\n%Board = OpenBCI_GUI$BoardGanglionBLE\n"
    exg = ", ".join(f"EXG Channel {i}" for i in range(4))
    names = f"Sample Index, {exg}, Accel Channel 0, Timestamp, Timestamp (Formatted)\n"
    rows = "".join(f"{i}, {i}.5, 1, 2, 3, 0.01, {1557936053329 + 5 * i}, 12:00:53.{i:03d}\n" for i in range(8))
    rec = open_recording(_write(tmp_path, head + names + rows))
    assert rec.format == "openbci" and rec.channels[1].fs == 200.0
    assert [c.kind for c in rec.channels] == [Kind.COUNTER, *[Kind.EMG] * 4, Kind.MOTION, Kind.TIME]
    assert any("Timestamp (Formatted)" in n for n in rec.notes)
    assert select(rec).names == ("EXG Channel 0", "EXG Channel 1", "EXG Channel 2", "EXG Channel 3")


def test_opensignals_two_devices_each_with_its_own_rate(tmp_path: Path) -> None:
    import json

    header = {
        "AA:AA": {
            "position": 0,
            "sampling rate": 1000,
            "column": ["nSeq", "DI", "CH1"],
            "label": ["CH1"],
            "sensor": ["EMG"],
            "resolution": [16],
        },
        "BB:BB": {
            "position": 1,
            "sampling rate": 100,
            "column": ["nSeq", "CH1"],
            "label": ["CH1"],
            "sensor": ["ECG"],
            "resolution": [12],
        },
    }
    rows = [f"{i}\t0\t{30000 + i}\t" + (f"{i}\t{2000 + i}\t" if i < 3 else "\t\t") for i in range(10)]
    text = "# OpenSignals Text File Format. Version 1\n# " + json.dumps(header) + "\n# EndOfHeader\n" + "\n".join(rows) + "\n"
    rec = open_recording(_write(tmp_path, text))
    assert rec.format == "opensignals"
    assert [(c.name, c.fs, c.samples, c.kind) for c in rec.channels] == [
        ("nSeq", 1000.0, 10, Kind.COUNTER),
        ("DI", 1000.0, 10, Kind.DIGITAL),
        ("CH1", 1000.0, 10, Kind.EMG),
        ("nSeq", 100.0, 3, Kind.COUNTER),
        ("CH1", 100.0, 3, Kind.OTHER),
    ]
    with pytest.raises(RecordingError, match=r"different rates \(CH1 1000 Hz, CH1 100 Hz\)"):
        select(rec, [2, 4])
    with pytest.raises(RecordingError, match="'ch1' names channels 2, 4: give the index instead"):
        select(rec, ["ch1"])


def test_bdf_plus_with_annotations_and_rates_per_signal(tmp_path: Path) -> None:
    import pyedflib

    path = tmp_path / "rec.bdf"
    w = pyedflib.EdfWriter(str(path), 2, file_type=pyedflib.FILETYPE_BDFPLUS)
    heads = [
        {"label": "EMG RF", "dimension": "uV", "sample_frequency": 1000, "physical_max": 5000, "physical_min": -5000,
         "digital_max": 8388607, "digital_min": -8388608, "prefilter": "HP:10Hz LP:500Hz", "transducer": ""},
        {"label": "Accel X", "dimension": "g", "sample_frequency": 100, "physical_max": 8, "physical_min": -8,
         "digital_max": 8388607, "digital_min": -8388608, "prefilter": "", "transducer": ""},
    ]  # fmt: skip
    w.setSignalHeaders(heads)
    rng = np.random.default_rng(0)
    emg, acc = rng.normal(0, 100, 3000), rng.normal(0, 1, 300)
    w.writeSamples([emg, acc])
    w.writeAnnotation(1.5, -1, "push")
    w.close()
    rec = open_recording(path)
    assert rec.format == "bdf+"
    assert [(c.name, c.fs, c.samples, c.kind, c.envelope) for c in rec.channels] == [
        ("EMG RF", 1000.0, 3000, Kind.EMG, False),
        ("Accel X", 100.0, 300, Kind.MOTION, False),
    ]
    assert [a.text for a in rec.annotations] == ["push"] and rec.annotations[0].onset_s == pytest.approx(1.5)
    np.testing.assert_allclose(select(rec, None).read()[:, 0], emg, atol=5000 / 8388607 * 2)
    rec.close()
