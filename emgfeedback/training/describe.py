"""Plain words for a hold's underbutt-versus-glute figures and its fatigue trend (show, card, report)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from emgfeedback.muscles import display_name, muscle_kind


def underbutt_lines(entries: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """``left: hamstring:glute 1.32, glute max first in band by 114 ms`` per side."""
    out = []
    for e in entries or []:
        side = e.get("side") or "both"
        ratio = e.get("ratio")
        text = f"{side}: hamstring:glute {'--' if ratio is None else f'{ratio:.2f}'}"
        first = e.get("first_in_band")
        if first:
            who = "hamstring" if muscle_kind(first) == "hamstring" else "glute max"
            lead = e.get("lead_ms")
            text += f", {who} first in band" + (f" by {lead:.0f} ms" if lead is not None else " (the other never)")
        out.append(text)
    return out


def fatigue_lines(channels: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """``High hamstring, left: MDF 121 -> 112 Hz (-0.31 +- 0.07 Hz/s), RMS +8 %`` per muscle."""
    out = []
    for c in channels or []:
        slope = c.get("mdf_slope_hz_per_s")
        if slope is None:
            continue
        se = c.get("mdf_slope_se_hz_per_s")
        rms = c.get("rms_change_pct")
        text = (
            f"{display_name(str(c.get('name')))}: MDF {c['mdf_start_hz']:.0f} -> {c['mdf_end_hz']:.0f} Hz "
            f"({slope:+.2f}{f' +- {se:.2f}' if se is not None else ''} Hz/s)"
        )
        if rms is not None:
            text += f", RMS {rms:+.0f} %"
        out.append(text)
    return out
