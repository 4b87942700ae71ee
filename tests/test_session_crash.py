"""kill -9 of ``emgfeedback record`` at random moments: the store opens, everything committed is there,
in order, without duplicates, and the session is listed as interrupted."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from emgfeedback.cli import main
from emgfeedback.session.store import KINDS, SessionStore

ROOT = Path(__file__).resolve().parent.parent
TRIALS = 10
BATCH = 5  # recorders started together (2 cores): keeps the whole test near 10 s
FS = 1000
SEED = 20240611


@pytest.fixture(scope="module")
def counter_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 s at 1 kHz whose first column is the sample counter (replayed in real time)."""
    path = tmp_path_factory.mktemp("crash") / "counter.txt"
    n = 60 * FS
    rng = np.random.default_rng(1)
    data = np.column_stack([np.arange(n), rng.integers(400, 620, size=(n, 3))])
    np.savetxt(path, data, fmt="%d", delimiter=",", header="counter,a,b,c", comments="")
    return path


def _rows_committed(path: Path) -> int:
    """Chunk rows visible to a reader (0 while the store is not there yet)."""
    if not path.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
        try:
            return int(con.execute("SELECT count(*) FROM chunks").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _start(home: Path, counter: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "EMGFEEDBACK_HOME": str(home)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emgfeedback",
            "record",
            "--source",
            f"replay:{counter}",
            "--fs",
            str(FS),
            "--columns",
            "counter,a,b,c",
            "--status-every",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )


def _kill_at_random(proc: subprocess.Popen[bytes], store: Path, delay: float) -> float:
    """Wait (bounded) until rows are committed, then a further ``delay`` s; SIGKILL; returns the kill time."""
    deadline = time.monotonic() + 60
    while _rows_committed(store) == 0:
        assert time.monotonic() < deadline, "the recorder committed nothing within 60 s"
        try:
            proc.wait(timeout=0.02)  # a bounded wait that also notices an early exit
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"the recorder exited early: {proc.stderr.read().decode() if proc.stderr else ''}")
    try:
        proc.wait(timeout=delay)
        pytest.fail("the recorder exited by itself")
    except subprocess.TimeoutExpired:
        pass
    killed_at = time.time()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return killed_at


def _check_store(path: Path, killed_at: float) -> float:
    """Everything committed is intact; returns how long before the kill the last commit was."""
    for suffix in ("", "-wal", "-shm"):  # a crash leaves the WAL behind: still owner-only
        p = Path(f"{path}{suffix}")
        if p.exists():
            assert stat.S_IMODE(p.stat().st_mode) == 0o600
    with SessionStore(path) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (info,) = store.sessions()
        assert info.status == "interrupted" and info.stored_status == "recording"
        totals = {}
        for kind in KINDS:
            rows = list(store.iter_chunks(info.id, kind))
            starts = [r.start for r in rows]
            assert starts[0] == 0
            assert all(r.start == prev.stop for prev, r in itertools.pairwise(rows)), "rows are not contiguous"
            totals[kind] = rows[-1].stop
            if kind == "raw":
                counter = np.concatenate([r.data[:, 0] for r in rows])
                assert np.array_equal(counter, np.arange(counter.size)), "samples lost, repeated or out of order"
        assert len(set(totals.values())) == 1  # every kind committed together
        assert info.end_index == totals["raw"] and info.first_index == 0
        assert list(store.iter_aligned(info.id, KINDS))  # rows of all kinds line up
        assert info.heartbeat is not None
        return killed_at - info.heartbeat


def test_kill_9_at_random_moments(
    counter_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(SEED)
    delays = rng.uniform(0.0, 0.7, size=TRIALS)
    lags = []
    homes = [tmp_path / f"home{i}" for i in range(TRIALS)]
    for b in range(0, TRIALS, BATCH):
        procs = [_start(homes[i], counter_file) for i in range(b, b + BATCH)]
        try:
            for i, proc in zip(range(b, b + BATCH), procs, strict=True):
                path = homes[i] / "sessions.sqlite3"
                killed_at = _kill_at_random(proc, path, float(delays[i]))
                lags.append(_check_store(path, killed_at))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                if proc.stderr:
                    proc.stderr.close()
    # commits come every 0.2 s: the last one is never far before the kill (slack for a loaded machine)
    with capsys.disabled():
        print("\nseconds from the last commit to the kill:", [round(x, 3) for x in lags])
    assert max(lags) < 1.0, lags
    # the CLI lists it as interrupted, and the store takes a new recording after the crash
    monkeypatch.setenv("EMGFEEDBACK_HOME", str(homes[0]))
    capsys.readouterr()
    assert main(["sessions", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["status"] == "interrupted"
    with SessionStore(homes[0] / "sessions.sqlite3") as store:
        store.create_session(fs=FS, muscles=["a"])
        assert store.session(row["id"]).stored_status == "interrupted"
