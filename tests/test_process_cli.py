"""``emgfeedback process``: the offline chain from the command line, and its errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emgfeedback.cli import main
from emgfeedback.config import FilterSpec, Mains
from emgfeedback.dsp import Pipeline
from emgfeedback.io.files import load_recording


def test_process_writes_envelope_csv_equal_to_the_live_chain(real_data: Path, tmp_path: Path) -> None:
    src = real_data / "uci_lowerlimb_4Npie_knee_flexion.txt"
    out = tmp_path / "env.csv"
    assert main(["process", str(src), "--fs", "1000", "--columns", "1,3", "--mains", "60", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "time_s,ch0_envelope,ch1_envelope"
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    assert table.shape == (13820, 3)
    np.testing.assert_allclose(table[:3, 0], [0.0, 0.001, 0.002])
    data = load_recording(src, [1, 3]).data
    want = Pipeline(FilterSpec(mains=Mains.HZ60)).process(data).envelope
    np.testing.assert_allclose(table[:, 1:], want, rtol=1e-5, atol=1e-9)


def test_process_to_stdout_and_csv_with_header(tmp_path: Path) -> None:
    csv = tmp_path / "rec.csv"
    t = np.arange(2000) / 500.0
    rng = np.random.default_rng(0)
    np.savetxt(csv, np.column_stack([t, rng.standard_normal((2000, 2))]), delimiter=",", header="time_s,left,right", comments="")
    res = subprocess.run(
        [sys.executable, "-m", "emgfeedback", "process", str(csv), "--window-ms", "100"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    rows = res.stdout.splitlines()
    assert rows[0] == "time_s,ch0_envelope,ch1_envelope" and len(rows) == 2001
    assert rows[2].startswith("0.0020,")  # fs 500 Hz inferred from the time column


@pytest.mark.parametrize(
    ("args", "content", "phrase"),
    [
        (["--columns", "0,7"], "1 2\n3 4\n", "column 7 does not exist"),
        (["--fs", "1000", "--window-ms", "1"], "1 2\n3 4\n", "under 2 samples"),
        ([], "1 2\n3 4\n", "give it with --fs"),
        (["--fs", "1000"], "1 2\n3 x\n", "line 2: 'x' in field 2 is not a number"),
        (["--fs", "1000"], "1 2\n3 4 5\n", "line 2 has 3 values where the first row has 2"),
        (["--fs", "1000"], "hello\nworld\n", "no rows of numbers"),
        (["--fs", "1000", "--mains", "55"], "1 2\n3 4\n", "use 50, 60 or off"),
        (["--fs", "1000", "--columns", "a,b"], "1 2\n3 4\n", "no channel named 'a': the channels are col0, col1"),
        (["--fs", "1000", "--columns", "-1"], "1 2\n3 4\n", "indices like"),
        (["--fs", "inf"], "1 2\n3 4\n", "sample rate inf Hz is not a finite number"),
        (["--fs", "nan"], "1 2\n3 4\n", "sample rate nan Hz is not a finite number"),
        (["--fs", "0"], "1 2\n3 4\n", "sample rate 0 Hz is not positive"),
        (["--fs", "-5"], "1 2\n3 4\n", "sample rate -5 Hz is not positive"),
        (["--fs", "1e12"], "1 2\n3 4\n", "far beyond any sEMG front end"),
        (["--fs", "1000", "--window-ms", "inf"], "1 2\n3 4\n", "RMS window (ms) is inf, not a finite number"),
        (["--fs", "1000", "--window-ms", "nan"], "1 2\n3 4\n", "RMS window (ms) is nan, not a finite number"),
        (["--fs", "1000", "--window-ms", "1e9"], "1 2\n3 4\n", "is too long"),
        (["--fs", "1000", "--band-high", "nan"], "1 2\n3 4\n", "band upper edge (Hz) is nan"),
        (["--fs", "abc"], "1 2\n3 4\n", "argument --fs: invalid float value: 'abc'"),
    ],
)
def test_bad_input_is_one_line_no_traceback(tmp_path: Path, args: list[str], content: str, phrase: str) -> None:
    f = tmp_path / "bad.txt"
    f.write_text(content)
    res = subprocess.run(
        [sys.executable, "-m", "emgfeedback", "process", str(f), *args], capture_output=True, text=True, check=False
    )
    assert res.returncode != 0
    err = res.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert phrase in err


def test_missing_file_and_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["process", str(tmp_path / "nope.txt"), "--fs", "1000"]) == 2
    assert "no such file" in capsys.readouterr().err
    f = tmp_path / "ok.txt"
    f.write_text("1\n2\n3\n")
    assert main(["process", str(f), "--fs", "1000", "--out", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["process", str(f), "--fs", "1000", "--out", str(tmp_path / "no" / "dir" / "x.csv")]) == 2
    assert "cannot be written" in capsys.readouterr().err


def test_zero_fs_is_refused_not_taken_as_the_files_rate(real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = real_data / "uci_lowerlimb_4Npie_knee_flexion.txt"  # its sidecar states 1000 Hz
    assert main(["process", str(src), "--fs", "0", "--columns", "1"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "emgfeedback: error: sample rate 0 Hz is not positive: give the rate with --fs\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_device_is_a_one_line_error(tmp_path: Path) -> None:
    f = tmp_path / "ok.txt"
    f.write_text("1\n2\n3\n")
    res = subprocess.run(
        [sys.executable, "-m", "emgfeedback", "process", str(f), "--fs", "1000", "--out", "/dev/full"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2
    assert res.stderr == "emgfeedback: error: /dev/full: cannot be written (No space left on device): choose another --out\n"


def test_disk_full_leaves_the_old_file_and_no_partial_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    f = tmp_path / "ok.txt"
    f.write_text("1\n2\n3\n")
    out = tmp_path / "env.csv"
    out.write_text("the previous result\n")

    from emgfeedback.commands import process

    def full(stream: object, *args: object, **kwargs: object) -> None:
        stream.write("0.0000,1\n")  # type: ignore[attr-defined]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(process, "write_rows", full)
    assert main(["process", str(f), "--fs", "1000", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"emgfeedback: error: disk full while writing {out}") and err.count("\n") == 1
    assert out.read_text() == "the previous result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env.csv", "ok.txt"]


def test_piped_into_head_stops_quietly(real_data: Path) -> None:
    src = real_data / "uci_lowerlimb_4Npie_knee_flexion.txt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "emgfeedback", "process", str(src), "--fs", "1000", "--columns", "1,3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == b"time_s,ch0_envelope,ch1_envelope\n"
    proc.stdout.close()  # like `head -1`: the reader goes away while the writer still has rows to write
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert err == ""
