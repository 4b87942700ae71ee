"""Draw docs/img/placement.png: where the electrodes go, seen from behind (pelvis to above the knees).

Run from the repository root: ``.venv/bin/python docs/tools/draw_placement.py``. The drawing
is schematic, in centimetres of an average adult; the sites follow SENIAM for the glute max
(50 % of the line from the sacrum to the greater trochanter, along the line from the
posterior superior iliac spine to the middle of the back of the thigh) and sit on the
ischial-tuberosity-to-knee line just below the gluteal fold for the high hamstring.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle
from scipy.interpolate import splev, splprep

OUT = Path(__file__).resolve().parent.parent / "img" / "placement.png"

SKIN = "#f3d9c4"
OUTLINE = "#7a5a48"
BONE = "#8c8c8c"
GLUTE = "#d55e00"
HAMSTRING = "#0072b2"
REFERENCE = "#2e7d32"
ELECTRODE_GAP_CM = 2.0  # centre to centre, as SENIAM recommends

# landmarks of the left side (viewer's left = the person's left, seen from behind); x mirrors for the right
PSIS = np.array([-4.0, 46.5])
SACRUM = np.array([0.0, 42.0])
TROCHANTER = np.array([-16.0, 38.0])
ISCHIAL = np.array([-5.5, 30.0])
KNEE_MID = np.array([-7.5, 0.5])
THIGH_MID = np.array([-8.5, 15.0])
ILIAC_CREST = np.array([-12.5, 50.0])


def mirror(p: np.ndarray) -> np.ndarray:
    return p * np.array([-1.0, 1.0])


def smooth(points: list[tuple[float, float]], n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """A smooth curve through ``points``."""
    pts = np.array(points).T
    tck, _ = splprep(pts, s=0, k=min(3, len(points) - 1))
    x, y = splev(np.linspace(0, 1, n), tck)
    return np.asarray(x), np.asarray(y)


def body(ax: plt.Axes) -> None:
    """The outline from the waist to above the knees, buttocks and gluteal folds."""
    outer = smooth(
        [(-13.0, 54.0), (-13.6, 50.0), (-15.5, 44.0), (-17.2, 38.0), (-17.0, 31.0), (-15.6, 22.0), (-13.4, 10.0), (-11.6, 1.0)]
    )
    inner = smooth([(0.0, 27.8), (-1.0, 26.6), (-2.2, 20.0), (-2.9, 10.0), (-3.4, 1.0)])  # crotch to knee
    ox, oy = outer
    ix, iy = inner
    # fill: left outer down, left inner up to the crotch, right inner down, right outer up
    xs = np.concatenate([ox, ix[::-1], -ix, -ox[::-1]])
    ys = np.concatenate([oy, iy[::-1], iy, oy[::-1]])
    ax.fill(xs, ys, color=SKIN, zorder=0)
    for sign in (1, -1):
        ax.plot(sign * ox, oy, color=OUTLINE, lw=2.2, zorder=1)
        ax.plot(sign * ix, iy, color=OUTLINE, lw=2.2, zorder=1)
        ax.plot([sign * ox[-1], sign * ix[-1]], [oy[-1], iy[-1]], color=OUTLINE, lw=1.0, ls=(0, (1, 3)), zorder=1)
    ax.plot([ox[0], -ox[0]], [oy[0], oy[0]], color=OUTLINE, lw=1.0, ls=(0, (1, 3)), zorder=1)  # cut at the waist
    ax.plot([0, 0], [44.5, 28.4], color=OUTLINE, lw=1.6, zorder=1)  # gluteal cleft
    for side in (1, -1):
        fx, fy = smooth([(side * 0.6, 28.3), (side * 4.0, 27.4), (side * 8.5, 27.6), (side * 12.5, 29.2)])
        ax.plot(fx, fy, color=OUTLINE, lw=1.8, zorder=1)  # gluteal fold
        bx, by = smooth([(side * 1.0, 44.0), (side * 7.0, 46.5), (side * 13.5, 42.0), (side * 15.5, 35.0)])
        ax.plot(bx, by, color=OUTLINE, lw=0.8, alpha=0.5, zorder=1)  # upper edge of the buttock


def bones(ax: plt.Axes) -> None:
    """Bony landmarks, dashed: sacrum, iliac crests, PSIS, greater trochanters, ischial tuberosities."""
    kw = {"color": BONE, "lw": 1.2, "ls": (0, (4, 3)), "zorder": 2}
    ax.plot([PSIS[0], 0.0, -PSIS[0], PSIS[0]], [PSIS[1], 36.5, PSIS[1], PSIS[1]], **kw)  # sacrum
    ax.text(0, 45.3, "sacrum", ha="center", va="center", fontsize=8, color=BONE, zorder=3)
    for side in (1, -1):
        cx, cy = smooth([(side * 3.5, 48.0), (side * 8.0, 51.5), (side * 13.0, 50.5)])
        ax.plot(cx, cy, **kw)  # iliac crest
        for p in (PSIS, TROCHANTER, ISCHIAL):
            q = p if side == 1 else mirror(p)
            ax.add_patch(Circle(tuple(q), 0.45, color=BONE, zorder=3))
    ax.annotate(
        "posterior superior\niliac spine",
        tuple(mirror(PSIS)),
        (21.5, 46.5),
        fontsize=8,
        color=BONE,
        ha="center",
        arrowprops={"arrowstyle": "-", "color": BONE, "lw": 0.8},
    )
    ax.annotate(
        "iliac crest",
        (11.0, 51.3),
        (21.5, 52.5),
        fontsize=8,
        color=BONE,
        ha="center",
        arrowprops={"arrowstyle": "-", "color": BONE, "lw": 0.8},
    )
    ax.annotate(
        "greater\ntrochanter",
        tuple(mirror(TROCHANTER)),
        (21.5, 41.5),
        fontsize=8,
        color=BONE,
        ha="center",
        arrowprops={"arrowstyle": "-", "color": BONE, "lw": 0.8},
    )
    ax.annotate(
        "ischial tuberosity\n(sitting bone)",
        tuple(mirror(ISCHIAL)),
        (18.5, 33.0),
        fontsize=8,
        color=BONE,
        ha="left",
        arrowprops={"arrowstyle": "-", "color": BONE, "lw": 0.8},
    )
    ax.annotate(
        "gluteal fold",
        (10.5, 28.2),
        (19.0, 27.0),
        fontsize=8,
        color=OUTLINE,
        ha="left",
        arrowprops={"arrowstyle": "-", "color": OUTLINE, "lw": 0.8},
    )


def electrode_pair(ax: plt.Axes, centre: np.ndarray, direction: np.ndarray, colour: str) -> None:
    """Two electrodes 2 cm apart along ``direction`` (the muscle fibres), on their adhesive pads."""
    u = direction / np.linalg.norm(direction)
    for k in (-0.5, 0.5):
        p = centre + k * ELECTRODE_GAP_CM * u
        ax.add_patch(Circle(tuple(p), 1.05, facecolor="white", edgecolor=colour, lw=1.2, zorder=4))
        ax.add_patch(Circle(tuple(p), 0.5, color=colour, zorder=5))


def reference(ax: plt.Axes, at: np.ndarray) -> None:
    ax.add_patch(Circle(tuple(at), 1.05, facecolor="white", edgecolor=REFERENCE, lw=1.2, zorder=4))
    ax.text(at[0], at[1], "R", ha="center", va="center", fontsize=8, fontweight="bold", color=REFERENCE, zorder=5)


def sites(ax: plt.Axes) -> None:
    """Glute max and high hamstring pairs on both sides, the reference on each iliac crest, channel labels."""
    glute_dir = THIGH_MID - PSIS
    glute = (SACRUM + TROCHANTER) / 2
    ham_dir = KNEE_MID - ISCHIAL
    ham = ISCHIAL + ham_dir * (6.2 / np.linalg.norm(ham_dir))  # about 4 cm below the fold
    channels = {"left": ("A0", "A1"), "right": ("A2", "A3")}
    for side, sign in (("left", 1), ("right", -1)):
        flip = np.array([sign, 1.0])
        g, h = glute * flip, ham * flip
        electrode_pair(ax, g, glute_dir * flip, GLUTE)
        electrode_pair(ax, h, ham_dir * flip, HAMSTRING)
        reference(ax, ILIAC_CREST * flip + np.array([0.0, -1.2]))
        ga, ha = channels[side]
        ax.text(g[0] - sign * 2.6, g[1] + 0.3, ga, ha="center", va="center", fontsize=9, fontweight="bold", color=GLUTE)
        ax.text(h[0] - sign * 2.6, h[1], ha, ha="center", va="center", fontsize=9, fontweight="bold", color=HAMSTRING)
        # the line SENIAM measures along: sacrum to greater trochanter
        t = TROCHANTER * flip
        ax.plot([SACRUM[0], t[0]], [SACRUM[1], t[1]], color=GLUTE, lw=0.8, ls=(0, (2, 2)), alpha=0.7, zorder=2)
        # the hamstring line: ischial tuberosity towards the middle of the back of the knee
        i, k = ISCHIAL * flip, KNEE_MID * flip
        ax.plot([i[0], k[0]], [i[1], k[1]], color=HAMSTRING, lw=0.8, ls=(0, (2, 2)), alpha=0.7, zorder=2)
    ax.text(-13.0, 57.0, "person's left", fontsize=10, color="#555555", ha="center")
    ax.text(13.0, 57.0, "person's right", fontsize=10, color="#555555", ha="center")


def legend(ax: plt.Axes) -> None:
    items = [
        (
            GLUTE,
            "Glute max: halfway from the sacrum to the greater trochanter (SENIAM),\n"
            "the pair along the line from the posterior superior iliac spine to mid-thigh",
        ),
        (
            HAMSTRING,
            "High hamstring: just below the gluteal fold, upper electrode 2-3 cm under\n"
            "the crease, the pair along the line from the sitting bone to the knee",
        ),
        (REFERENCE, "Reference (R): over bone, away from the measured muscles, e.g. the iliac crest"),
    ]
    y = -4.5
    for colour, text in items:
        ax.add_patch(Circle((-22.0, y), 0.9, facecolor="white", edgecolor=colour, lw=1.2))
        ax.add_patch(Circle((-22.0, y), 0.45, color=colour))
        ax.text(-20.3, y, text, va="center", fontsize=8.5, color="#222222")
        y -= 4.2
    ax.text(
        -22.9,
        y + 0.6,
        "A0-A3: the Arduino pins of the standard order (glute max left, hamstring left, glute max right,\n"
        "hamstring right). Electrodes 2 cm apart, centre to centre. Dashed grey: bones you can feel.",
        va="top",
        fontsize=8,
        color="#444444",
    )
    # scale bar: 5 cm
    ax.plot([14.0, 19.0], [3.0, 3.0], color="#333333", lw=2)
    ax.text(16.5, 3.8, "5 cm", ha="center", fontsize=8, color="#333333")


def draw(out: Path = OUT) -> Path:
    fig, ax = plt.subplots(figsize=(8.0, 9.6), dpi=150)
    ax.set_xlim(-25, 25)
    ax.set_ylim(-22, 60)
    ax.set_aspect("equal")
    ax.axis("off")
    body(ax)
    bones(ax)
    sites(ax)
    legend(ax)
    ax.set_title("Electrode sites, seen from behind", fontsize=13, pad=4)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return out


if __name__ == "__main__":
    print(draw(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
