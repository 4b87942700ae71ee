"""A full disk during ``calibrate`` and ``record``, made for real: a small tmpfs (in a private mount namespace)
or a file-size limit (RLIMIT_FSIZE). Nothing recorded is lost, and the user gets one line."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from offline_recording import SimulatedProfile, record_offline

from emgfeedback.calibration.profile import read_profile_file
from emgfeedback.cli import main
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.runtime.live import LiveOptions
from emgfeedback.session.recorder import SessionMeta

ROOT = Path(__file__).resolve().parent.parent
CALIBRATE = ["calibrate", "--source", "simulated", "--name", "demo", "--fast", "--trials", "1", "--channels", "2"]


def error_lines(err: str) -> list[str]:
    assert "Traceback" not in err, err
    return [ln for ln in err.splitlines() if ln.startswith("emgfeedback: error: ")]


def _tmpfs_works() -> str | None:
    if sys.platform != "linux" or not shutil.which("unshare"):
        return "needs Linux with unshare(1)"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$0"', str(ROOT / "tests")],
        capture_output=True,
        check=False,
        timeout=30,
    )
    return None if probe.returncode == 0 else f"cannot mount a tmpfs: {probe.stderr.decode().strip()}"


def in_small_disk(home: Path, size_kb: int, script: str, *, fill_to_kb: int | None = None, seed: Path | None = None):
    """Run ``script`` (sh) with ``home`` a fresh tmpfs of ``size_kb``; ``seed``'s files are copied in first and
    the disk is then filled until ``fill_to_kb`` kB are left free (0: full)."""
    setup = f'mount -t tmpfs -o size={size_kb}k,mode=0700 tmpfs "$HOME_DIR"'
    if seed is not None:
        setup += f' && cp -a "{seed}"/. "$HOME_DIR"/'
    if fill_to_kb is not None:
        setup += (
            f' && free=$(df -k --output=avail "$HOME_DIR" | tail -1) && '
            f'dd if=/dev/zero of="$HOME_DIR/filler" bs=1k count=$((free - {fill_to_kb})) 2>/dev/null; true'
        )
    env = {**os.environ, "EMGFEEDBACK_HOME": str(home), "HOME_DIR": str(home), "PY": sys.executable, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", f"{setup} && {script}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env=env,
    )


@pytest.fixture
def small_disk() -> None:
    reason = _tmpfs_works()
    if reason:
        pytest.skip(reason)


# --- calibrate -------------------------------------------------------------------------------------


def test_calibrate_on_a_full_disk_refuses_before_the_trials(small_disk: None, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    proc = in_small_disk(home, 512, '"$PY" -m emgfeedback ' + " ".join(CALIBRATE), fill_to_kb=8)
    assert proc.returncode == 2
    (line,) = error_lines(proc.stderr)
    assert "disk full" in line and "--save-to" in line and str(home) in line
    assert "calibrating" not in proc.stdout  # no trial ran: nothing a person did is lost
    # the same full disk, saved elsewhere with --save-to
    target = tmp_path / "kept" / "demo.json"
    target.parent.mkdir()
    cmd = '"$PY" -m emgfeedback ' + " ".join(CALIBRATE) + f' --save-to "{target}"'
    proc = in_small_disk(home, 512, cmd, fill_to_kb=8)
    assert proc.returncode == 0, proc.stderr
    assert read_profile_file(target).name == "demo" and stat.S_IMODE(target.stat().st_mode) == 0o600


def _limit_file_size(limit: int):
    def apply() -> None:
        import resource  # POSIX only: imported in the child, never at module level

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_FSIZE is POSIX")
def test_calibrate_whose_save_fails_after_the_trials_keeps_the_profile(emg_home: Path, tmp_path: Path) -> None:
    """Every file write beyond 1 kB fails (EFBIG), so the profile cannot be written anywhere: it is printed."""
    proc = subprocess.run(
        [sys.executable, "-m", "emgfeedback", *CALIBRATE],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "EMGFEEDBACK_HOME": str(emg_home), "TMPDIR": str(tmp_path)},
        preexec_fn=_limit_file_size(1024),
    )
    assert proc.returncode == 2
    (line,) = error_lines(proc.stderr)
    assert "could not save" in line and "printed above as JSON" in line
    text = proc.stdout[proc.stdout.rindex("\n{\n") + 1 :]
    saved = tmp_path / "from-stdout.json"
    saved.write_text(text)
    profile = read_profile_file(saved)
    assert profile.name == "demo" and len(profile.references) == 2
    assert all(r.mvc > r.noise > 0 for r in profile.references)
    leftovers = [p for p in (emg_home / "profiles").iterdir()] + [p for p in tmp_path.iterdir() if p != saved]
    assert leftovers == []  # no half-written profile or temporary file


def test_calibrate_whose_save_fails_keeps_it_in_a_temporary_file(
    emg_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from emgfeedback.calibration import profile_store as profile_mod

    real = profile_mod.write_private

    def full_profiles_folder(path: Path, data: bytes) -> Path:
        if path.parent == emg_home / "profiles":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(profile_mod, "write_private", full_profiles_folder)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    code = main(CALIBRATE)
    _, err = capsys.readouterr()
    assert code == 2
    (line,) = error_lines(err)
    (kept,) = tmp_path.glob("emgfeedback-profile-*.json")
    assert f"saved to {kept} instead" in line and f"--profile {kept}" in line
    assert read_profile_file(kept).name == "demo" and stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_killed_profile_and_export_writes_are_cleaned_up(emg_home: Path, tmp_path: Path, capsys) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True, capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has exited: its .part files are leftovers
    profiles = emg_home / "profiles"
    profiles.mkdir()
    (profiles / f".demo.json.{pid}.part").write_text("{half")
    old = profiles / ".demo-abc123.tmp"  # an older version's temporary name
    old.write_text("{half")
    os.utime(old, (1, 1))
    out = tmp_path / "exports"
    out.mkdir()
    (out / f".session-1.csv.{pid}.part").write_text("time_s,")
    record_offline(
        SimulatedSource("backbend-hold", channels=2, fs=500.0, seed=1, realtime=False),
        options=LiveOptions(profile=SimulatedProfile(2)),
        meta=SessionMeta(source="simulated"),
        max_samples=1000,
    )
    assert main(["profiles"]) == 0
    assert main(["export", "1", "--format", "json", "--out", str(out)]) == 0
    capsys.readouterr()
    assert list(profiles.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == ["session-1.json"]


# --- record ------------------------------------------------------------------------------------------


@pytest.fixture
def one_session(tmp_path: Path) -> Path:
    """A data folder holding one recorded session."""
    seed = tmp_path / "seed"
    seed.mkdir(mode=0o700)
    record_offline(
        SimulatedSource("backbend-hold", channels=4, fs=500.0, seed=2, realtime=False),
        store_path=seed / "sessions.sqlite3",
        options=LiveOptions(profile=SimulatedProfile(4)),
        meta=SessionMeta(source="simulated"),
        max_samples=2000,
    )
    return seed


def folders(tmp_path: Path) -> tuple[Path, Path]:
    """An empty data folder (on the small disk) and a folder for what the commands print (off it)."""
    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir()
    out.mkdir()
    return home, out


def test_record_that_cannot_start_on_a_full_disk_leaves_no_session(small_disk: None, one_session: Path, tmp_path: Path) -> None:
    home, out = folders(tmp_path)
    script = (
        f'"$PY" -m emgfeedback record --source simulated --seconds 5 --status-every 0 > "{out}/rec.out" 2> "{out}/rec.err";'
        f' echo $? > "{out}/rec.rc"; "$PY" -m emgfeedback sessions --json > "{out}/sessions.json"'
    )
    proc = in_small_disk(home, 1024, script, seed=one_session, fill_to_kb=0)
    assert proc.returncode == 0, proc.stderr
    assert (out / "rec.rc").read_text().strip() == "2"
    (line,) = error_lines((out / "rec.err").read_text())
    assert "disk full" in line
    assert [row["id"] for row in json.loads((out / "sessions.json").read_text())] == [1]  # only the old one


def test_record_that_fills_the_disk_keeps_what_it_recorded(small_disk: None, one_session: Path, tmp_path: Path) -> None:
    home, out = folders(tmp_path)
    script = (
        f'"$PY" -m emgfeedback record --source simulated --seconds 60 --status-every 0 > "{out}/rec.out" 2> "{out}/rec.err";'
        f' echo $? > "{out}/rec.rc"; "$PY" -m emgfeedback sessions --json > "{out}/sessions.json";'
        f' "$PY" -m emgfeedback export 2 --format csv,json --out "{out}/export" 2> "{out}/export.err"'
    )
    proc = in_small_disk(home, 2048, script, seed=one_session, fill_to_kb=160)
    assert proc.returncode == 0, (out / "export.err").read_text() if (out / "export.err").exists() else proc.stderr
    assert (out / "rec.rc").read_text().strip() == "2"
    (line,) = error_lines((out / "rec.err").read_text())
    assert "disk full" in line and "session 2 keeps the" in line
    rows = {row["id"]: row for row in json.loads((out / "sessions.json").read_text())}
    assert sorted(rows) == [1, 2] and rows[2]["duration_s"] > 0.5 and rows[2]["status"] == "interrupted"
    summary = json.loads((out / "export" / "session-2.json").read_text())
    assert summary["session"]["id"] == 2


def test_on_a_terminal_a_failed_save_asks_for_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from emgfeedback.commands._profile_save import keep

    answers = iter([str(tmp_path / "missing-folder" / "p.json"), str(tmp_path / "p.json")])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    error = keep(
        '{"name": "demo"}\n',
        "demo",
        tmp_path / "full" / "demo.json",
        OSError(errno.ENOSPC, "No space"),
        interactive=True,
        out=io.StringIO(),
    )
    assert f"saved to {tmp_path / 'p.json'} instead" in str(error) and "\n" not in str(error)
    assert (tmp_path / "p.json").read_text() == '{"name": "demo"}\n'
    assert stat.S_IMODE((tmp_path / "p.json").stat().st_mode) == 0o600
