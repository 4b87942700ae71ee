"""Progress across sessions and weeks: holds, time in band, over-clench rate, program success, fatigue, MVC.

Reads only the stored hold summaries (no samples), so months of sessions are quick. Weeks are
ISO weeks (Monday first). Calibrations come from the profiles, one point per calibration, so a
jump in a muscle's MVC shows an electrode placed differently.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from emgfeedback.errors import CommandError
from emgfeedback.session.store import SessionStore
from emgfeedback.session.summary import summarize


@dataclass
class Period:
    """One session or one week of them."""

    label: str  # the session's date or the ISO week (2026-W49)
    date: str  # ISO date: the session's day, or the week's Monday
    sessions: int = 0
    session_ids: list[int] = field(default_factory=list)
    holds: int = 0
    hold_time_s: float = 0.0
    in_band_s: float = 0.0  # hold-time-weighted time in band (mean over muscles), seconds
    overclench_episodes: int = 0
    reps: int = 0
    reps_succeeded: int = 0
    slope_weighted: float = 0.0  # sum of MDF slope x hold time
    slope_time: float = 0.0
    programs: list[str] = field(default_factory=list)

    def add_hold(self, hold: dict[str, Any]) -> None:
        dur = float(hold.get("duration_s") or 0.0)
        self.holds += 1
        self.hold_time_s += dur
        pcts = [m.get("time_in_band_pct") for m in hold.get("muscles", []) if m.get("time_in_band_pct") is not None]
        if pcts:
            self.in_band_s += dur * sum(pcts) / len(pcts) / 100.0
        self.overclench_episodes += sum(int(m.get("overclench_count") or 0) for m in hold.get("muscles", []))
        tags = hold.get("program") or {}
        if tags.get("success") is not None:
            self.reps += 1
            self.reps_succeeded += int(bool(tags["success"]))
        if tags.get("program") and tags["program"] not in self.programs:
            self.programs.append(str(tags["program"]))
        slopes = [
            float(c["mdf_slope_hz_per_s"])
            for c in hold.get("fatigue") or []
            if c.get("mdf_slope_hz_per_s") is not None and math.isfinite(c["mdf_slope_hz_per_s"])
        ]
        if slopes and dur > 0:
            self.slope_weighted += dur * sum(slopes) / len(slopes)
            self.slope_time += dur

    def merge(self, other: Period) -> None:
        for k in ("sessions", "holds", "hold_time_s", "in_band_s", "overclench_episodes", "reps", "reps_succeeded"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.slope_weighted += other.slope_weighted
        self.slope_time += other.slope_time
        self.session_ids += other.session_ids
        self.programs += [p for p in other.programs if p not in self.programs]

    def as_dict(self) -> dict[str, Any]:
        minutes = self.hold_time_s / 60.0
        return {
            "label": self.label,
            "date": self.date,
            "sessions": self.sessions,
            "session_ids": self.session_ids,
            "holds": self.holds,
            "hold_time_s": self.hold_time_s,
            "time_in_band_pct": 100.0 * self.in_band_s / self.hold_time_s if self.hold_time_s else None,
            "overclench_per_min": self.overclench_episodes / minutes if minutes else None,
            "program_reps": self.reps,
            "program_success_pct": 100.0 * self.reps_succeeded / self.reps if self.reps else None,
            "mdf_slope_hz_per_s": self.slope_weighted / self.slope_time if self.slope_time else None,
            "programs": self.programs,
        }


@dataclass
class Calibration:
    """One profile's MVC per muscle, on the day it was made."""

    profile: str
    date: str
    mvc: dict[str, float]
    units: str


@dataclass
class ProgressData:
    """Everything ``progress`` prints, writes as JSON and plots."""

    sessions: list[Period]
    weeks: list[Period]
    calibrations: list[Calibration]
    profile: str | None
    since: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "since": self.since,
            "sessions": [s.as_dict() for s in self.sessions],
            "weeks": [w.as_dict() for w in self.weeks],
            "calibrations": [asdict(c) for c in self.calibrations],
        }


def parse_date(text: str) -> date:
    """``2026-11-30`` -> a date, with a one-line error."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--since {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-01") from None


def _calibrations(profile: str | None, since: date | None) -> list[Calibration]:
    from emgfeedback.calibration.profile import scan_profiles

    out = []
    for _, p, _error in scan_profiles():
        if p is None or (profile is not None and p.name != profile):
            continue
        try:
            day = datetime.fromisoformat(p.created).date() if p.created else None
        except ValueError:
            day = None
        if day is None or (since is not None and day < since):
            continue
        out.append(Calibration(p.name, day.isoformat(), {r.name: float(r.mvc) for r in p.references}, p.units))
    return sorted(out, key=lambda c: (c.date, c.profile))


def collect(store: SessionStore, *, profile: str | None = None, since: date | None = None) -> ProgressData:
    """Per-session and per-week figures for the sessions of ``profile`` (all when None) since ``since``."""
    sessions: list[Period] = []
    for info in store.sessions():
        day = info.started.date()
        if (profile is not None and info.profile != profile) or (since is not None and day < since):
            continue
        summary = summarize(store, info.id, recompute=False)
        period = Period(label=f"{day.isoformat()} #{info.id}", date=day.isoformat(), sessions=1, session_ids=[info.id])
        for hold in summary.holds:
            period.add_hold(hold)
        sessions.append(period)
    sessions.sort(key=lambda p: (p.date, p.session_ids))
    return ProgressData(sessions, weekly(sessions), _calibrations(profile, since), profile, since.isoformat() if since else None)


def weekly(sessions: Iterable[Period]) -> list[Period]:
    """Sessions merged by ISO week."""
    weeks: dict[str, Period] = {}
    for s in sessions:
        d = date.fromisoformat(s.date)
        year, week, _ = d.isocalendar()
        key = f"{year}-W{week:02d}"
        if key not in weeks:
            monday = date.fromisocalendar(year, week, 1)
            weeks[key] = Period(label=key, date=monday.isoformat())
        weeks[key].merge(s)
    return [weeks[k] for k in sorted(weeks)]
