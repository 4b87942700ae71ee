"""The session commands: record, sessions, show, export, delete; their one-line errors leave the store untouched."""

from __future__ import annotations

import hashlib
import json
import os
import selectors
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from offline_recording import SimulatedProfile, record_offline

from emgfeedback.cli import main
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.runtime.live import LiveOptions
from emgfeedback.session.recorder import SessionMeta
from emgfeedback.session.store import SessionStore, schema_version
from emgfeedback.session.writer import SessionWriter

ROOT = Path(__file__).resolve().parent.parent


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("emgfeedback: error: "), err
    assert "Traceback" not in err
    return lines[0]


def store_path(home: Path) -> Path:
    return home / "sessions.sqlite3"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def stored(emg_home: Path) -> int:
    """A short recorded session with one hold (offline, so it is quick)."""
    src = SimulatedSource("backbend-hold", channels=4, fs=500.0, seed=1, realtime=False)
    res = record_offline(
        src,
        store_path=store_path(emg_home),
        options=LiveOptions(profile=SimulatedProfile(4)),
        meta=SessionMeta(source="simulated", profile="simulated"),
        holds=[(3000, 9000)],
        max_samples=10_000,
    )
    return res.session_id


def test_record_list_show_export(capsys: pytest.CaptureFixture[str], emg_home: Path, tmp_path: Path) -> None:
    code, out, err = run_cli(capsys, "record", "--source", "simulated", "--seconds", "1.2", "--status-every", "0.5")
    assert code == 0, err
    assert out.strip().startswith("session 1 complete:") and "1.2 s recorded" in out
    assert "recording session 1 from simulated" in err
    code, out, _ = run_cli(capsys, "sessions", "--json")
    (row,) = json.loads(out)
    assert row["id"] == 1 and row["status"] == "complete" and row["holds"] == 0
    assert 1.2 <= row["duration_s"] < 1.6 and row["date"]
    code, out, _ = run_cli(capsys, "sessions")
    assert code == 0 and "ID" in out.splitlines()[0] and "complete" in out.splitlines()[1]
    code, out, _ = run_cli(capsys, "show", "1")
    assert code == 0 and out.startswith("session 1") and "holds 0" in out
    code, out, _ = run_cli(capsys, "show", "1", "--json")
    assert json.loads(out)["session"]["id"] == 1
    outdir = tmp_path / "exports"
    code, out, err = run_cli(capsys, "export", "1", "--format", "all", "--out", str(outdir))
    assert code == 0, err
    names = sorted(Path(p).name for p in out.split())
    assert names == ["session-1-raw.csv", "session-1.csv", "session-1.edf", "session-1.html", "session-1.json"]
    for p in outdir.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name


def test_show_reports_holds(capsys: pytest.CaptureFixture[str], stored: int) -> None:
    code, out, _ = run_cli(capsys, "show", str(stored))
    assert code == 0
    assert "hold 1: from 6.0 s for 12.0 s" in out and "Glute max, left" in out
    code, out, _ = run_cli(capsys, "sessions", "--json")
    assert json.loads(out)[0]["holds"] == 1


def test_sessions_with_no_store_is_not_an_error(capsys: pytest.CaptureFixture[str], emg_home: Path) -> None:
    code, _, err = run_cli(capsys, "sessions")
    assert code == 0 and "no sessions recorded yet" in err
    assert run_cli(capsys, "sessions", "--json")[1].strip() == "[]"
    assert not store_path(emg_home).exists()


@pytest.mark.parametrize("argv", [["show", "42"], ["export", "42", "--format", "csv"], ["delete", "42"]])
def test_unknown_session(capsys: pytest.CaptureFixture[str], stored: int, emg_home: Path, argv: list[str]) -> None:
    before = digest(store_path(emg_home))
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and "no session 42" in one_line_error(err)
    assert digest(store_path(emg_home)) == before


def test_newer_store_is_refused_untouched(capsys: pytest.CaptureFixture[str], stored: int, emg_home: Path) -> None:
    path = store_path(emg_home)
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version={schema_version() + 1}")
    con.close()
    before = digest(path)
    for argv in (["sessions"], ["show", str(stored)], ["export", str(stored)]):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2 and "newer emgfeedback" in one_line_error(err)
    code, _, err = run_cli(capsys, "record", "--source", "simulated", "--seconds", "1")
    assert code == 2 and "newer emgfeedback" in one_line_error(err)
    assert digest(path) == before


def test_export_to_an_unusable_directory(capsys: pytest.CaptureFixture[str], stored: int, emg_home: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    before = digest(store_path(emg_home))
    code, _, err = run_cli(capsys, "export", str(stored), "--format", "csv", "--out", str(a_file))
    assert code == 2 and "is not a directory" in one_line_error(err)
    code, _, err = run_cli(capsys, "export", str(stored), "--format", "csv", "--out", str(a_file / "sub"))
    assert code == 2 and "cannot be created" in one_line_error(err)
    code, _, err = run_cli(capsys, "export", str(stored), "--format", "pdf")
    assert code == 2 and "format 'pdf' is not known" in one_line_error(err)
    assert digest(store_path(emg_home)) == before


def test_export_disk_full(
    capsys: pytest.CaptureFixture[str], stored: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from emgfeedback.session import export_csv

    def full(*args: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export_csv, "_format", full)
    code, _, err = run_cli(capsys, "export", str(stored), "--format", "csv", "--out", str(tmp_path))
    assert code == 2 and "disk full" in one_line_error(err)
    assert not list(tmp_path.glob("session-*")) and not list(tmp_path.glob(".*part"))


def test_record_disk_full(capsys: pytest.CaptureFixture[str], emg_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self: SessionWriter, c: object, rows: list, events: list) -> None:
        if rows:
            raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(SessionWriter, "_write", full)
    code, _, err = run_cli(capsys, "record", "--source", "simulated", "--seconds", "5", "--status-every", "0")
    assert code == 2
    assert "disk full" in one_line_error("\n".join(ln for ln in err.splitlines() if ln.startswith("emgfeedback:")))
    monkeypatch.undo()
    with SessionStore(store_path(emg_home)) as store:
        assert store.sessions() == []  # a recording that cannot start leaves no session behind


def test_delete_without_a_terminal(stored: int, emg_home: Path) -> None:
    env = {**os.environ, "EMGFEEDBACK_HOME": str(emg_home)}
    proc = subprocess.run(
        [sys.executable, "-m", "emgfeedback", "delete", str(stored)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"deleted session {stored}"
    with SessionStore(store_path(emg_home)) as store:
        assert store.sessions() == []


def test_sigterm_stops_a_recording_cleanly(emg_home: Path) -> None:
    env = {**os.environ, "EMGFEEDBACK_HOME": str(emg_home), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "emgfeedback", "record", "--source", "simulated", "--status-every", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        sel = selectors.DefaultSelector()
        assert proc.stderr is not None
        sel.register(proc.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        seen = ""
        while "recording session" not in seen:
            assert time.monotonic() < deadline, f"no start line: {seen!r}"
            if sel.select(timeout=1.0):
                line = proc.stderr.readline()
                assert line, f"recorder exited early: {seen!r}"
                seen += line
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "complete" in out and "stopped by SIGTERM" in out
    with SessionStore(store_path(emg_home)) as store:
        (info,) = store.sessions()
        assert info.status == "complete" and info.samples > 0


def test_record_with_a_saved_profile(capsys: pytest.CaptureFixture[str], emg_home: Path) -> None:
    import dataclasses

    calibration = pytest.importorskip("emgfeedback.calibration")
    profile = dataclasses.replace(calibration.demo_profile(2), name="ana standard")
    calibration.save_profile(profile)
    code, _, err = run_cli(
        capsys,
        "record",
        "--source",
        "simulated",
        "--channels",
        "2",
        "--profile",
        "ana standard",
        "--seconds",
        "1",
        "--status-every",
        "0",
        "--person",
        "ana",
    )
    assert code == 0, err
    with SessionStore(store_path(emg_home)) as store:
        (info,) = store.sessions()
        assert (info.profile, info.person) == ("ana standard", "ana")
        assert info.meta["filters"] == profile.filters.to_dict()
        pct = [r.data for r in store.iter_chunks(info.id, "percent")]
        assert all(np.isfinite(p).all() for p in pct)
    code, _, err = run_cli(capsys, "record", "--source", "simulated", "--profile", "nobody", "--seconds", "1")
    assert code == 2 and "no profile named 'nobody'" in one_line_error(err)


def test_filter_flags_are_compared_with_the_profile_only_when_given(
    capsys: pytest.CaptureFixture[str], emg_home: Path, real_data: Path
) -> None:
    data = real_data / "uci_lowerlimb_4Npie_knee_flexion.txt"
    columns = ["--fs", "1000", "--columns", "1,3"]
    code, _, err = run_cli(
        capsys, "calibrate", "--from-recording", str(data), *columns, "--muscles", "hamstring_left,hamstring_right",
        "--name", "from lab", "--mains", "60",
    )  # fmt: skip
    assert code == 0, err
    record = ["record", "--source", f"replay:{data}", *columns, "--profile", "from lab", "--status-every", "0"]

    # a flag that contradicts the profile is refused before the source opens: nothing is recorded
    for command in (record, ["live", "--source", f"replay:{data}", *columns, "--profile", "from lab", "--quit-after", "1"]):
        code, _, err = run_cli(capsys, *command, "--mains", "50")
        assert code == 2
        assert one_line_error(err) == (
            "emgfeedback: error: profile 'from lab' does not match this setup (mains 50, profile 60): "
            "calibrate again with these settings, or use matching settings (--mains 60)"
        )
    assert not store_path(emg_home).exists()

    # one flag given (equal to the profile's) keeps every other setting of the profile, mains 60 included
    code, _, err = run_cli(capsys, *record, "--band-high", "450", "--mains", "60", "--seconds", "0.3")
    assert code == 0, err
    with SessionStore(store_path(emg_home)) as store:
        (info,) = store.sessions()
        assert info.meta["filters"]["mains"] == "60" and info.meta["filters"]["band_high_hz"] == 450.0

    code, _, err = run_cli(capsys, *record, "--window-ms", "100", "--seconds", "0.3")
    assert code == 2
    assert "(window_ms 100.0, profile 150.0)" in one_line_error(err) and "mains" not in err


def test_sessions_table_keeps_status_aligned_under_long_profile_names(capsys: pytest.CaptureFixture[str], emg_home: Path) -> None:
    for profile in ("short", "both sides, standard placement, after the warm-up"):
        src = SimulatedSource("rest", channels=1, fs=500.0, seed=1, realtime=False)
        record_offline(
            src,
            store_path=store_path(emg_home),
            options=LiveOptions(profile=SimulatedProfile(1)),
            meta=SessionMeta(source="simulated", profile=profile),
            max_samples=500,
        )
    code, out, _ = run_cli(capsys, "sessions")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    column = lines[0].index("STATUS")
    assert all(line[column:].startswith("complete") for line in lines[1:]), out
