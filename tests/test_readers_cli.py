"""``inspect``, ``process --profile`` against the live path, chunked reads, and bad files from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emgfeedback.cli import main
from emgfeedback.io.readers import open_recording, select, textscan

UCI = "uci_lowerlimb_4Npie_knee_flexion.txt"


def test_inspect_json_has_the_contract_keys(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(real_data / "opensignals_biosignalsplux_rps_stone_2_1.txt"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"format", "duration_s", "channels", "notes"}
    assert doc["format"] == "opensignals" and doc["duration_s"] == pytest.approx(5.55)
    assert {"index", "name", "units", "fs", "samples", "kind"} <= set(doc["channels"][0])
    assert [(c["index"], c["name"], c["kind"]) for c in doc["channels"]] == [
        (0, "nSeq", "counter"),
        (1, "DI", "digital"),
        (2, "CH1", "emg"),
        (3, "CH2", "emg"),
        (4, "CH3", "motion"),
    ]
    assert any("separator" in n for n in doc["notes"])


def test_inspect_table_and_an_unknown_rate(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(real_data / "arduino_olimex_shield_emg_bicepContraction.txt")]) == 0
    out = capsys.readouterr().out
    assert "format: arduino" in out and "duration: unknown" in out and "57254" in out
    assert main(["inspect", str(real_data / "arduino_olimex_shield_emg_bicepContraction.txt"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["duration_s"] is None and doc["channels"][0]["fs"] is None


def test_process_warns_about_an_envelope_and_a_contradicting_rate(real_data: Path, tmp_path: Path) -> None:
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "emgfeedback",
            "process",
            str(real_data / UCI),
            "--columns",
            "BF",
            "--fs",
            "2000",
            "--out",
            str(tmp_path / "o.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "warning: --fs 2000 Hz contradicts the file's 1000 Hz: using 2000 Hz" in res.stderr
    res = subprocess.run(
        [sys.executable, "-m", "emgfeedback", "inspect", str(real_data / "edf_sleepedf_SC4001E0_first5min_short_psg.edf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0 and "already an envelope" in res.stdout


@pytest.mark.parametrize(
    ("command", "content", "phrase"),
    [
        (["inspect"], b"1\n2\n1e200\n", "line 3: col0 is 1e+200, beyond any plausible signal"),
        (["process", "--fs", "1000"], b"1\n2\ninf\n", "line 3: col0 is inf (not a finite number)"),
        (["inspect"], b"\x00\x01\x02binary", "not a known format"),
        (["inspect"], b"0       " + b"x" * 300, "not a readable EDF/BDF file"),
        (["inspect"], b"XDF:garbage", "not a readable XDF file"),
        (["inspect", "--format", "word"], b"1\n2\n", "unknown format 'word'"),
        (["process", "--fs", "1000", "--columns", "RF"], b"a,b\n1,2\n", "no channel named 'RF': the channels are a, b"),
        (["process"], b"fast,slow\n1,2\n3,\n", "give it with --fs"),
        (
            ["calibrate", "--name", "x", "--muscles", "hamstring_left", "--fs", "1000", "--from-recording"],
            b"a\n1\n1e300\n",
            "beyond any plausible",
        ),
    ],
)
def test_bad_files_are_one_line_without_traceback(tmp_path: Path, command: list[str], content: bytes, phrase: str) -> None:
    f = tmp_path / "bad.dat"
    f.write_bytes(content)
    res = subprocess.run([sys.executable, "-m", "emgfeedback", *command, str(f)], capture_output=True, text=True, check=False)
    assert res.returncode == 2
    err = res.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert phrase in err


def test_a_directory_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().endswith("is a directory, not a recording: give a file")


def test_process_profile_gives_the_live_states_at_the_same_indices(
    real_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from emgfeedback.calibration import load_profile
    from emgfeedback.config import Band
    from emgfeedback.io.replay import ReplaySource
    from emgfeedback.runtime.live import LiveOptions, build_acquisition

    data = real_data / UCI
    cols = ["--columns", "BF,ST"]
    assert (
        main(
            [
                "calibrate",
                "--from-recording",
                str(data),
                *cols,
                "--muscles",
                "hamstring_left,hamstring_right",
                "--mains",
                "60",
                "--name",
                "lab",
            ]
        )
        == 0
    )
    out = tmp_path / "states.csv"
    assert main(["process", str(data), *cols, "--profile", "lab", "--band", "30-50", "--out", str(out)]) == 0
    capsys.readouterr()
    header = out.read_text().splitlines()[0].split(",")
    assert header == [
        "time_s", "ch0_envelope", "ch1_envelope",
        "hamstring_left_percent", "hamstring_left_state", "hamstring_right_percent", "hamstring_right_state",
    ]  # fmt: skip
    table = np.genfromtxt(out, delimiter=",", skip_header=1, dtype=None, encoding="utf-8")
    offline_states = np.array([[row[4], row[6]] for row in table])
    offline_pct = np.array([[row[3], row[5]] for row in table], dtype=float)

    # the live path: a replay source through the acquisition thread, the dashboard's assembly
    profile = load_profile("lab")
    options = LiveOptions(
        filters=lambda fs: profile.filters.with_(fs=fs), profile=profile, band=Band(30, 50), scale=profile.scale
    )
    acq = build_acquisition(ReplaySource(data, columns=["BF", "ST"], realtime=False, chunk_samples=37), options)
    blocks = []
    acq.add_listener(blocks.append)
    acq.start()
    assert acq.finished.wait(60), "the replay did not finish within 60 s"
    acq.stop()
    states = np.concatenate([b.states for b in blocks if b.raw.shape[0]])
    starts = [b.start for b in blocks if b.raw.shape[0]]
    assert starts[0] == 0 and states.shape == offline_states.shape
    keys = np.array(["unknown", "below", "in", "over"])
    np.testing.assert_array_equal(keys[states.astype(int)], offline_states)
    live_pct = np.concatenate([b.percent for b in blocks if b.raw.shape[0]])
    np.testing.assert_allclose(offline_pct, live_pct, rtol=1e-3, atol=1e-3)
    assert len(set(offline_states[:, 0])) >= 3  # the file goes through several states: the comparison means something


# --- chunked reading equals reading whole -----------------------------------------------------------------
@st.composite
def _tables(draw: st.DrawFn) -> tuple[np.ndarray, list[int], str]:
    k = draw(st.integers(1, 4))
    n = draw(st.integers(1, 120))
    values = np.array(draw(st.lists(st.integers(-5000, 5000), min_size=n * k, max_size=n * k)), dtype=float).reshape(n, k) / 8
    lengths = [n, *[draw(st.integers(1, n)) for _ in range(k - 1)]]
    delim = draw(st.sampled_from([",", "\t", ";", " "]))
    return values, lengths, delim


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=_tables(), block_bytes=st.integers(1, 400), rows=st.integers(1, 50), monkeypatch=st.just(None))
def test_chunked_reads_equal_whole_reads(
    table: tuple[np.ndarray, list[int], str], block_bytes: int, rows: int, monkeypatch: None
) -> None:
    values, lengths, delim = table
    lines = []
    for r in range(values.shape[0]):
        fields = [f"{values[r, c]:g}" if r < lengths[c] else ("" if delim != " " else "nan") for c in range(values.shape[1])]
        lines.append(delim.join(fields))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.txt"
        path.write_text("\n".join(lines) + "\n")
        whole_rec = open_recording(path)
        whole = select(whole_rec, list(range(values.shape[1]))).read()
        original = textscan.BLOCK_BYTES
        textscan.BLOCK_BYTES = block_bytes
        try:
            rec = open_recording(path)
            assert [c.samples for c in rec.channels] == lengths
            sel = select(rec, list(range(values.shape[1])))
            parts = list(sel.blocks(rows))
        finally:
            textscan.BLOCK_BYTES = original
    assert all(p.shape[0] <= rows for p in parts)
    chunked = np.concatenate(parts)
    np.testing.assert_array_equal(chunked, whole)
    np.testing.assert_array_equal(whole, values[: min(lengths)])
