"""Exports agree with the live statistics: JSON and CSV against the in-memory holds, EDF+ read back with pyedflib."""

from __future__ import annotations

import base64
import csv
import errno
import hashlib
import json
import re
from pathlib import Path

import edfio
import numpy as np
import pyedflib
import pytest
from offline_recording import OfflineResult, SimulatedProfile, record_offline

from emgfeedback.errors import ExportError
from emgfeedback.feedback import FeedbackUpdate, HoldTracker, State
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.runtime.blocks import Block
from emgfeedback.runtime.live import LiveOptions
from emgfeedback.session import export_csv as export_csv_mod
from emgfeedback.session import export_edf as export_edf_mod
from emgfeedback.session.export_csv import export_csv
from emgfeedback.session.export_edf import export_edf
from emgfeedback.session.export_json import export_json, summary_document
from emgfeedback.session.outputs import prepare_out_dir
from emgfeedback.session.recorder import SessionMeta
from emgfeedback.session.report import export_report
from emgfeedback.session.store import SessionStore
from emgfeedback.session.summary import summarize
from emgfeedback.session.writer import SessionWriter, recompute_hold

FS = 1000.0
HOLDS = [(6_000, 21_000), (28_000, 47_000)]  # sample indices where the "key" is pressed
SAMPLES = 50_000


class Recorded:
    """The recorded session and what the engine computed in memory."""

    def __init__(self, path: Path, result: OfflineResult, second: int) -> None:
        self.path, self.result, self.second = path, result, second

    @property
    def sid(self) -> int:
        return self.result.session_id


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """A 50 s simulated backbend session with two holds at known indices, plus a later short one of the same person."""
    path = tmp_path_factory.mktemp("store") / "sessions.sqlite3"
    options = LiveOptions(profile=SimulatedProfile(4))
    meta = SessionMeta(source="simulated:backbend-hold", profile="simulated", person="ana")
    src = SimulatedSource("backbend-hold", channels=4, fs=FS, seed=7, realtime=False, chunk_samples=37)
    res = record_offline(
        src, store_path=path, options=options, meta=meta, holds=HOLDS, max_samples=SAMPLES, created=1_700_000_000.0
    )
    src2 = SimulatedSource("backbend-hold", channels=4, fs=FS, seed=8, realtime=False)
    second = record_offline(
        src2, store_path=path, options=options, meta=meta, holds=[(6_000, 16_000)], max_samples=17_000, created=1_700_600_000.0
    )
    return Recorded(path, res, second.session_id)


def block(start: int, n: int, ch: int = 2, *, states: np.ndarray | None = None, pct: float = 40.0) -> Block:
    """A block whose raw channel 0 is the sample counter."""
    idx = np.arange(start, start + n, dtype=np.float64)
    raw = np.column_stack([idx] + [np.full(n, 512.0 + c) for c in range(1, ch)])
    percent = np.full((n, ch), pct)
    st = np.full((n, ch), int(State.IN), dtype=np.int8) if states is None else states
    return Block(start, raw, raw - 512.0, np.full((n, ch), 1.5), percent, FeedbackUpdate(start, st))


def store_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- JSON and the live statistics ----------------------------------------------------------------------


def test_json_holds_equal_the_in_memory_statistics(recorded: Recorded, tmp_path: Path) -> None:
    live = recorded.result.holds
    assert [(h.start_index, h.stop_index) for h in live] == HOLDS
    with SessionStore(recorded.path) as store:
        path = export_json(summarize(store, recorded.sid), tmp_path)
    doc = json.loads(path.read_text())
    assert doc["session"]["id"] == recorded.sid and doc["session"]["status"] == "complete"
    assert doc["session"]["duration_s"] == SAMPLES / FS
    assert len(doc["holds"]) == len(live)
    for got, want in zip(doc["holds"], live, strict=True):
        expected = want.as_dict()
        assert {k: got[k] for k in expected} == expected  # the same keys and the same numbers
        assert got["source"] == "live"
    # totals add the holds up
    t = doc["totals"]
    assert t["holds"] == 2 and t["hold_time_s"] == pytest.approx(sum(h.duration_s for h in live))
    in_band = sum(m.in_band for h in live for m in h.muscles if m.name == "glute_max_left") / FS
    assert t["muscles"][0]["time_in_band_s"] == pytest.approx(in_band)
    assert t["overclench_episodes"] >= 2  # the script over-clenches both glutes in each hold


def test_holds_recomputed_from_the_store_agree_with_live(recorded: Recorded) -> None:
    with SessionStore(recorded.path) as store:
        info = store.session(recorded.sid)
        for h in recorded.result.holds:
            again = recompute_hold(
                store, recorded.sid, number=h.number, muscles=info.muscles, fs=FS, start=h.start_index, stop=h.stop_index
            )
            want = h.as_dict()
            for k in ("start_index", "stop_index", "duration_s", "synergy_pct", "hamstring_lead_s"):
                assert again[k] == want[k]
            for a, b in zip(again["muscles"], want["muscles"], strict=True):
                for k in ("time_in_band_s", "time_below_s", "time_over_s", "overclench_count", "overclench_s"):
                    assert a[k] == b[k], k
                # %MVC is stored as float32
                assert a["mean_pct_mvc"] == pytest.approx(b["mean_pct_mvc"], rel=1e-6)
                assert a["peak_pct_mvc"] == pytest.approx(b["peak_pct_mvc"], rel=1e-6)


# --- CSV ----------------------------------------------------------------------------------------------------


def test_csv_agrees_with_the_in_memory_hold_statistics(recorded: Recorded, tmp_path: Path) -> None:
    with SessionStore(recorded.path) as store:
        main, raw = export_csv(store, recorded.sid, tmp_path)
        stored_raw = np.concatenate([r.data for r in store.iter_chunks(recorded.sid, "raw")])
    assert (main.name, raw.name) == (f"session-{recorded.sid}.csv", f"session-{recorded.sid}-raw.csv")
    with main.open() as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    muscles = ["glute_max_left", "hamstring_left", "glute_max_right", "hamstring_right"]
    assert header == ["time_s", *[x for m in muscles for x in (f"{m}_pct_mvc", f"{m}_state")]]
    assert len(body) == SAMPLES
    t = np.array([float(r[0]) for r in body])
    idx = np.rint(t * FS).astype(int)
    assert np.array_equal(idx, np.arange(SAMPLES))
    for hold in recorded.result.holds:
        sel = (idx >= hold.start_index) & (idx < hold.stop_index)
        for c, m in enumerate(hold.muscles):
            pct = np.array([float(r[1 + 2 * c]) for r, s in zip(body, sel, strict=True) if s])
            states = [r[2 + 2 * c] for r, s in zip(body, sel, strict=True) if s]
            assert states.count("in") == m.in_band
            assert states.count("below") == m.below
            assert states.count("over") == m.over
            over = np.array([s == "over" for s in states])
            starts = int(over[0]) + int(np.count_nonzero(over[1:] & ~over[:-1]))
            assert starts == m.overclench_episodes
            assert pct.mean() == pytest.approx(m.sum_pct / m.valid, abs=1e-3)
            assert pct.max() == pytest.approx(m.peak_pct, abs=1e-3)
    with raw.open() as f:
        rrows = list(csv.reader(f))
    assert rrows[0][:2] == ["time_s", "glute_max_left_raw_counts"]
    assert rrows[0][5] == "glute_max_left_envelope_counts"
    got = np.array([[float(v) for v in r[1:5]] for r in rrows[1:]])
    assert np.array_equal(got, stored_raw)


def test_state_keys_in_csv_are_the_state_names() -> None:
    assert list(export_csv_mod.STATE_KEYS) == [s.key for s in State]


# --- EDF+ ---------------------------------------------------------------------------------------------------


def test_edf_reads_back_with_pyedflib(recorded: Recorded, tmp_path: Path) -> None:
    with SessionStore(recorded.path) as store:
        summary = summarize(store, recorded.sid)
        path = export_edf(store, recorded.sid, tmp_path, summary)
        raw = np.concatenate([r.data for r in store.iter_chunks(recorded.sid, "raw")]).astype(np.float64)
        env = np.concatenate([r.data for r in store.iter_chunks(recorded.sid, "envelope")]).astype(np.float64)
    uv = summary.info.meta["uv_per_count"]
    assert uv is not None
    f = pyedflib.EdfReader(str(path))
    try:
        assert f.filetype == pyedflib.FILETYPE_EDFPLUS
        labels = f.getSignalLabels()
        assert labels == [
            "EMG GluteMax L",
            "EMG Hamstring L",
            "EMG GluteMax R",
            "EMG Hamstring R",
            "ENV GluteMax L",
            "ENV Hamstring L",
            "ENV GluteMax R",
            "ENV Hamstring R",
        ]
        assert list(f.getSampleFrequencies()) == [FS] * 8
        assert f.getFileDuration() == SAMPLES / FS
        assert f.getPhysicalDimension(0) == "uV" and f.getPhysicalDimension(4) == "counts"
        for i in range(8):
            x = f.readSignal(i)
            ref = raw[:, i] * uv if i < 4 else env[:, i - 4]
            q = (f.getPhysicalMaximum(i) - f.getPhysicalMinimum(i)) / 65535
            assert x.shape == (SAMPLES,)
            assert np.max(np.abs(x - ref)) <= q / 2 + 1e-9 * max(1.0, np.abs(ref).max()), labels[i]
        onsets, durations, texts = f.readAnnotations()
    finally:
        f.close()
    anns = list(zip(onsets.tolist(), durations.tolist(), texts.tolist(), strict=True))
    holds = [a for a in anns if a[2].startswith("hold")]
    assert holds == [(a / FS, (b - a) / FS, f"hold {i}") for i, (a, b) in enumerate(HOLDS, 1)]
    over = [a for a in anns if a[2].startswith("over-clench")]
    assert len(over) == len(summary.overclench) >= 2
    for (onset, dur, text), ep in zip(over, sorted(summary.overclench, key=lambda e: e["start_index"]), strict=True):
        assert onset == pytest.approx(ep["start_index"] / FS, abs=1e-6)
        assert dur == pytest.approx(ep["duration_s"], abs=1e-6)
        assert text == f"over-clench {ep['muscle']}"
    # edfio, the writer's own library, agrees
    e = edfio.read_edf(path)
    assert e.num_data_records == SAMPLES / FS and e.data_record_duration == 1.0
    assert [s.label for s in e.signals] == labels


def _gap_session(path: Path) -> int:
    with SessionStore(path) as store:
        w = SessionWriter(store, fs=100.0, muscles=["glute_max_left", "hamstring_left"])
        w.add_block(block(0, 250))
        w.add_block(block(400, 175))  # 150 samples lost; 575 samples = 5.75 s -> 6 records, the tail padded
        w.finish()
        return w.session_id


def test_edf_fills_a_gap_pads_the_tail_and_annotates(tmp_path: Path) -> None:
    sid = _gap_session(tmp_path / "s.sqlite3")
    with SessionStore(tmp_path / "s.sqlite3") as store:
        path = export_edf(store, sid, tmp_path, summarize(store, sid))
    f = pyedflib.EdfReader(str(path))
    try:
        assert f.getFileDuration() == 6 and list(f.getSampleFrequencies()) == [100.0] * 4
        counter = f.readSignal(0)  # raw channel 0 is the sample counter (no gain known: counts)
        q = (f.getPhysicalMaximum(0) - f.getPhysicalMinimum(0)) / 65535
        assert np.allclose(counter[:250], np.arange(250), atol=q)
        assert np.allclose(counter[250:400], 249, atol=q)  # the gap holds the last value
        assert np.allclose(counter[400:575], np.arange(400, 575), atol=q)
        assert np.allclose(counter[575:], 574, atol=q)  # the padded tail
        onsets, durations, texts = f.readAnnotations()
    finally:
        f.close()
    assert (onsets[0], durations[0]) == (2.5, 1.5) and texts[0].startswith("gap: 150 samples")


# --- report ---------------------------------------------------------------------------------------------------


def test_report_is_one_self_contained_page(recorded: Recorded, tmp_path: Path) -> None:
    with SessionStore(recorded.path) as store:
        path = export_report(store, summarize(store, recorded.sid), tmp_path)
    page = path.read_text()
    assert path.name == f"session-{recorded.sid}.html"
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 3  # activation, holds, progress across the person's two sessions
    assert all(base64.b64decode(b)[:8] == b"\x89PNG\r\n\x1a\n" for b in images)
    assert "http://" not in page and "https://" not in page and "<script" not in page
    for text in ("time in band", "hold 1", "hold 2", "Over-clench episodes", "Progress"):
        assert text in page


# --- holds that never finished, auto holds ------------------------------------------------------------------


def test_a_hold_open_at_a_crash_is_recomputed_from_the_samples(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    names = ["glute_max_left", "hamstring_left"]
    with SessionStore(path) as store:
        w = SessionWriter(store, fs=100.0, muscles=names)
        tracker = HoldTracker(1, names, 100.0, 130)
        rng = np.random.default_rng(3)
        for start in range(0, 600, 50):
            states = rng.integers(1, 4, size=(50, 2)).astype(np.int8)
            b = block(start, 50, states=states, pct=0.0)
            pct = rng.uniform(10, 70, size=(50, 2))
            b = type(b)(b.start, b.raw, b.filtered, b.envelope, pct, b.feedback)
            if start == 100:
                b.feedback.started_hold = 130
            w.add_block(b)
            tracker.update(start, pct, states)
        w.commit()  # ... and the process dies here: no finish, no hold summary
        store.conn.execute("UPDATE sessions SET heartbeat = heartbeat - 3600 WHERE id = ?", (w.session_id,))
        summary = summarize(store, w.session_id)
    assert summary.info.status == "interrupted"
    (hold,) = summary.holds
    assert hold["open_at_end"] and hold["source"] == "recomputed"
    want = tracker.summary.as_dict()
    assert (hold["start_index"], hold["stop_index"]) == (130, 600)
    for a, b in zip(hold["muscles"], want["muscles"], strict=True):
        assert a["time_in_band_s"] == b["time_in_band_s"] and a["overclench_count"] == b["overclench_count"]
        assert a["mean_pct_mvc"] == pytest.approx(b["mean_pct_mvc"], rel=1e-6)


def test_auto_started_holds_are_stored_with_their_live_statistics(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    src = SimulatedSource("backbend-hold", channels=2, fs=500.0, seed=2, realtime=False)
    res = record_offline(
        src, store_path=path, options=LiveOptions(profile=SimulatedProfile(2), auto_start=True), max_samples=20_000
    )
    assert res.holds, "the scripted hold should auto-start"
    with SessionStore(path) as store:
        doc = summary_document(summarize(store, res.session_id))
    assert doc["session"]["settings"]["auto_hold"] is True
    for got, want in zip(doc["holds"], res.holds, strict=False):
        expected = want.as_dict()
        assert {k: got[k] for k in expected} == expected


# --- failures leave nothing behind ---------------------------------------------------------------------------


def test_output_directory_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ExportError, match="is not a directory"):
        prepare_out_dir(a_file)
    with pytest.raises(ExportError, match="cannot be created"):
        prepare_out_dir(a_file / "sub")
    assert prepare_out_dir(tmp_path / "new" / "dir").is_dir()

    def denied(*args: object, **kw: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("tempfile.TemporaryFile", denied)
    with pytest.raises(ExportError, match="is not writable"):
        prepare_out_dir(tmp_path)


@pytest.mark.parametrize("fmt", ["csv", "edf"])
def test_disk_full_while_exporting_leaves_no_file_and_the_store_untouched(
    recorded: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    def full(*args: object, **kw: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    before = store_hash(recorded.path)
    out = tmp_path / "out"
    out.mkdir()
    with SessionStore(recorded.path) as store:
        if fmt == "csv":
            monkeypatch.setattr(export_csv_mod, "_format", full)
            with pytest.raises(ExportError, match="disk full") as err:
                export_csv(store, recorded.sid, out)
        else:
            monkeypatch.setattr(export_edf_mod._RecordWriter, "flush", full)
            with pytest.raises(ExportError, match="disk full") as err:
                export_edf(store, recorded.sid, out, summarize(store, recorded.sid))
    assert "\n" not in str(err.value)
    assert list(out.iterdir()) == []
    assert store_hash(recorded.path) == before


def test_edf_header_stays_ascii_with_any_muscle_name(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "s.sqlite3") as store:
        w = SessionWriter(store, fs=100.0, muscles=["fessier_gauche_é", "ischio_jambier_droit_très_long"])
        w.add_block(block(0, 200))
        w.finish()
        path = export_edf(store, w.session_id, tmp_path, summarize(store, w.session_id))
    f = pyedflib.EdfReader(str(path))
    try:
        labels = f.getSignalLabels()
    finally:
        f.close()
    assert labels[0] == "EMG fessiergauch" and len(set(labels)) == 4 and all(lb.isascii() for lb in labels)
