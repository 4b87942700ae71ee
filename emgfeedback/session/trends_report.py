"""The progress report: one self-contained HTML page, one matplotlib figure per panel, plotted against dates.

Each panel shows every session as a dot and each ISO week as a line through the week's Monday;
the x axis carries dates only (never times of day). Matplotlib through ``Figure`` + Agg, as in
:mod:`emgfeedback.session.report`, so nothing global changes in a process that also runs Qt.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import date
from pathlib import Path

from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from emgfeedback.muscles import display_name
from emgfeedback.palette import muscle_colors
from emgfeedback.session.outputs import atomic_output
from emgfeedback.session.trends import Period, ProgressData

SESSION_COLOUR = "#4a6fa5"
WEEK_COLOUR = "#2e9d57"

#: (key in Period.as_dict(), title, y label, fixed y range or None)
PANELS = (
    ("hold_time_s", "Hold time", "hold time (s)", None),
    ("time_in_band_pct", "Time in band", "time in band (%)", (0, 100)),
    ("overclench_per_min", "Over-clench episodes per minute of hold", "episodes / min", None),
    ("program_success_pct", "Program reps that succeeded", "success (%)", (0, 100)),
    ("mdf_slope_hz_per_s", "Fatigue: median-frequency slope in holds (below 0: fatiguing)", "MDF slope (Hz/s)", None),
)


def figure_png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return buf.getvalue()


def _dates_axis(ax: Axes) -> None:
    """Dates only on the x axis (ticks on whole days, never a time of day)."""
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=10, interval_multiples=True))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    ax.grid(alpha=0.25)


def _points(periods: list[Period], key: str) -> tuple[list[date], list[float]]:
    xs, ys = [], []
    for p in periods:
        v = p.as_dict()[key]
        if v is not None:
            xs.append(date.fromisoformat(p.date))
            ys.append(float(v))
    return xs, ys


def panel(data: ProgressData, key: str, title: str, ylabel: str, ylim: tuple[float, float] | None) -> Figure | None:
    """One panel: sessions as dots, weeks as a line; None when no session has the figure."""
    xs, ys = _points(data.sessions, key)
    if not xs:
        return None
    fig = Figure(figsize=(10, 3.0))
    ax = fig.subplots()
    ax.plot(xs, ys, "o", color=SESSION_COLOUR, ms=7, label="session")
    wx, wy = _points(data.weeks, key)
    if len(wx) > 1:
        ax.plot(wx, wy, "s-", color=WEEK_COLOUR, lw=2, label="week (Monday)")
    if key == "mdf_slope_hz_per_s":
        ax.axhline(0.0, color="#888888", lw=1)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    ax.legend(loc="best", fontsize=8)
    _dates_axis(ax)
    fig.autofmt_xdate()
    return fig


def mvc_panel(data: ProgressData) -> Figure | None:
    """Each calibration's MVC per muscle: a jump means the electrodes sat elsewhere."""
    if not data.calibrations:
        return None
    muscles = sorted({m for c in data.calibrations for m in c.mvc})
    colors = dict(zip(muscles, muscle_colors(muscles, "light"), strict=True))
    fig = Figure(figsize=(10, 3.0))
    ax = fig.subplots()
    for m in muscles:
        pts = [(date.fromisoformat(c.date), c.mvc[m]) for c in data.calibrations if m in c.mvc]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=colors[m], label=display_name(m))
    units = {c.units for c in data.calibrations}
    ax.set_ylabel(f"MVC ({units.pop() if len(units) == 1 else 'envelope units'})")
    ax.set_title("MVC per muscle at each calibration (placement drift shows as a jump)", fontsize=11)
    ax.legend(loc="best", fontsize=8)
    _dates_axis(ax)
    fig.autofmt_xdate()
    return fig


def figures(data: ProgressData) -> list[tuple[str, Figure]]:
    """(title, figure) for every panel that has data."""
    out = []
    for key, title, ylabel, ylim in PANELS:
        fig = panel(data, key, title, ylabel, ylim)
        if fig is not None:
            out.append((title, fig))
    fig = mvc_panel(data)
    if fig is not None:
        out.append(("MVC per calibration", fig))
    return out


def _fmt(v: object, spec: str = ".1f") -> str:
    return "&ndash;" if v is None else html.escape(format(v, spec) if isinstance(v, float) else str(v))


def render(data: ProgressData) -> str:
    """The whole page."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>emgfeedback progress</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#eee}</style></head><body>",
        "<h1>Progress</h1>",
        f"<p>Profile: {html.escape(data.profile or 'all')}; since: {html.escape(data.since or 'the first session')}; "
        f"{len(data.sessions)} sessions in {len(data.weeks)} weeks.</p>",
    ]
    for title, fig in figures(data):
        b64 = base64.b64encode(figure_png(fig)).decode("ascii")
        parts.append(f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,{b64}'>")
    head = ("", "sessions", "holds", "hold time (s)", "in band (%)", "over-clench / min", "program success (%)",
            "MDF slope (Hz/s)")  # fmt: skip
    for name, periods in (("Weeks", data.weeks), ("Sessions", data.sessions)):
        parts.append(f"<h2>{name}</h2><table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>")
        for p in periods:
            d = p.as_dict()
            cells = [
                html.escape(p.label), d["sessions"], d["holds"], _fmt(d["hold_time_s"]), _fmt(d["time_in_band_pct"]),
                _fmt(d["overclench_per_min"], ".2f"), _fmt(d["program_success_pct"]), _fmt(d["mdf_slope_hz_per_s"], "+.3f"),
            ]  # fmt: skip
            parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(data: ProgressData, path: Path) -> Path:
    """Write the page atomically, owner-only."""
    with atomic_output(path) as stream:
        stream.write(render(data))
    return path
