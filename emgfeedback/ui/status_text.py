"""The status bar's words (no widgets): rate, losses and reconnects; per-channel signal quality with hints."""

from __future__ import annotations

from collections.abc import Sequence

from emgfeedback.config import StreamInfo
from emgfeedback.dsp.quality import QualityReport
from emgfeedback.io.sources import SourceStats
from emgfeedback.muscles import short_name

DOT = " \u00b7 "


def rate_text(info: StreamInfo, stats: SourceStats) -> tuple[str, str]:
    """``1000 Hz x4 · lost 0 · reconnects 0`` and its tooltip (why a counter cannot be trusted)."""
    overruns = f"{DOT}device overruns {stats.overruns}" if stats.overruns else ""
    lost = f"lost {stats.lost}" if stats.counter_ok else "counter unreliable"
    text = f"{info.fs:g} Hz \u00d7{info.channels}{DOT}{lost}{DOT}reconnects {stats.reconnects}{overruns}"
    tip = (
        ""
        if stats.counter_ok
        else "the device's packet counter repeats or stands still: every packet is kept, "
        f"but lost packets cannot be counted from it (lost so far: {stats.lost})"
    )
    return text, tip


def quality_text(names: Sequence[str], report: QualityReport) -> tuple[str, str, dict[int, str]]:
    """``GL OK · HL noisy``, the problems as a tooltip, and a short hint per channel with a problem."""
    parts, hints = [], {}
    for c, (name, q) in enumerate(zip(names, report.channels, strict=False)):
        parts.append(f"{short_name(name)} {q.label}")
        if q.problems:
            hints[c] = q.problems[0].split(":")[0]
    tip = "\n".join(p for q in report.channels for p in q.problems) or "signal OK"
    return DOT.join(parts), tip, hints
