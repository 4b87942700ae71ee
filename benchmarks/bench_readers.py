"""Recording readers: read throughput (text, EDF, XDF), peak memory of ``process`` on a large text file,
and the time to ``inspect`` a 1-hour 4-channel EDF.

Environment: ``EMGFEEDBACK_BENCH_TEXT_MB`` (default 2048) sizes the text file ``process`` runs over
(written to a temporary directory and deleted after); ``EMGFEEDBACK_BENCH_READ_MB`` (default 64) sizes
the text file for throughput. Ratios are against numpy's ``loadtxt`` (text) and pyedflib's whole-signal
read (EDF) of the same file in the same process. XDF throughput is over the real example file in
tests/data (pyxdf parses whole files; there is no streaming XDF reader). Peak memory is the child
process's ``ru_maxrss`` (interpreter, numpy, scipy included); a child that only imports gives the baseline.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks import Figure, median_time
from emgfeedback.io.readers import open_recording, select

ROOT = Path(__file__).resolve().parent.parent
XDF = ROOT / "tests" / "data" / "xdf_example_clock_resets.xdf"

_CHILD = """
import resource, sys
sys.argv = ["emgfeedback", *sys.argv[1:]]
if sys.argv[1:] == ["--baseline"]:
    import emgfeedback.cli, emgfeedback.commands.process  # noqa: F401
    code = 0
else:
    from emgfeedback.cli import main
    code = main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def _text_file(path: Path, megabytes: float) -> int:
    """A 4-channel tab-separated text recording of about ``megabytes`` MB (a random block, repeated)."""
    rng = np.random.default_rng(0)
    block = rng.normal(0, 0.05, (100_000, 4))
    import io

    buf = io.StringIO()
    buf.write("# Sampling Rate (Hz):= 1000\nRF\tBF\tVM\tST\n")
    np.savetxt(buf, block, fmt="%.4f", delimiter="\t")
    text = buf.getvalue().encode()
    head_end = text.index(b"ST\n") + 3
    body = text[head_end:]
    target = int(megabytes * 1e6)
    with path.open("wb") as f:
        f.write(text[:head_end])
        written = head_end
        while written < target:
            f.write(body)
            written += len(body)
    return written


def _read_all(path: Path) -> int:
    rec = open_recording(path)
    n = 0
    for block in select(rec, list(range(len(rec.channels)))).blocks():  # every channel, as the references read
        n += block.shape[0]
    rec.close()
    return n


def _edf(path: Path, seconds: int = 3600, fs: int = 1000) -> None:
    import pyedflib

    w = pyedflib.EdfWriter(str(path), 4, file_type=pyedflib.FILETYPE_EDFPLUS)
    w.setSignalHeaders(
        [
            {
                "label": f"EMG {i}",
                "dimension": "uV",
                "sample_frequency": fs,
                "physical_max": 5000,
                "physical_min": -5000,
                "digital_max": 32767,
                "digital_min": -32768,
                "prefilter": "HP:10Hz LP:500Hz",
                "transducer": "",
            }
            for i in range(4)
        ]
    )
    rng = np.random.default_rng(1)
    for _ in range(seconds // 60):
        w.writeSamples([rng.normal(0, 50, fs * 60) for _ in range(4)])
    w.close()


def _child(args: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of a child running ``emgfeedback ARGS``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, env=env, check=False, cwd=ROOT)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"emgfeedback {' '.join(args)} failed: {res.stderr.strip()[-400:]}")
    return int(res.stderr.strip().splitlines()[-1]) / 1024.0, wall


def run() -> Iterator[Figure]:
    read_mb = float(os.environ.get("EMGFEEDBACK_BENCH_READ_MB", "64"))
    big_mb = float(os.environ.get("EMGFEEDBACK_BENCH_TEXT_MB", "2048"))
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        text = tmpdir / "read.txt"
        size = _text_file(text, read_mb)
        ours = median_time(lambda: _read_all(text), repeats=3)
        numpy = median_time(lambda: np.loadtxt(text, skiprows=2, delimiter="\t"), repeats=3)
        yield Figure("text read throughput", size / 1e6 / ours, "MB/s")
        yield Figure("text read time vs numpy loadtxt (whole file in memory)", ours / numpy, "x")

        edf = tmpdir / "hour.edf"
        _edf(edf)
        edf_size = edf.stat().st_size
        ours = median_time(lambda: _read_all(edf), repeats=3)

        def whole() -> None:
            import pyedflib

            r = pyedflib.EdfReader(str(edf))
            for i in range(4):
                r.readSignal(i)
            r.close()

        ref = median_time(whole, repeats=3)
        yield Figure("EDF read throughput (1 h, 4 ch, 1 kHz)", edf_size / 1e6 / ours, "MB/s")
        yield Figure("EDF read time vs pyedflib whole-signal read", ours / ref, "x")

        xdf_t = median_time(lambda: _read_all(XDF), repeats=3)
        yield Figure("XDF read throughput (clock_resets example, pyxdf)", XDF.stat().st_size / 1e6 / xdf_t, "MB/s")

        walls = [_child(["inspect", str(edf)])[1] for _ in range(3)]
        yield Figure("inspect 1 h 4-ch EDF (whole command, interpreter start included)", statistics.median(walls), "s")
        t_open = median_time(lambda: open_recording(edf).close(), repeats=5)
        yield Figure("inspect 1 h 4-ch EDF (reading the header, in process)", t_open * 1000, "ms")

        base, _ = _child(["--baseline"])
        big = tmpdir / "big.txt"
        big_size = _text_file(big, big_mb)
        text.unlink()
        peak, wall = _child(["process", str(big), "--out", os.devnull])  # the CSV goes nowhere: no second 2 GB on disk
        yield Figure(f"process peak memory on a {big_size / 1e9:.2f} GB text file", peak, "MB")
        yield Figure("process peak memory, import-only baseline", base, "MB")
        yield Figure(f"process time on a {big_size / 1e9:.2f} GB text file", wall, "s")
        yield Figure("process throughput (scan + filter + CSV out)", big_size / 1e6 / wall, "MB/s")
