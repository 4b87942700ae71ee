"""One backbend hold's numbers, accumulated from (percent, state) blocks: time in band, peaks, over-clench, synergy, fatigue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from emgfeedback.dsp.spectra import HoldSpectra
from emgfeedback.feedback.states import State
from emgfeedback.muscles import is_glute, is_hamstring, muscle_side


@dataclass
class MuscleHoldStats:
    """One muscle's numbers for one hold."""

    name: str
    samples: int = 0
    in_band: int = 0
    below: int = 0
    over: int = 0
    unknown: int = 0
    sum_pct: float = 0.0
    valid: int = 0
    peak_pct: float = 0.0
    overclench_episodes: int = 0

    def as_dict(self, fs: float) -> dict[str, float | int | str]:
        """JSON-ready summary (seconds and percentages)."""
        dur = self.samples / fs if fs else 0.0
        return {
            "muscle": self.name,
            "time_in_band_s": self.in_band / fs,
            "time_in_band_pct": 100.0 * self.in_band / self.samples if self.samples else 0.0,
            "time_below_s": self.below / fs,
            "time_over_s": self.over / fs,
            "mean_pct_mvc": self.sum_pct / self.valid if self.valid else float("nan"),
            "peak_pct_mvc": self.peak_pct,
            "overclench_count": self.overclench_episodes,
            "overclench_s": self.over / fs,
            "duration_s": dur,
        }


@dataclass
class HoldSummary:
    """What a finished (or running) hold looked like; see :meth:`as_dict` for the JSON keys."""

    number: int
    start_index: int
    stop_index: int
    fs: float
    muscles: list[MuscleHoldStats]
    synergy_samples: int = 0
    hamstring_first_in_band: int | None = None
    glute_first_in_band: int | None = None
    first_in_band: list[int | None] = field(default_factory=list)  # per channel, absolute index
    tags: dict[str, object] = field(default_factory=dict)  # a program rep: program, exercise, set, rep, success
    fatigue: list[dict[str, object]] | None = None  # per channel, see emgfeedback.dsp.spectra.fatigue_summary

    @property
    def samples(self) -> int:
        return self.stop_index - self.start_index

    @property
    def duration_s(self) -> float:
        return self.samples / self.fs

    @property
    def synergy_pct(self) -> float:
        """% of the hold with the high hamstring in band while the glute max was not over-clenching."""
        return 100.0 * self.synergy_samples / self.samples if self.samples else 0.0

    @property
    def hamstring_lead_s(self) -> float | None:
        """How long before the glute max the hamstring first reached the band (negative: after)."""
        if self.hamstring_first_in_band is None or self.glute_first_in_band is None:
            return None
        return (self.glute_first_in_band - self.hamstring_first_in_band) / self.fs

    def underbutt(self) -> list[dict[str, object]]:
        """Per side: hamstring:glute ratio of mean %MVC, and which reached its band first and by how many ms."""
        out: list[dict[str, object]] = []
        sides = sorted({muscle_side(m.name) for m in self.muscles})
        for side in sides:
            ham = [(i, m) for i, m in enumerate(self.muscles) if is_hamstring(m.name) and muscle_side(m.name) == side]
            glu = [(i, m) for i, m in enumerate(self.muscles) if is_glute(m.name) and muscle_side(m.name) == side]
            if not ham or not glu:
                continue
            (hi, h), (gi, g) = ham[0], glu[0]
            h_mean = h.sum_pct / h.valid if h.valid else float("nan")
            g_mean = g.sum_pct / g.valid if g.valid else float("nan")
            ratio = h_mean / g_mean if g_mean > 0 and np.isfinite(h_mean) else None
            entry: dict[str, object] = {
                "side": side or None,
                "hamstring": h.name,
                "glute_max": g.name,
                "ratio": ratio,
                "first_in_band": None,
                "lead_ms": None,
            }
            fh = self.first_in_band[hi] if hi < len(self.first_in_band) else None
            fg = self.first_in_band[gi] if gi < len(self.first_in_band) else None
            if fh is not None or fg is not None:
                first = h.name if fg is None or (fh is not None and fh <= fg) else g.name
                entry["first_in_band"] = first
                if fh is not None and fg is not None:
                    entry["lead_ms"] = 1000.0 * abs(fg - fh) / self.fs
            out.append(entry)
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "hold": self.number,
            "start_index": self.start_index,
            "stop_index": self.stop_index,
            "start_s": self.start_index / self.fs,
            "duration_s": self.duration_s,
            "synergy_pct": self.synergy_pct,
            "hamstring_lead_s": self.hamstring_lead_s,
            "muscles": [m.as_dict(self.fs) for m in self.muscles],
            "underbutt": self.underbutt(),
            "fatigue": self.fatigue,
            **({"program": dict(self.tags)} if self.tags else {}),
        }


class HoldTracker:
    """Accumulates statistics of one backbend hold from (percent, state) blocks."""

    def __init__(
        self,
        number: int,
        names: Sequence[str],
        fs: float,
        start_index: int,
        *,
        tags: dict[str, object] | None = None,
        spectra: bool = True,
    ) -> None:
        self.names = list(names)
        self.summary = HoldSummary(
            number, start_index, start_index, fs, [MuscleHoldStats(n) for n in names], tags=dict(tags or {})
        )
        self.summary.first_in_band = [None] * len(self.names)
        self.spectra = HoldSpectra(len(self.names), fs) if spectra else None
        self._ham = np.array([is_hamstring(n) for n in names])
        self._glute = np.array([is_glute(n) for n in names])
        self._prev_over = np.zeros(len(names), dtype=bool)

    def update(self, start: int, percent: np.ndarray, states: np.ndarray, filtered: np.ndarray | None = None) -> None:
        """Add a block (``filtered``: the band-passed signal, for fatigue); samples before the hold's start are ignored."""
        s = self.summary
        skip = max(s.start_index - start, 0)
        if skip:
            percent, states, start = percent[skip:], states[skip:], start + skip
            filtered = filtered[skip:] if filtered is not None else None
        n = states.shape[0]
        if n == 0:
            return
        if filtered is not None and self.spectra is not None:
            self.spectra.update(filtered[:n])
        for c, m in enumerate(s.muscles):
            st = states[:, c]
            pc = percent[:, c]
            ok = np.isfinite(pc)
            m.samples += n
            m.in_band += int(np.count_nonzero(st == State.IN))
            m.below += int(np.count_nonzero(st == State.BELOW))
            over = st == State.OVER
            m.over += int(np.count_nonzero(over))
            m.unknown += int(np.count_nonzero(st == State.UNKNOWN))
            m.valid += int(np.count_nonzero(ok))
            if ok.any():
                m.sum_pct += float(pc[ok].sum())
                m.peak_pct = max(m.peak_pct, float(pc[ok].max()))
            starts = over & ~np.concatenate([[self._prev_over[c]], over[:-1]])
            m.overclench_episodes += int(np.count_nonzero(starts))
            self._prev_over[c] = bool(over[-1])
        in_band = states == State.IN
        for c, first in enumerate(s.first_in_band):
            if first is None and in_band[:, c].any():
                s.first_in_band[c] = start + int(np.argmax(in_band[:, c]))
        if self._ham.any():
            ham = states[:, self._ham]  # a hamstring with no valid %MVC (not calibrated, electrode off) does not vote
            ham_ok = ((ham == State.IN) | (ham == State.UNKNOWN)).all(axis=1) & (ham == State.IN).any(axis=1)
            glute_ok = ~(states[:, self._glute] == State.OVER).any(axis=1) if self._glute.any() else True
            s.synergy_samples += int(np.count_nonzero(ham_ok & glute_ok))
            if s.hamstring_first_in_band is None and in_band[:, self._ham].any():
                s.hamstring_first_in_band = start + int(np.argmax(in_band[:, self._ham].any(axis=1)))
        if self._glute.any() and s.glute_first_in_band is None and in_band[:, self._glute].any():
            s.glute_first_in_band = start + int(np.argmax(in_band[:, self._glute].any(axis=1)))
        s.stop_index = start + n

    def finish(self) -> HoldSummary:
        """The summary with its fatigue figures filled in (at the hold's end)."""
        if self.spectra is not None and self.spectra.times:
            self.summary.fatigue = self.spectra.summary(self.names)
        return self.summary
