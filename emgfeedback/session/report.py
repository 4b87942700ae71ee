"""The coach's report: one self-contained HTML page with matplotlib PNGs embedded as base64.

Envelopes (%MVC) with the band shaded, holds and over-clench episodes marked; time in
band per hold; over-clench per hold; and progress across this person's sessions. The
envelope plot is min/max-decimated while streaming the chunk rows, so a 2-hour session
is drawn without loading it. Matplotlib is used through ``Figure`` + the Agg canvas, no
pyplot, so nothing global changes in a process that also runs Qt.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from emgfeedback.errors import DamagedSessionError
from emgfeedback.muscles import display_name, has_synergy
from emgfeedback.palette import is_dashed, muscle_colors  # the dashboard's muscle colours
from emgfeedback.session.outputs import atomic_output, file_name
from emgfeedback.session.store import SessionInfo, SessionStore
from emgfeedback.session.summary import SessionSummary, same_person, summarize

BINS = 1600
BAND_COLOUR = "#2e9d57"
OVER_COLOUR = "#d1495b"
HOLD_COLOUR = "#4a6fa5"

Advance = Callable[[int], None]


# --- data for the plots --------------------------------------------------------------------------


def decimate(
    store: SessionStore, info: SessionInfo, kind: str, bins: int = BINS, advance: Advance | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bin centre times in s, min, max) per channel of one stream, streamed over the chunk rows."""
    total = max(info.samples, 1)
    bins = max(min(bins, total), 1)
    first = info.first_index or 0
    lo = np.full((bins, info.channels), np.nan)
    hi = np.full((bins, info.channels), np.nan)
    for row in store.iter_chunks(info.id, kind, stop=first + total):
        x = row.data[: first + total - row.start].astype(np.float64)
        b = (np.arange(row.start, row.start + x.shape[0]) - first) * bins // total
        starts = np.flatnonzero(np.diff(b, prepend=-1))
        ids = b[starts]
        lo[ids] = np.fmin(lo[ids], np.fmin.reduceat(x, starts, axis=0))
        hi[ids] = np.fmax(hi[ids], np.fmax.reduceat(x, starts, axis=0))
        if advance is not None:
            advance(x.shape[0])
    t = (np.arange(bins) + 0.5) * total / bins / info.fs
    return t, lo, hi


def _png(fig: Figure) -> str:
    """The figure as a base64 PNG."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _band(info: SessionInfo, muscle: str) -> tuple[float, float]:
    b = (info.meta.get("bands") or {}).get(muscle) or {}
    return float(b.get("low", 30.0)), float(b.get("high", 50.0))


# --- figures ---------------------------------------------------------------------------------------


def envelope_figure(store: SessionStore, summary: SessionSummary, advance: Advance | None = None) -> tuple[str, bool]:
    """%MVC over the session per muscle (or the envelope, without a calibration); returns (PNG, calibrated)."""
    info = summary.info
    t, lo, hi = decimate(store, info, "percent", advance=advance)
    calibrated = bool(np.isfinite(hi).any())
    if not calibrated:
        t, lo, hi = decimate(store, info, "envelope")
    first = info.first_index or 0
    n = info.channels
    fig = Figure(figsize=(11, 1.9 * n + 0.6))
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    colors = muscle_colors(info.muscles, "light")
    for c, ax in enumerate(axes):
        muscle = info.muscles[c]
        if calibrated:
            low, high = _band(info, muscle)
            ax.axhspan(low, high, color=BAND_COLOUR, alpha=0.18, lw=0)
        for h in summary.holds:
            a = (int(h["start_index"]) - first) / info.fs
            ax.axvspan(a, a + float(h["duration_s"]), color=HOLD_COLOUR, alpha=0.08, lw=0)
            if c == 0:
                ax.text(a, 1.02, f"hold {h['hold']}", transform=ax.get_xaxis_transform(), fontsize=8, color=HOLD_COLOUR)
        for e in summary.overclench:
            if e.get("muscle") == muscle:
                a = (int(e["start_index"]) - first) / info.fs
                ax.axvspan(a, a + float(e["duration_s"]), ymin=0.0, ymax=0.06, color=OVER_COLOUR, lw=0)
        ax.fill_between(t, lo[:, c], hi[:, c], color=colors[c], lw=0.6, step="mid")
        ax.set_ylabel(f"{display_name(muscle)}\n{'%MVC' if calibrated else info.meta.get('envelope_units', '')}", fontsize=8)
        ax.grid(alpha=0.25)
        if calibrated:
            top = np.nanmax(hi[:, c]) if np.isfinite(hi[:, c]).any() else 100.0
            ax.set_ylim(0, max(100.0, float(top) * 1.05))
    axes[-1].set_xlabel("time (s)")
    fig.suptitle("Activation with the target band (green), holds (blue) and over-clench (red marks)", fontsize=10)
    return _png(fig), calibrated


def holds_figure(summary: SessionSummary) -> str | None:
    """Time in band per hold and muscle, and over-clench seconds per hold."""
    if not summary.holds:
        return None
    muscles = summary.muscles
    k = len(summary.holds)
    x = np.arange(k)
    width = 0.8 / max(len(muscles), 1)
    fig = Figure(figsize=(11, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    colors = muscle_colors(list(muscles), "light")  # as on the dashboard; right side hatched as it is dashed there
    for j, m in enumerate(muscles):
        pct = [_muscle(h, m).get("time_in_band_pct") or 0.0 for h in summary.holds]
        over = [_muscle(h, m).get("overclench_s") or 0.0 for h in summary.holds]
        style = {"color": colors[j], "label": display_name(m)}
        if is_dashed(m):
            style.update(hatch="//", edgecolor="white", linewidth=0)
        ax1.bar(x + (j - (len(muscles) - 1) / 2) * width, pct, width, **style)
        ax2.bar(x + (j - (len(muscles) - 1) / 2) * width, over, width, **style)
    for ax, title, unit in ((ax1, "Time in band per hold", "% of hold"), (ax2, "Over-clench per hold", "seconds")):
        ax.set_xticks(x, [f"hold {h['hold']}" for h in summary.holds])
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(unit)
        ax.grid(axis="y", alpha=0.25)
    ax1.set_ylim(0, 100)
    handles, names = ax1.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(muscles), fontsize=8, bbox_to_anchor=(0.5, -0.06), frameon=False)
    return _png(fig)


def progress_figure(points: Sequence[tuple[datetime, float, int]], current: int) -> str | None:
    """Time in band (all holds, mean over muscles) per session over dates; the current session ringed."""
    if len(points) < 2:
        return None
    fig = Figure(figsize=(11, 3.2))
    ax = fig.subplots()
    dates = [p[0] for p in points]
    values = [p[1] for p in points]
    ax.plot(dates, values, "o-", color=HOLD_COLOUR)
    for d, v, sid in points:
        if sid == current:
            ax.plot([d], [v], "o", ms=13, mfc="none", mec=OVER_COLOUR, mew=2)
    ax.set_ylim(0, 100)
    ax.set_ylabel("time in band (%)")
    ax.set_title("Progress across sessions", fontsize=10)
    ax.grid(alpha=0.25)
    fig.autofmt_xdate()
    return _png(fig)


def _muscle(hold: dict[str, Any], muscle: str) -> dict[str, Any]:
    return next((m for m in hold.get("muscles", []) if m.get("muscle") == muscle), {})


def progress_points(store: SessionStore, info: SessionInfo) -> list[tuple[datetime, float, int]]:
    """(date, time in band %, id) for this person's sessions that have holds (stored summaries only)."""
    out = []
    for other in store.sessions():
        if not same_person(info, other):
            continue
        try:
            s = summarize(store, other.id, recompute=other.id == info.id)
        except DamagedSessionError:
            continue  # a damaged session of a damaged store: this report still gets the others
        value = s.totals()["time_in_band_pct"]
        if value is not None:
            out.append((other.started, float(value), other.id))
    return out


# --- the page ----------------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em} td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f4f4f4} td:first-child,th:first-child{text-align:left} img{max-width:100%} .note{color:#666;font-size:.85em}
"""


FATIGUE_HEADERS = ["hold", "muscle", "MDF start (Hz)", "MDF end (Hz)", "MDF slope (Hz/s)", "MNF slope (Hz/s)", "RMS change (%)"]


def _training_tables(summary: SessionSummary) -> list[str]:
    """Per hold: the program rep and its success, underbutt versus glute per side, and the fatigue trend."""
    reps, sides, fatigue = [], [], []
    for h in summary.holds:
        tags = h.get("program")
        if tags:
            verdict = {True: "yes", False: "no", None: "abandoned"}[tags.get("success")]
            reps.append([f"hold {h['hold']}", tags.get("exercise"), tags.get("set"), tags.get("rep"),
                         tags.get("success_pct"), verdict])  # fmt: skip
        for u in h.get("underbutt") or []:
            first = u.get("first_in_band")
            sides.append([f"hold {h['hold']}", u.get("side") or "-", u.get("ratio"),
                          display_name(first) if first else "-", u.get("lead_ms")])  # fmt: skip
        for c in h.get("fatigue") or []:
            fatigue.append([f"hold {h['hold']}", display_name(str(c.get("name"))), c.get("mdf_start_hz"), c.get("mdf_end_hz"),
                            c.get("mdf_slope_hz_per_s"), c.get("mnf_slope_hz_per_s"), c.get("rms_change_pct")])  # fmt: skip
    out = []
    if reps:
        out += ["<h2>Program reps</h2>", _table(["hold", "exercise", "set", "rep", "met the rule (%)", "succeeded"], reps)]
    if sides:
        out += [
            "<h2>Underbutt versus glute</h2>",
            "<p class='note'>Ratio of mean %MVC, high hamstring to glute max, per side; and which reached its band "
            "first at the hold's start, by how many ms. Firing order varies between people: it is reported, not judged.</p>",
            _table(["hold", "side", "hamstring:glute", "first in band", "lead (ms)"], sides),
        ]
    if fatigue:
        out += [
            "<h2>Fatigue within holds</h2>",
            "<p class='note'>Median (MDF) and mean (MNF) frequency over 1 s windows every 250 ms; a falling MDF "
            "(negative slope) is the usual sign of fatigue. Short holds give noisy slopes.</p>",
            _table(
                ["hold", "muscle", "MDF start (Hz)", "MDF end (Hz)", "MDF slope (Hz/s)", "MNF slope (Hz/s)", "RMS change (%)"],
                fatigue,
            ),
        ]
    return out


def render(store: SessionStore, summary: SessionSummary, advance: Advance | None = None) -> str:
    """The whole HTML page."""
    info = summary.info
    totals = summary.totals()
    env_png, calibrated = envelope_figure(store, summary, advance)
    holds_png = holds_figure(summary)
    progress_png = progress_figure(progress_points(store, info), info.id)
    who = info.person or info.profile or "unnamed"
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>emgfeedback session {info.id}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Backbend session {info.id}</h1>",
        f"<p>{html.escape(info.started.strftime('%A %d %B %Y, %H:%M'))} · {info.duration_s / 60:.1f} min · "
        f"{html.escape(who)} · profile {html.escape(info.profile or 'none')} · {html.escape(info.status)}</p>",
        "<h2>Summary</h2>",
        _table(
            [
                "holds",
                "hold time (s)",
                "time in band (%)",
                "hamstring in band, glute not over (%)",
                "over-clench episodes",
                "gaps",
            ],
            [
                [
                    totals["holds"],
                    totals["hold_time_s"],
                    totals["time_in_band_pct"],
                    totals["synergy_pct"] if has_synergy(info.muscles) else "n/a",
                    totals["overclench_episodes"],
                    totals["gaps"],
                ]
            ],
        ),
        _table(
            [
                "muscle",
                "time in band (s)",
                "time in band (%)",
                "mean %MVC",
                "peak %MVC",
                "over-clench (count)",
                "over-clench (s)",
            ],
            [
                [
                    display_name(m["muscle"]),
                    m["time_in_band_s"],
                    m["time_in_band_pct"],
                    m["mean_pct_mvc"],
                    m["peak_pct_mvc"],
                    m["overclench_count"],
                    m["overclench_s"],
                ]
                for m in totals["muscles"]
            ],
        ),
        "<h2>Activation</h2>",
        "" if calibrated else "<p class='note'>No calibration profile: the envelope is shown in sensor units, not %MVC.</p>",
        f"<img alt='activation per muscle' src='data:image/png;base64,{env_png}'>",
    ]
    if holds_png:
        rows = []
        for h in summary.holds:
            for m in h.get("muscles", []):
                rows.append(
                    [
                        f"hold {h['hold']}",
                        display_name(m["muscle"]),
                        h["duration_s"],
                        m["time_in_band_pct"],
                        m["mean_pct_mvc"],
                        m["peak_pct_mvc"],
                        m["overclench_count"],
                        m["overclench_s"],
                    ]
                )
        parts += [
            "<h2>Holds</h2>",
            f"<img alt='time in band and over-clench per hold' src='data:image/png;base64,{holds_png}'>",
            _table(
                ["hold", "muscle", "duration (s)", "in band (%)", "mean %MVC", "peak %MVC", "over-clench", "over-clench (s)"],
                rows,
            ),
        ]
        parts += _training_tables(summary)
    else:
        parts.append("<h2>Holds</h2><p>No holds were timed in this session.</p>")
    if summary.overclench:
        first = info.first_index or 0
        rows = [
            [display_name(e["muscle"]), (int(e["start_index"]) - first) / info.fs, e["duration_s"], e.get("peak_pct_mvc")]
            for e in summary.overclench[:200]
        ]
        parts += ["<h2>Over-clench episodes</h2>", _table(["muscle", "at (s)", "duration (s)", "peak %MVC"], rows)]
    if progress_png:
        parts += [
            "<h2>Progress</h2>",
            f"<img alt='time in band per session' src='data:image/png;base64,{progress_png}'>",
            f"<p class='note'>Sessions of {html.escape(who)}; this session is ringed.</p>",
        ]
    if summary.gaps:
        parts.append(
            f"<p class='note'>{len(summary.gaps)} gap(s) in the signal, {totals['gap_s']:.2f} s in all "
            "(reconnects or lost data).</p>"
        )
    cue = info.meta.get("cue_latency_ms")
    delay = info.meta.get("envelope_delay_ms")
    lag = (
        f"A cue followed a change of the muscle's state by about {cue:.0f} ms (measured median). "
        if cue
        else (f"The envelope lags the muscle by about {delay:.0f} ms. " if delay else "")
    )
    parts.append(
        "<p class='note'>Band: the target activation range (default 30-50 % of maximal voluntary contraction). "
        "Over-clench: above the band. "
        + lag
        + "Made by emgfeedback; health data: share it only with people you trust.</p></body></html>"
    )
    return "\n".join(parts)


def export_report(store: SessionStore, summary: SessionSummary, out_dir: Path, advance: Advance | None = None) -> Path:
    """Write ``session-ID.html`` into ``out_dir``; returns its path."""
    page = render(store, summary, advance)
    path = out_dir / file_name(summary.info.id, ".html")
    with atomic_output(path) as f:
        f.write(page)
    return path
