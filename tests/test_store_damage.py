"""A damaged store, built here: garbage pages in the middle, a truncation, a zero-length file, a read-only folder.

For each: the one line the user gets, the intact sessions still export byte-identical, writing is refused
without changing the file, and ``salvage`` recovers every intact session into a new data folder whose
exports are byte-identical too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from offline_recording import SimulatedProfile, record_offline

from emgfeedback.cli import main
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.runtime.live import LiveOptions
from emgfeedback.session.recorder import SessionMeta
from emgfeedback.session.store import SessionStore, dumps

ROOT = Path(__file__).resolve().parent.parent
STORE = "sessions.sqlite3"
PAGE = 4096


@dataclass
class Pristine:
    """An intact store of three sessions, where each session's pages lie in the file, and their exports."""

    home: Path
    ends: list[int]  # file size after each session was recorded (and checkpointed)
    exports: Path  # exports/ID/<files>

    @property
    def store(self) -> Path:
        return self.home / STORE


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], home: Path, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("EMGFEEDBACK_HOME", str(home))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def error_line(err: str) -> str:
    """The one line of an error (no traceback)."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("emgfeedback: error: "), err
    return lines[0]


def export_all(monkeypatch, capsys, home: Path, sid: int, out: Path) -> tuple[int, str]:
    code, _, err = cli(monkeypatch, capsys, home, "export", str(sid), "--format", "all", "--out", str(out))
    return code, err


def same_exports(a: Path, b: Path, *, report: bool = True) -> bool:
    """Byte-identical export files. ``report=False`` leaves out the HTML report, whose progress chart
    draws the person's other sessions (one lost in salvage is rightly missing from it)."""
    names = sorted(p.name for p in a.iterdir())
    compared = [n for n in names if report or not n.endswith(".html")]
    return names == sorted(p.name for p in b.iterdir()) and all(sha(a / n) == sha(b / n) for n in compared)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Pristine:
    home = tmp_path_factory.mktemp("pristine")
    ends = []
    for seed in range(3):
        src = SimulatedSource("backbend-hold", channels=4, fs=500.0, seed=seed, realtime=False)
        record_offline(
            src,
            store_path=home / STORE,
            options=LiveOptions(profile=SimulatedProfile(4)),
            meta=SessionMeta(source="simulated", profile="simulated", person="alex"),
            holds=[(1000, 3500)],
            max_samples=5000,
            created=1_700_000_000.0 + 3600 * seed,
        )
        with SessionStore(home / STORE) as store, store.transaction() as c:
            # a live recording stores many events (cues, markers) as it goes: so do these sessions
            c.executemany(
                "INSERT INTO events (session_id, kind, idx, wall, data) VALUES (?, 'marker', ?, NULL, ?)",
                [(seed + 1, 20 * i, dumps({"text": f"cue {i}"})) for i in range(240)],
            )
        with sqlite3.connect(home / STORE) as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        ends.append((home / STORE).stat().st_size)
    exports = tmp_path_factory.mktemp("exports")
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("EMGFEEDBACK_HOME", str(home))
        for sid in (1, 2, 3):
            assert main(["export", str(sid), "--format", "all", "--out", str(exports / str(sid))]) == 0
    finally:
        mp.undo()
    return Pristine(home, ends, exports)


def damaged_copy(pristine: Pristine, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    shutil.copy2(pristine.store, home / STORE)
    return home


def check_salvage(monkeypatch, capsys, pristine: Pristine, home: Path, tmp_path: Path, intact: list[int], lost: list[int]):
    """salvage: the damaged file unchanged, the intact sessions in a new data folder, exports byte-identical."""
    before = sha(home / STORE)
    out = tmp_path / "recovered"
    code, stdout, err = cli(monkeypatch, capsys, home, "salvage", "--out", str(out))
    assert "Traceback" not in err
    assert code == (1 if lost else 0), err
    assert f"salvaged {len(intact)} of {len(intact) + len(lost)} session(s)" in stdout
    for sid in lost:
        assert f"session {sid}: not recovered" in err
    assert sha(home / STORE) == before  # never changes the damaged file
    code, listing, _ = cli(monkeypatch, capsys, out, "sessions", "--json")
    assert code == 0 and [row["id"] for row in json.loads(listing)] == intact
    from emgfeedback.doctor import Status, run_doctor
    from emgfeedback.doctor.store_check import check_store

    (check,) = run_doctor(checks=[check_store]).checks  # the new store passes the full check
    assert check.status is Status.OK and f"{len(intact)} session(s), integrity check passed" in check.detail
    for sid in intact:
        code, err = export_all(monkeypatch, capsys, out, sid, tmp_path / f"salvaged-{sid}")
        assert code == 0, err
        assert same_exports(tmp_path / f"salvaged-{sid}", pristine.exports / str(sid), report=not lost)
    assert oct((out / STORE).stat().st_mode & 0o777) == oct(0o600) and (out.stat().st_mode & 0o777) == 0o700


def doctor_names(monkeypatch, home: Path, damaged: list[int]) -> None:
    """doctor's full check: the store fails, naming the damaged sessions and the fix."""
    from emgfeedback.doctor import Status, run_doctor
    from emgfeedback.doctor.store_check import check_store

    monkeypatch.setenv("EMGFEEDBACK_HOME", str(home))
    (check,) = run_doctor(checks=[check_store]).checks
    assert check.status is Status.FAIL and "is damaged" in check.detail, check
    assert f"damaged session(s): {', '.join(map(str, damaged))}" in check.detail and "emgfeedback salvage" in (check.fix or "")


def check_refuses_writes(monkeypatch, capsys, home: Path, expected: str) -> None:
    """record and delete refuse in one line and leave the file as it was."""
    before = sha(home / STORE)
    for argv in (("record", "--source", "simulated", "--seconds", "1"), ("delete", "1", "--yes")):
        code, _, err = cli(monkeypatch, capsys, home, *argv)
        assert code == 2
        assert expected in error_line(err), err
    assert sha(home / STORE) == before


# --- garbage pages in the middle ----------------------------------------------------------------


def test_garbage_pages_in_the_middle(monkeypatch, capsys, pristine: Pristine, tmp_path: Path) -> None:
    home = damaged_copy(pristine, tmp_path)
    data = (home / STORE).read_bytes()
    # table-leaf pages (type 0x0d) written while session 2 was recorded hold only session 2's rows
    lo, hi = pristine.ends[0] // PAGE + 4, pristine.ends[1] // PAGE - 4
    leaves = [p for p in range(lo, hi) if data[p * PAGE] == 0x0D]
    assert len(leaves) > 10
    with (home / STORE).open("r+b") as f:
        for page in leaves[len(leaves) // 2 : len(leaves) // 2 + 2]:
            f.seek(page * PAGE)
            f.write(hashlib.sha512(str(page).encode()).digest() * (PAGE // 64))
    code, out, err = cli(monkeypatch, capsys, home, "sessions")
    assert code == 0 and len(out.splitlines()) == 4  # header + all three sessions still list
    assert "is damaged" in err and "emgfeedback salvage --out" in err and len(err.strip().splitlines()) == 1
    code, err = export_all(monkeypatch, capsys, home, 2, tmp_path / "e2")
    line = error_line(err)
    assert "session 2 is damaged" in line and "emgfeedback salvage --out" in line
    assert not list((tmp_path / "e2").glob("*")) if (tmp_path / "e2").exists() else True
    for sid in (1, 3):
        code, err = export_all(monkeypatch, capsys, home, sid, tmp_path / f"e{sid}")
        assert code == 0, err
        assert same_exports(tmp_path / f"e{sid}", pristine.exports / str(sid))
    code, out, err = cli(monkeypatch, capsys, home, "show", "1")
    assert code == 0 and out.startswith("session 1")
    check_refuses_writes(monkeypatch, capsys, home, "is damaged")
    doctor_names(monkeypatch, home, [2])
    check_salvage(monkeypatch, capsys, pristine, home, tmp_path, intact=[1, 3], lost=[2])


# --- a truncation ----------------------------------------------------------------------------------


def test_truncated_store(monkeypatch, capsys, pristine: Pristine, tmp_path: Path) -> None:
    home = damaged_copy(pristine, tmp_path)
    cut = pristine.ends[2] - 7 * PAGE - 1000  # the end of session 3's pages is gone (not at a page boundary)
    with (home / STORE).open("r+b") as f:
        f.truncate(cut)
    code, out, err = cli(monkeypatch, capsys, home, "sessions")
    assert code == 0 and len(out.splitlines()) == 4
    assert f"truncated: {cut} of" in err and "emgfeedback salvage --out" in err
    code, err = export_all(monkeypatch, capsys, home, 3, tmp_path / "e3")
    assert "session 3 is damaged" in error_line(err)
    for sid in (1, 2):
        code, err = export_all(monkeypatch, capsys, home, sid, tmp_path / f"e{sid}")
        assert code == 0, err
        # the report's progress chart rightly lacks session 3, whose events were cut off
        assert same_exports(tmp_path / f"e{sid}", pristine.exports / str(sid), report=False)
    check_refuses_writes(monkeypatch, capsys, home, "is damaged (truncated")
    assert (home / STORE).stat().st_size == cut  # never replaced, never grown
    doctor_names(monkeypatch, home, [3])
    check_salvage(monkeypatch, capsys, pristine, home, tmp_path, intact=[1, 2], lost=[3])


# --- a zero-length file ------------------------------------------------------------------------------


def test_zero_length_store_is_never_replaced(monkeypatch, capsys, pristine: Pristine, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / STORE).write_bytes(b"")
    for argv in (("sessions",), ("show", "1"), ("export", "1", "--out", str(tmp_path / "e"))):
        code, _, err = cli(monkeypatch, capsys, home, *argv)
        assert code == 2 and "is empty (0 bytes)" in error_line(err) and "mv " in err
    check_refuses_writes(monkeypatch, capsys, home, "is empty (0 bytes)")
    assert (home / STORE).stat().st_size == 0
    out = tmp_path / "recovered"
    code, stdout, err = cli(monkeypatch, capsys, home, "salvage", "--out", str(out))
    assert code == 1 and "salvaged 0 of" in stdout and "empty" in err
    assert (home / STORE).stat().st_size == 0
    code, listing, _ = cli(monkeypatch, capsys, out, "sessions", "--json")
    assert code == 0 and listing.strip() == "[]"


# --- a read-only folder --------------------------------------------------------------------------------


def _read_only_mounts() -> str | None:
    """Why a read-only bind mount cannot be made here (None: it can)."""
    if sys.platform != "linux" or not shutil.which("unshare"):
        return "needs Linux with unshare(1)"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0"', str(ROOT)],
        capture_output=True,
        check=False,
        timeout=30,
    )
    return None if probe.returncode == 0 else f"cannot make a read-only bind mount: {probe.stderr.decode().strip()}"


def run_read_only(home: Path, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``emgfeedback ARGV`` in a private mount namespace where ``home`` is a read-only bind mount of itself."""
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, str(home), sys.executable, "-m", "emgfeedback", *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "EMGFEEDBACK_HOME": str(home), **(env or {})},
    )


def test_read_only_folder(pristine: Pristine, tmp_path: Path) -> None:
    reason = _read_only_mounts()
    if reason:
        pytest.skip(reason)
    home = damaged_copy(pristine, tmp_path)
    before = sha(home / STORE)
    proc = run_read_only(home, "sessions")
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 4, proc.stderr
    assert proc.stderr == ""
    proc = run_read_only(home, "show", "2")
    assert proc.returncode == 0 and proc.stdout.startswith("session 2"), proc.stderr
    for sid in (1, 2, 3):
        proc = run_read_only(home, "export", str(sid), "--format", "all", "--out", str(tmp_path / f"e{sid}"))
        assert proc.returncode == 0, proc.stderr
        assert same_exports(tmp_path / f"e{sid}", pristine.exports / str(sid))
    for argv in (
        ("record", "--source", "simulated", "--seconds", "1"),
        ("delete", "1", "--yes"),
        ("calibrate", "--source", "simulated", "--name", "x", "--fast", "--trials", "1"),
    ):
        proc = run_read_only(home, *argv)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert f"{home} is read-only" in error_line(proc.stderr), proc.stderr
        assert "calibrating" not in proc.stdout  # calibrate refuses before the trials start
    out = tmp_path / "recovered"
    proc = run_read_only(home, "salvage", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "salvaged 3 of 3 session(s)" in proc.stdout
    assert sha(home / STORE) == before and sorted(p.name for p in home.iterdir()) == [STORE]
    env = {**os.environ, "EMGFEEDBACK_HOME": str(out)}
    for sid in (1, 2, 3):
        proc = subprocess.run(
            [sys.executable, "-m", "emgfeedback", "export", str(sid), "--format", "all", "--out", str(tmp_path / f"s{sid}")],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            cwd=ROOT,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert same_exports(tmp_path / f"s{sid}", pristine.exports / str(sid))


def test_the_check_on_open_is_bounded_and_finds_garbage(pristine: Pristine, tmp_path: Path) -> None:
    from emgfeedback.session.health import quick_check, read_header

    home = damaged_copy(pristine, tmp_path)
    assert read_header(home / STORE).kind == "ok"
    with sqlite3.connect(f"{(home / STORE).as_uri()}?mode=ro", uri=True) as conn:
        assert quick_check(conn, 10.0) is None  # intact
    with (home / STORE).open("r+b") as f:
        f.seek(pristine.ends[1] // PAGE * PAGE - 20 * PAGE)
        f.write(b"\xff" * PAGE)
    with sqlite3.connect(f"{(home / STORE).as_uri()}?mode=ro", uri=True) as conn:
        assert quick_check(conn, 0.0) is None  # no time at all: nothing checked, nothing claimed
        assert quick_check(conn, 10.0)  # time enough: the garbage page is found


def test_a_damaged_list_of_sessions(monkeypatch, capsys, pristine: Pristine, tmp_path: Path) -> None:
    """Garbage on the page that lists the sessions: one line says so, and salvage probes each id it knew."""
    home = damaged_copy(pristine, tmp_path)
    with sqlite3.connect(home / STORE) as c:
        (root,) = c.execute("SELECT rootpage FROM sqlite_master WHERE name = 'sessions'").fetchone()
    with (home / STORE).open("r+b") as f:
        f.seek((root - 1) * PAGE)
        f.write(b"\x0d" + b"\xee" * (PAGE - 1))
    code, _, err = cli(monkeypatch, capsys, home, "sessions")
    assert code == 2 and "the list of sessions cannot be read" in error_line(err)
    out = tmp_path / "recovered"
    code, stdout, err = cli(monkeypatch, capsys, home, "salvage", "--out", str(out))
    assert code == 1 and "salvaged 0 of 3 session(s)" in stdout, (stdout, err)
    assert "Traceback" not in err
