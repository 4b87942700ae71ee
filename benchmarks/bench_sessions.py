"""Session store: writer-thread CPU while recording 4 channels at 2 kHz, and the time and peak memory of
exporting a long 4-channel session (2 hours by default) to CSV, EDF+, JSON and the HTML report.

Environment: ``EMGFEEDBACK_BENCH_HOURS`` (default 2) and ``EMGFEEDBACK_BENCH_FS`` (default 2000) size the
exported session; ``EMGFEEDBACK_BENCH_RECORD_S`` (default 20) is the length of the live recording.
Peak memory is the exporting child process's ``ru_maxrss`` (whole process: interpreter, numpy,
matplotlib included); a child that only imports the same modules gives the baseline.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks import Figure, median_time
from emgfeedback.calibration import demo_profile
from emgfeedback.config import Band
from emgfeedback.feedback import FeedbackEngine
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.runtime.blocks import Block
from emgfeedback.runtime.live import LiveOptions, build_acquisition
from emgfeedback.session.recorder import SessionMeta, SessionRecorder
from emgfeedback.session.store import SessionStore
from emgfeedback.session.writer import SessionWriter

MUSCLES = ["glute_max_left", "hamstring_left", "glute_max_right", "hamstring_right"]

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from emgfeedback.session.store import SessionStore
from emgfeedback.session.summary import summarize
from emgfeedback.session.export_csv import export_csv
from emgfeedback.session.export_edf import export_edf
from emgfeedback.session.export_json import export_json
from emgfeedback.session.report import export_report
store_path, sid, fmt, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
t0 = time.perf_counter()
size = 0
if fmt != "baseline":
    with SessionStore(store_path, create=False, write=False) as store:
        summary = summarize(store, sid)
        if fmt == "csv":
            paths = export_csv(store, sid, out)
        elif fmt == "edf":
            paths = [export_edf(store, sid, out, summary)]
        elif fmt == "json":
            paths = [export_json(summary, out)]
        else:
            paths = [export_report(store, summary, out)]
    size = sum(p.stat().st_size for p in paths)
    for p in paths:
        p.unlink()
print(json.dumps({"seconds": time.perf_counter() - t0, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "bytes": size}))
"""


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def record_cpu(seconds: float, fs: float = 2000.0) -> tuple[float, float, int]:
    """Writer-thread CPU (% of one core, from ``time.thread_time`` in the writer), commits per s, overflows."""
    with tempfile.TemporaryDirectory() as tmp:
        source = SimulatedSource("backbend-hold", channels=4, fs=fs, realtime=True)
        acq = build_acquisition(source, LiveOptions(profile=demo_profile(4), auto_start=True))
        rec = SessionRecorder(Path(tmp) / "s.sqlite3", SessionMeta(source="simulated")).attach(acq)
        acq.start()
        t0 = time.monotonic()
        acq.finished.wait(seconds)
        acq.stop()
        rec.stop()
        wall = time.monotonic() - t0
        return 100.0 * rec.cpu_seconds / wall, rec.stats.commits / wall, rec.overflows


def synthesize(path: Path, hours: float, fs: float) -> tuple[int, float]:
    """A long 4-channel session written through SessionWriter like a recording (0.25 s rows), with a
    60 s hold every 3 minutes; raw counts, envelopes and %MVC are random but plausible. Returns (id, seconds)."""
    t0 = time.perf_counter()
    total = int(hours * 3600 * fs)
    engine = FeedbackEngine(MUSCLES, [Band()] * 4, fs)
    rng = np.random.default_rng(0)
    block = int(fs // 4)
    period, lead, hold = int(180 * fs), int(30 * fs), int(60 * fs)
    with SessionStore(path) as store:
        meta = {"raw_units": "counts", "uv_per_count": 0.00489, "envelope_units": "counts", "source": "synthetic"}
        w = SessionWriter(store, fs=fs, muscles=MUSCLES, meta=meta)
        level = np.full(4, 20.0)
        for start in range(0, total, block):
            n = min(block, total - start)
            phase = start % period  # blocks are 0.25 s, so the hold edges fall on block starts
            if phase == lead:
                engine.start_hold(start)
            elif phase == lead + hold:
                engine.stop_hold(start)
            target = 40.0 if lead <= phase < lead + hold else 3.0
            level += 0.2 * (target - level) + rng.normal(0, 4, 4)
            pct = np.clip(level + rng.normal(0, 2, (n, 4)), 0, None)
            raw = np.rint(512 + rng.normal(0, 5 + pct, (n, 4)))
            env = pct * 0.8 + 0.5
            w.add_block(Block(start, raw, raw - 512, env, pct, engine.process(start, pct)))
            if w.pending_rows >= 400:
                w.commit()
        w.finish()
        return w.session_id, time.perf_counter() - t0


def export_child(store: Path, sid: int, fmt: str, out: Path) -> dict[str, float]:
    """Run one export in a fresh process; its wall time, peak RSS and output size."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(store), str(sid), fmt, str(out)], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def store_checks(store: Path, tag: str, tmp: Path) -> Iterator[Figure]:
    """What the damage checks cost: opening to read (header + bounded quick_check) against a bare
    connection that lists the sessions, doctor's full check, and salvage of the whole store."""
    from emgfeedback.session.salvage import examine, salvage

    def bare() -> None:
        with sqlite3.connect(f"{store.absolute().as_uri()}?mode=ro", uri=True) as c:
            c.execute("SELECT id FROM sessions").fetchall()

    def checked() -> None:
        with SessionStore(store, create=False, write=False) as s:
            s.sessions()

    reference, opened = median_time(bare), median_time(checked)
    yield Figure(f"sessions.open_read_checked_{tag}", opened * 1000, "ms")
    yield Figure("sessions.open_read_checked_vs_bare", opened / reference, "x")
    yield Figure(f"sessions.doctor_full_check_{tag}", median_time(lambda: examine(store), repeats=1), "s")
    t0 = time.perf_counter()
    report = salvage(store, tmp / "salvaged")
    yield Figure(f"sessions.salvage_{tag}", time.perf_counter() - t0, "s")
    yield Figure("sessions.salvage_recovered", len(report.recovered), "sessions")


def run() -> Iterator[Figure]:
    record_s = _env_float("EMGFEEDBACK_BENCH_RECORD_S", 20.0)
    cpu, commits, overflows = record_cpu(record_s)
    yield Figure("sessions.record_writer_cpu_4ch_2khz", cpu, "% of one core")
    yield Figure("sessions.record_commits", commits, "per s")
    yield Figure("sessions.record_dropped_blocks", overflows, "blocks")
    hours = _env_float("EMGFEEDBACK_BENCH_HOURS", 2.0)
    fs = _env_float("EMGFEEDBACK_BENCH_FS", 2000.0)
    tag = f"{hours:g}h_4ch_{fs:g}hz"
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "s.sqlite3"
        sid, seconds = synthesize(store, hours, fs)
        yield Figure(f"sessions.synthesize_{tag}", seconds, "s")
        yield Figure(f"sessions.store_size_{tag}", store.stat().st_size / 2**20, "MB")
        yield from store_checks(store, tag, Path(tmp))
        base = export_child(store, sid, "baseline", Path(tmp))
        yield Figure("sessions.export_child_baseline_rss", base["maxrss_mb"], "MB")
        for fmt in ("csv", "edf", "json", "report"):
            r = export_child(store, sid, fmt, Path(tmp))
            yield Figure(f"sessions.export_{fmt}_{tag}_time", r["seconds"], "s")
            yield Figure(f"sessions.export_{fmt}_{tag}_peak_rss", r["maxrss_mb"], "MB")
            yield Figure(f"sessions.export_{fmt}_{tag}_size", r["bytes"] / 2**20, "MB")
