"""``progress`` over three stored sessions on different days (one of them a program), and its report."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from offline_recording import SimulatedProfile, record_offline

from emgfeedback.cli import main
from emgfeedback.io.simulated import SimulatedSource
from emgfeedback.runtime.live import LiveOptions
from emgfeedback.session.recorder import SessionMeta
from emgfeedback.training.athlete import athlete_script
from emgfeedback.training.program import load_program

FS = 500.0
DAYS = ["2026-11-16T18:30:00", "2026-11-19T07:10:00", "2026-11-24T20:00:00"]  # weeks 47, 47 and 48


def _record(home: Path, when: str, *, program: bool, seed: int) -> int:
    created = datetime.fromisoformat(when).timestamp()
    meta = SessionMeta(source="simulated", profile="simulated")
    store = home / "sessions.sqlite3"
    if program:
        prog = load_program("underbutt-isolation")
        src = SimulatedSource(athlete_script(prog, 4), channels=4, fs=FS, seed=seed, realtime=False)
        opts = LiveOptions(profile=SimulatedProfile(4), program=prog)
        return record_offline(src, store_path=store, options=opts, meta=meta, created=created).session_id
    src = SimulatedSource("backbend-hold", channels=4, fs=FS, seed=seed, realtime=False)
    opts = LiveOptions(profile=SimulatedProfile(4))
    holds = [(int(5 * FS), int(30 * FS)), (int(40 * FS), int(65 * FS))]
    return record_offline(src, store_path=store, options=opts, meta=meta, holds=holds, max_samples=int(70 * FS),
                          created=created).session_id  # fmt: skip


@pytest.fixture
def three_sessions(emg_home: Path) -> list[int]:
    return [_record(emg_home, DAYS[0], program=False, seed=1), _record(emg_home, DAYS[1], program=True, seed=2),
            _record(emg_home, DAYS[2], program=False, seed=3)]  # fmt: skip


def test_progress_per_session_and_week(three_sessions: list[int], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["progress", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    sessions, weeks = data["sessions"], data["weeks"]
    assert [s["date"] for s in sessions] == ["2026-11-16", "2026-11-19", "2026-11-24"]
    assert [s["holds"] for s in sessions] == [2, 5, 2]
    assert sessions[1]["hold_time_s"] == pytest.approx(50.0)  # 5 reps x 10 s, to the sample
    assert sessions[1]["program_reps"] == 5 and sessions[1]["program_success_pct"] == pytest.approx(80.0)
    assert sessions[0]["program_success_pct"] is None and sessions[1]["programs"] == ["underbutt-isolation"]
    assert all(0 < s["time_in_band_pct"] <= 100 for s in sessions)
    # the backbend scenario over-clenches in each hold: episodes per minute of hold time
    assert sessions[0]["overclench_per_min"] > 0
    assert all(s["mdf_slope_hz_per_s"] is not None for s in sessions)
    assert [w["label"] for w in weeks] == ["2026-W47", "2026-W48"]
    assert [w["date"] for w in weeks] == ["2026-11-16", "2026-11-23"]  # the Mondays
    assert weeks[0]["sessions"] == 2 and weeks[0]["holds"] == 7
    assert weeks[0]["hold_time_s"] == pytest.approx(sessions[0]["hold_time_s"] + sessions[1]["hold_time_s"])
    # --since drops the older ones; text output lists weeks then sessions
    assert main(["progress", "--since", "2026-11-20", "--json"]) == 0
    assert [s["date"] for s in json.loads(capsys.readouterr().out)["sessions"]] == ["2026-11-24"]
    assert main(["progress"]) == 0
    text = capsys.readouterr().out
    assert "per week:" in text and "2026-W47" in text and "2026-11-19 #2" in text


def test_progress_lists_each_calibrations_mvc(capsys: pytest.CaptureFixture[str]) -> None:
    from dataclasses import replace

    from emgfeedback.calibration import demo_profile
    from emgfeedback.calibration.profile import save_profile

    base = demo_profile(4)
    for name, created, factor in (("week one", "2026-11-16T18:00:00+00:00", 1.0), ("moved", "2026-11-24T18:00:00+00:00", 0.6)):
        refs = tuple(replace(r, mvc=r.mvc * factor) for r in base.references)
        save_profile(replace(base, name=name, created=created, references=refs))
    assert main(["progress", "--json"]) == 0
    cals = json.loads(capsys.readouterr().out)["calibrations"]
    assert [(c["profile"], c["date"]) for c in cals] == [("week one", "2026-11-16"), ("moved", "2026-11-24")]
    muscle = base.references[0].name
    assert cals[1]["mvc"][muscle] == pytest.approx(0.6 * cals[0]["mvc"][muscle])  # the placement change shows
    assert main(["progress", "--profile", "moved", "--json"]) == 0
    assert [c["profile"] for c in json.loads(capsys.readouterr().out)["calibrations"]] == ["moved"]


def test_progress_bad_date_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["progress", "--since", "last week"]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and "YYYY-MM-DD" in err[0]


def test_progress_report_has_one_dated_panel_per_figure(
    three_sessions: list[int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "progress.html"
    assert main(["progress", "--report", str(out)]) == 0
    page = out.read_text()
    images = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    titles = re.findall(r"<h2>([^<]+)</h2><img", page)
    assert "Time in band" in titles and "Program reps that succeeded" in titles
    assert any(t.startswith("Fatigue") for t in titles) and len(images) == len(titles) >= 5
    png = base64.b64decode(images[titles.index("Time in band")])
    assert png.startswith(b"\x89PNG")
    assert out.stat().st_mode & 0o077 == 0
