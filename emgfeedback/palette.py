"""Muscle colours and line styles, shared by the dashboard traces and the HTML report.

Pure data, no Qt: the report (matplotlib) imports this module too, so a muscle looks the same
on the screen and on paper. The four colours are the Okabe-Ito yellow, reddish purple and
orange plus white (black on light backgrounds): colour-blind friendly, and none of them is
the green (in band), red (over-clench) or blue (below) of the states. Left-side muscles are
drawn solid and right-side ones dashed, so the side reads without colour too.
"""

from __future__ import annotations

from emgfeedback.muscles import STANDARD, muscle_side

#: The standard muscles' colours per theme ("dark" on the dashboard's dark background, "light"
#: on white: the light dashboard and the report). Order: glute L, hamstring L, glute R, hamstring R.
MUSCLE_COLORS: dict[str, dict[str, str]] = {
    "dark": {
        "glute_max_left": "#f0e442",  # yellow
        "hamstring_left": "#cc79a7",  # reddish purple
        "glute_max_right": "#e69f00",  # orange
        "hamstring_right": "#e6edf3",  # white
    },
    "light": {
        "glute_max_left": "#7a6500",  # dark yellow (plain yellow vanishes on white)
        "hamstring_left": "#a8327a",  # reddish purple
        "glute_max_right": "#e69f00",  # orange
        "hamstring_right": "#1f2328",  # black
    },
}

#: Line width of the envelope traces in pixels.
TRACE_WIDTH = 3.0
#: Dash pattern of right-side muscles, in pen widths (dash, gap).
DASH = (4.0, 2.5)


def palette(theme: str = "dark") -> tuple[str, ...]:
    """The four trace colours of ``theme`` in the standard muscle order."""
    colors = MUSCLE_COLORS.get(theme, MUSCLE_COLORS["dark"])
    return tuple(colors[m] for m in STANDARD)


def muscle_colors(names: list[str] | tuple[str, ...], theme: str = "dark") -> list[str]:
    """One colour per channel: a standard muscle keeps its own colour whatever its channel;
    other names take the unused colours in order (cycling when there are more than four)."""
    colors = MUSCLE_COLORS.get(theme, MUSCLE_COLORS["dark"])
    fixed = [colors.get(n) for n in names]
    spare = [c for c in palette(theme) if c not in fixed] or list(palette(theme))
    out: list[str] = []
    k = 0
    for color in fixed:
        if color is None:
            out.append(spare[k % len(spare)])
            k += 1
        else:
            out.append(color)
    return out


def is_dashed(name: str) -> bool:
    """Right-side muscles are drawn dashed."""
    return muscle_side(name) == "right"
