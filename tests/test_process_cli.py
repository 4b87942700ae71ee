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


def test_process_writes_envelope_csv_equal_to_the_live_chain(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "uci_lowerlimb_4Npie_knee_flexion.txt"
    out = tmp_path / "env.csv"
    assert main(["process", str(src), "--fs", "1000", "--columns", "1,3", "--mains", "60", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "time_s,ch0_envelope,ch1_envelope"
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    assert table.shape == (13820, 3)
    np.testing.assert_allclose(table[:3, 0], [0.0, 0.001, 0.002])
    data = load_recording(src).select([1, 3]).data
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
        (["--fs", "1000"], "1 2\n3 x\n", "line 2 is not a row of numbers"),
        (["--fs", "1000"], "1 2\n3 4 5\n", "rows have different numbers"),
        (["--fs", "1000"], "hello\nworld\n", "no rows of numbers"),
        (["--fs", "1000", "--mains", "55"], "1 2\n3 4\n", "use 50, 60 or off"),
        (["--fs", "1000", "--columns", "a,b"], "1 2\n3 4\n", "indices like"),
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
