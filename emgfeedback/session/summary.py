"""A stored session's summary: holds (live statistics, or recomputed from the stored samples),
over-clench episodes, gaps and session totals; what ``show``, the JSON export and the report use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from emgfeedback.session.store import EventRow, SessionInfo, SessionStore
from emgfeedback.session.writer import recompute_hold

#: Per-muscle keys of a hold that add up over holds (seconds and counts).
_ADDITIVE = ("time_in_band_s", "time_below_s", "time_over_s", "overclench_count", "overclench_s", "duration_s")


@dataclass
class SessionSummary:
    """Everything a coach reads about one session, without the samples."""

    info: SessionInfo
    holds: list[dict[str, Any]] = field(default_factory=list)
    overclench: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    markers: list[dict[str, Any]] = field(default_factory=list)
    cues: int = 0
    stored_samples: int = 0

    @property
    def muscles(self) -> list[str]:
        return list(self.info.muscles)

    def totals(self) -> dict[str, Any]:
        """Over all holds: hold time, per-muscle time in band, over-clench, and the session's gaps."""
        per: dict[str, dict[str, float]] = {m: dict.fromkeys(_ADDITIVE, 0.0) for m in self.muscles}
        peaks: dict[str, float] = dict.fromkeys(self.muscles, 0.0)
        weighted: dict[str, float] = dict.fromkeys(self.muscles, 0.0)
        for hold in self.holds:
            for m in hold.get("muscles", []):
                name = m.get("muscle")
                if name not in per:
                    continue
                for k in _ADDITIVE:
                    per[name][k] += float(m.get(k) or 0.0)
                peaks[name] = max(peaks[name], float(m.get("peak_pct_mvc") or 0.0))
                mean = m.get("mean_pct_mvc")
                if mean is not None and math.isfinite(mean):
                    weighted[name] += mean * float(m.get("duration_s") or 0.0)
        muscles = []
        for name in self.muscles:
            p = per[name]
            dur = p["duration_s"]
            muscles.append(
                {
                    "muscle": name,
                    "time_in_band_s": p["time_in_band_s"],
                    "time_in_band_pct": 100.0 * p["time_in_band_s"] / dur if dur else None,
                    "time_below_s": p["time_below_s"],
                    "time_over_s": p["time_over_s"],
                    "mean_pct_mvc": weighted[name] / dur if dur else None,
                    "peak_pct_mvc": peaks[name],
                    "overclench_count": int(p["overclench_count"]),
                    "overclench_s": p["overclench_s"],
                }
            )
        hold_s = sum(float(h.get("duration_s") or 0.0) for h in self.holds)
        pcts = [m["time_in_band_pct"] for m in muscles if m["time_in_band_pct"] is not None]
        syn = [h.get("synergy_pct") for h in self.holds if h.get("synergy_pct") is not None]
        return {
            "holds": len(self.holds),
            "hold_time_s": hold_s,
            "time_in_band_pct": sum(pcts) / len(pcts) if pcts else None,
            "synergy_pct": sum(s * float(h.get("duration_s") or 0) for s, h in zip(syn, self.holds, strict=False)) / hold_s
            if syn and hold_s
            else None,
            "muscles": muscles,
            "overclench_episodes": len(self.overclench),
            "overclench_s": sum(float(e.get("duration_s") or 0.0) for e in self.overclench),
            "gaps": len(self.gaps),
            "gap_s": sum(float(g.get("length_s") or 0.0) for g in self.gaps),
        }

    def as_dict(self) -> dict[str, Any]:
        info = self.info
        return {
            "session": {
                **info.as_dict(),
                "stored_samples": self.stored_samples,
                "settings": {
                    k: info.meta.get(k) for k in ("filters", "bands", "auto_hold", "envelope_delay_ms") if k in info.meta
                },
                "stream": info.meta.get("stream"),
                "firmware": info.meta.get("firmware"),
                "source": info.meta.get("source"),
                "units": {
                    "raw": info.meta.get("raw_units"),
                    "envelope": info.meta.get("envelope_units"),
                    "uv_per_count": info.meta.get("uv_per_count"),
                },
                "note": info.meta.get("note"),
            },
            "totals": self.totals(),
            "holds": self.holds,
            "overclench_episodes": self.overclench,
            "gaps": self.gaps,
            "markers": self.markers,
            "cues": self.cues,
        }


def _holds(store: SessionStore, info: SessionInfo, events: list[EventRow], recompute: bool) -> list[dict[str, Any]]:
    """Finished holds from their stored summaries; a hold that never finished (crash) recomputed from the samples."""
    holds: list[dict[str, Any]] = []
    open_start: int | None = None
    for e in events:
        if e.kind == "hold_start":
            open_start = e.index
        elif e.kind == "hold":
            holds.append(dict(e.data))
            open_start = None
    if open_start is not None and info.end_index is not None and info.end_index > open_start:
        number = len(holds) + 1
        if recompute:
            data = recompute_hold(
                store, info.id, number=number, muscles=info.muscles, fs=info.fs, start=open_start, stop=info.end_index
            )
            holds.append({**data, "hold": number, "source": "recomputed", "open_at_end": True})
    first = info.first_index or 0
    for i, h in enumerate(holds, 1):
        h["hold"] = i
        h["session_start_s"] = (int(h.get("start_index", first)) - first) / info.fs
    return holds


def summarize(store: SessionStore, session_id: int, *, recompute: bool = True) -> SessionSummary:
    """The summary of one session; ``recompute=False`` skips reading samples (for lists of many sessions)."""
    info = store.session(session_id)
    events = store.events(session_id)
    s = SessionSummary(info, stored_samples=store.stored_samples(session_id) if recompute else 0)
    s.holds = _holds(store, info, events, recompute)
    for e in events:
        if e.kind == "overclench":
            s.overclench.append(dict(e.data))
        elif e.kind == "gap":
            s.gaps.append({"index": e.index, "start_s": (e.index - (info.first_index or 0)) / info.fs, **e.data})
        elif e.kind == "cue":
            s.cues += 1
        elif e.kind not in ("hold", "hold_start"):
            s.markers.append({"kind": e.kind, "index": e.index, "wall": e.wall, **e.data})
    return s


def same_person(a: SessionInfo, b: SessionInfo) -> bool:
    """Whether two sessions belong to one person's progress: same person if named, else same profile."""
    if a.person or b.person:
        return a.person == b.person
    return a.profile == b.profile
