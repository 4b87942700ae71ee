"""Session store: permissions, schema versions and migration, chunk rows, status, disk full, the recorder thread."""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import wait_until
from offline_recording import SimulatedProfile

from emgfeedback.feedback import FeedbackUpdate, State
from emgfeedback.io.simulated import SimulatedSource, constant_script
from emgfeedback.runtime.acquisition import Acquisition
from emgfeedback.runtime.blocks import Block
from emgfeedback.runtime.live import LiveOptions, build_acquisition
from emgfeedback.session import schema as schema_mod
from emgfeedback.session import store as store_mod
from emgfeedback.session.recorder import SessionMeta, SessionRecorder
from emgfeedback.session.store import (
    NewerSchemaError,
    SessionStore,
    StoreError,
    StoreFullError,
    UnknownSessionError,
    schema_version,
)
from emgfeedback.session.writer import EpisodeTracker, SessionWriter, pack_raw

MUSCLES = ["glute_max_left", "hamstring_left"]


def block(start: int, n: int, ch: int = 2, *, states: np.ndarray | None = None, pct: float = 40.0) -> Block:
    """A block whose raw channel 0 is the sample counter."""
    idx = np.arange(start, start + n, dtype=np.float64)
    raw = np.column_stack([idx] + [np.full(n, 512.0 + c) for c in range(1, ch)])
    env = np.full((n, ch), 1.5)
    percent = np.full((n, ch), pct)
    st = np.full((n, ch), int(State.IN), dtype=np.int8) if states is None else states
    return Block(start, raw, raw - 512.0, env, percent, FeedbackUpdate(start, st))


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- files and schema ---------------------------------------------------------------------------


def test_store_is_private_and_in_the_data_dir(emg_home: Path) -> None:
    with SessionStore() as store:
        assert store.path == emg_home / "sessions.sqlite3"
        sid = store.create_session(fs=1000, muscles=MUSCLES)
        # while a connection is open in WAL mode the -wal and -shm files exist: all owner-only
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{store.path}{suffix}")
            assert p.exists(), suffix
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, suffix
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.session(sid).status == "recording"
    assert stat.S_IMODE(emg_home.stat().st_mode) == 0o700


def test_missing_store_is_not_created_by_readers(tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite3"
    with pytest.raises(StoreError, match="no sessions recorded yet"):
        SessionStore(path, create=False)
    assert not path.exists()


def test_schema_version_is_set(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "s.sqlite3") as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == schema_version() >= 1


def test_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with SessionStore(path) as store:
        store.create_session(fs=1000, muscles=MUSCLES)
        store.conn.execute(f"PRAGMA user_version={schema_version() + 1}")
    before, mtime = file_hash(path), path.stat().st_mtime_ns
    with pytest.raises(NewerSchemaError, match="newer emgfeedback") as err:
        SessionStore(path)
    assert "\n" not in str(err.value)
    assert file_hash(path) == before and path.stat().st_mtime_ns == mtime


def test_older_store_is_migrated_keeping_its_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.sqlite3"
    with SessionStore(path) as store:
        sid = store.create_session(fs=500, muscles=MUSCLES, profile="p1")

    def v2(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE sessions ADD COLUMN coach TEXT DEFAULT 'none'")

    monkeypatch.setattr(schema_mod, "MIGRATIONS", [*schema_mod.MIGRATIONS, v2])
    with SessionStore(path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == 2
        assert store.session(sid).profile == "p1"
        assert store.conn.execute("SELECT coach FROM sessions WHERE id = ?", (sid,)).fetchone()[0] == "none"


def test_failed_migration_leaves_the_store_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.sqlite3"
    with SessionStore(path) as store:
        store.create_session(fs=500, muscles=MUSCLES)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE sessions ADD COLUMN x TEXT")
        conn.execute("THIS IS NOT SQL")

    monkeypatch.setattr(schema_mod, "MIGRATIONS", [*schema_mod.MIGRATIONS, broken])
    with pytest.raises(StoreError, match="schema upgrade failed"):
        SessionStore(path)
    monkeypatch.undo()
    with SessionStore(path) as store:
        assert store.version == 1
        cols = [r[1] for r in store.conn.execute("PRAGMA table_info(sessions)")]
        assert "x" not in cols


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"hello, this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a session store"):
        SessionStore(path)


# --- chunk rows ---------------------------------------------------------------------------------


def test_pack_raw_is_lossless_for_counts_and_compact() -> None:
    assert pack_raw(np.array([[0.0, 1023.0]])).dtype == np.int16
    assert pack_raw(np.array([[0.0, 70000.0]])).dtype == np.int32
    assert pack_raw(np.array([[0.5, 1.0]])).dtype == np.float32
    assert pack_raw(np.array([[np.nan, 1.0]])).dtype == np.float32


def test_rows_round_trip_with_gap_and_contiguous_indices(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "s.sqlite3") as store:
        w = SessionWriter(store, fs=1000, muscles=MUSCLES, chunk_seconds=0.25)
        for start in range(100, 1100, 40):  # starts mid-stream, like a dashboard switching recording on
            w.add_block(block(start, 40))
        w.add_block(block(1500, 300))  # 400 samples lost
        w.commit()
        w.finish()
        info = store.session(w.session_id)
        assert (info.first_index, info.end_index, info.status) == (100, 1800, "complete")
        rows = list(store.iter_chunks(w.session_id, "raw"))
        assert all(r.data.shape[0] < 250 + 300 for r in rows)  # whole blocks, closed at >= 0.25 s
        idx = np.concatenate([np.arange(r.start, r.stop) for r in rows])
        assert np.array_equal(idx, np.r_[100:1100, 1500:1800])
        assert np.array_equal(np.concatenate([r.data[:, 0] for r in rows]), idx)
        assert rows[0].data.dtype == np.int16
        aligned = list(store.iter_aligned(w.session_id, ("raw", "percent", "state")))
        assert [a[0] for a in aligned] == [r.start for r in rows]
        assert all(a[1]["state"].dtype == np.int8 for a in aligned)
        (gap,) = store.events(w.session_id, ["gap"])
        assert gap.index == 1100 and gap.data["length"] == 400 and gap.data["cause"] == "source"
        i, v = store.read(w.session_id, "raw", 1090, 1510)
        assert np.array_equal(i, np.r_[1090:1100, 1500:1510]) and np.array_equal(v[:, 0], i)
        assert store.stored_samples(w.session_id) == 1300


def test_overclench_episodes_across_blocks() -> None:
    tr = EpisodeTracker(["a", "b"], 100.0)
    over, inb = int(State.OVER), int(State.IN)
    s1 = np.array([[inb, over], [over, over], [over, inb]], dtype=np.int8)
    p1 = np.array([[40, 80], [60, 90], [70, 40]], dtype=float)
    done = tr.update(0, p1, s1)
    assert [(d["muscle"], d["start_index"], d["stop_index"], d["peak_pct_mvc"]) for d in done] == [("b", 0, 2, 90.0)]
    s2 = np.array([[over, inb], [inb, over]], dtype=np.int8)
    done = tr.update(3, np.array([[75, 40], [40, 55]], dtype=float), s2)
    assert [(d["muscle"], d["start_index"], d["stop_index"], d["peak_pct_mvc"]) for d in done] == [("a", 1, 4, 75.0)]
    (last,) = tr.close_all(5)
    assert (last["muscle"], last["start_index"], last["stop_index"], last["open_at_end"]) == ("b", 4, 5, True)


@pytest.mark.parametrize("split", [1, 11, 12, 13, 21, 29])
def test_overclench_episode_starts_when_the_level_crossed_not_after_the_dwell(split: int) -> None:
    from emgfeedback.config import Band
    from emgfeedback.feedback import BandClassifier

    fs = 100.0
    band = Band(dwell_ms=30.0)  # 3 samples
    level = np.full(30, 40.0)
    level[10:20] = 60.0
    level[10] = 80.0  # the peak is the first sample over the band, before the state turns OVER
    states = BandClassifier([band], fs).update(level[:, None])
    assert np.flatnonzero(states[:, 0] == State.OVER).tolist() == list(range(12, 22))  # the dwell delays the state
    tr = EpisodeTracker(["glute_max_left"], fs, [3])
    done = tr.update(0, level[:split, None], states[:split])
    done += tr.update(split, level[split:, None], states[split:])
    assert [(d["start_index"], d["stop_index"], d["peak_pct_mvc"], d["duration_s"]) for d in done] == [(10, 20, 80.0, 0.1)]


# --- status ---------------------------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_recording_whose_writer_is_gone_reads_as_interrupted(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "s.sqlite3") as store:
        alive = store.create_session(fs=1000, muscles=MUSCLES)
        dead = store.create_session(fs=1000, muscles=MUSCLES)
        stale = store.create_session(fs=1000, muscles=MUSCLES)
        store.conn.execute("UPDATE sessions SET pid = ? WHERE id = ?", (_dead_pid(), dead))
        store.conn.execute("UPDATE sessions SET heartbeat = heartbeat - 3600 WHERE id = ?", (stale,))
        statuses = {s.id: s.status for s in store.sessions()}
        assert statuses == {alive: "recording", dead: "interrupted", stale: "interrupted"}
        assert store.session(dead).stored_status == "recording"  # reading does not write
        store.create_session(fs=1000, muscles=MUSCLES)  # a new recording persists the verdict
        assert store.session(dead).stored_status == "interrupted"
        assert store.session(alive).stored_status == "recording"


def test_delete(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "s.sqlite3") as store:
        w = SessionWriter(store, fs=1000, muscles=MUSCLES)
        w.add_block(block(0, 500))
        w.finish()
        keep = SessionWriter(store, fs=1000, muscles=MUSCLES)
        keep.add_block(block(0, 100))
        keep.finish()
        live = store.create_session(fs=1000, muscles=MUSCLES)
        store.delete_session(w.session_id)
        with pytest.raises(UnknownSessionError, match=f"no session {w.session_id}"):
            store.session(w.session_id)
        for table in ("chunks", "events"):
            n = store.conn.execute(f"SELECT count(*) FROM {table} WHERE session_id = ?", (w.session_id,)).fetchone()[0]
            assert n == 0
        assert store.stored_samples(keep.session_id) == 100
        with pytest.raises(StoreError, match="still being recorded"):
            store.delete_session(live)


# --- disk full ------------------------------------------------------------------------------------


def test_disk_full_during_a_commit_keeps_what_was_committed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.sqlite3"
    with SessionStore(path) as store:
        w = SessionWriter(store, fs=1000, muscles=MUSCLES)
        w.add_block(block(0, 500))
        w.commit()

        def full(*args: object) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(w, "_write", full)
        w.add_block(block(500, 500))
        with pytest.raises(StoreFullError, match="disk full") as err:
            w.commit()
        assert "\n" not in str(err.value)
    with SessionStore(path) as store:
        assert store.stored_samples(w.session_id) == 500
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_enospc_is_disk_full() -> None:
    import errno

    assert store_mod.is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert not store_mod.is_disk_full(OSError(errno.EACCES, "Permission denied"))


# --- the recorder thread ----------------------------------------------------------------------------


def _finite_acquisition(seconds: float, fs: float = 1000.0) -> Acquisition:
    script = constant_script(2, 40.0, seconds)
    script = type(script)(script.name, script.times, script.levels, loop=False)
    source = SimulatedSource(script, channels=2, fs=fs, realtime=False, chunk_samples=20)
    return build_acquisition(source, LiveOptions(profile=SimulatedProfile(2)))


def test_recorder_stores_every_sample_of_an_acquisition(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    acq = _finite_acquisition(5.0)
    rec = SessionRecorder(path, SessionMeta(source="simulated", person="ana")).attach(acq)
    acq.start()
    assert acq.finished.wait(20)
    rec.event("marker", data={"text": "coach note"})
    sid = rec.stop()
    assert rec.error is None and rec.overflows == 0
    with SessionStore(path) as store:
        info = store.session(sid)
        assert info.status == "complete" and info.person == "ana"
        assert (info.first_index, info.end_index) == (0, acq.samples) == (0, 5000)
        assert store.stored_samples(sid) == 5000
        pct = np.concatenate([r.data for r in store.iter_chunks(sid, "percent")])
        assert abs(float(np.median(pct[1000:])) - 40.0) < 4.0
        (marker,) = store.events(sid, ["marker"])
        assert marker.data["text"] == "coach note" and marker.index == 5000
        assert info.meta["filters"]["fs"] == 1000.0 and info.meta["stream"]["channels"] == 2
        assert info.meta["uv_per_count"] is not None  # the simulated front end's gain is known
    assert rec.cpu_seconds > 0


def test_a_slow_writer_never_blocks_the_reader_and_drops_show_as_gaps(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    rec = SessionRecorder(path, queue_blocks=4)
    acq = _finite_acquisition(2.0)
    gate = threading.Event()
    rec.attach(acq)
    real_handle = rec._handle

    def slow(item: object) -> None:
        gate.wait(10)
        real_handle(item)

    rec._handle = slow  # type: ignore[method-assign]

    # the writer is stuck until the reader has offered sample 1000: the reader must go on regardless;
    # then (test listener only) the reader waits for the writer to catch up, so later blocks get in
    def release(b: Block) -> None:
        if b.start >= 1000 and not gate.is_set():
            gate.set()
            assert wait_until(rec.queue.empty)

    acq.add_listener(release)
    acq.start()
    assert acq.finished.wait(20)
    sid = rec.stop()
    assert rec.overflows > 0
    with SessionStore(path) as store:
        info = store.session(sid)
        gaps = store.events(sid, ["gap"])
        assert gaps and all(g.data["cause"] == "recorder-overflow" for g in gaps)
        assert sum(g.data["length"] for g in gaps) == info.samples - store.stored_samples(sid)


def test_recorder_reports_disk_full_and_marks_the_session_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.sqlite3"
    real_write = SessionWriter._write

    def full_after_first(self: SessionWriter, c: sqlite3.Connection, rows: list, events: list) -> None:
        if self.stats.commits >= 1:
            raise sqlite3.OperationalError("database or disk is full")
        real_write(self, c, rows, events)

    monkeypatch.setattr(SessionWriter, "_write", full_after_first)
    acq = _finite_acquisition(2.0)
    rec = SessionRecorder(path).attach(acq)
    acq.start()
    assert wait_until(lambda: rec.error is not None)
    acq.stop()
    sid = rec.stop()
    assert isinstance(rec.error, StoreFullError)
    monkeypatch.undo()
    with SessionStore(path) as store:
        assert sid is not None and store.session(sid).stored_status == "interrupted"
        assert store.stored_samples(sid) > 0  # the first commit is kept


def test_a_recording_that_cannot_start_leaves_no_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.sqlite3"
    with SessionStore(path) as store:
        kept = store.create_session(fs=1000, muscles=MUSCLES)
        store.set_status(kept, "complete")

    def full(self: SessionWriter, c: object, rows: list, events: list) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(SessionWriter, "_write", full)
    acq = _finite_acquisition(2.0)
    rec = SessionRecorder(path).attach(acq)
    acq.start()
    assert wait_until(lambda: rec.error is not None)
    acq.stop()
    assert rec.stop() is None and isinstance(rec.error, StoreFullError)
    monkeypatch.undo()
    with SessionStore(path, write=False) as store:
        assert [s.id for s in store.sessions()] == [kept]


def test_dashboard_factory_records_while_the_acquisition_is_already_running(emg_home: Path) -> None:
    from emgfeedback.session.recorder import dashboard_recorder_factory

    acq = _finite_acquisition(3.0)
    attached = threading.Event()
    acq.add_listener(lambda b: attached.wait(10))  # hold the (fast) reader until recording is switched on
    acq.start()
    assert acq.opened.wait(10)
    rec = dashboard_recorder_factory(SimulatedProfile(2, name="demo"))(acq)
    attached.set()
    # the stream is open: the session is stored with the first commit, a fraction of a second later
    assert wait_until(lambda: rec.session_id is not None)
    assert rec.status_text.startswith(f"session {rec.session_id} ")
    assert acq.finished.wait(20)
    sid = rec.stop()
    with SessionStore() as store:
        info = store.session(sid)
        assert info.profile == "demo" and info.status == "complete"
        rows = list(store.iter_chunks(sid, "raw"))
        assert all(a.stop == b.start for a, b in itertools.pairwise(rows))
        assert info.end_index == acq.samples and info.first_index == rows[0].start
