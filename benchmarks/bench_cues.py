"""Cues against the truth: scripted %MVC through the simulator, every estimator and decision side by side.

The simulator (band-limited noise whose RMS follows a script, resting noise, 50 Hz mains hum) plays
steps across each band edge (30 and 50 %MVC) in both directions at three sizes, and steady holds
at 40 %MVC and 3 points inside each edge (33, 47). For each setting it prints the cue latency from
the true crossing to the reported state (median, p95), spurious state changes per minute on each
hold, and each hold's time-in-band error against the script. Fixed seeds; 4 channels x SEEDS
repetitions. The %MVC reference is the chain's own long-run mean square at 100 % and at rest, so
every estimator is normalized to the same truth.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from benchmarks import Figure
from emgfeedback.config import Band, Envelope, FilterSpec
from emgfeedback.dsp.normalize import MvcNormalizer
from emgfeedback.dsp.pipeline import Pipeline
from emgfeedback.feedback import BandClassifier, SequentialClassifier, State
from emgfeedback.io.simulated import Script, SimulatedSource

FS = 1000.0
CHANNELS = 4
HUM_COUNTS = 8.0  # about 40 uV of 50 Hz at the skin: a cable near a wall socket
SEEDS = int(os.environ.get("EMGFEEDBACK_BENCH_SEEDS", "5"))
HOLD_S = float(os.environ.get("EMGFEEDBACK_BENCH_HOLD_S", "60"))
SETTLE_S = 3.0  # ignored at the start of a hold: the estimator fills
STEP_HOLD_S = 3.0  # each level of a step run lasts this long
CENTRE = 40.0
#: Step targets from the band centre: over the upper edge, under the lower edge (sizes 15, 20, 30 points).
UP_TARGETS = (55.0, 60.0, 70.0)
DOWN_TARGETS = (25.0, 20.0, 10.0)
HOLDS = (40.0, 33.0, 47.0)


@dataclass(frozen=True)
class Setting:
    """One estimator + decision, as a profile would choose them."""

    name: str
    spec: FilterSpec
    decision: str  # "band" (fixed hysteresis + dwell) or "sequential"


SETTINGS = (
    Setting("rms150_band", FilterSpec(fs=FS, envelope=Envelope.RMS), "band"),  # today's default
    Setting("rms50_band", FilterSpec(fs=FS, envelope=Envelope.RMS, window_ms=50), "band"),
    Setting("rms100_band", FilterSpec(fs=FS, envelope=Envelope.RMS, window_ms=100), "band"),
    Setting("rms300_band", FilterSpec(fs=FS, envelope=Envelope.RMS, window_ms=300), "band"),
    Setting("adaptive_band", FilterSpec(fs=FS, envelope=Envelope.ADAPTIVE), "band"),
    Setting("adaptive_sequential", FilterSpec(fs=FS, envelope=Envelope.ADAPTIVE), "sequential"),
)


def step_script() -> tuple[Script, list[tuple[float, str, State, float]]]:
    """Centre -> target -> centre for every target; returns the script and (time, kind, state after, size) per crossing."""
    times, levels, crossings = [0.0], [CENTRE], []
    t = 0.0

    def go(level: float, kind: str, state: State) -> None:
        nonlocal t
        t += STEP_HOLD_S
        times.extend([t, t + 0.001])
        crossings.append((t, kind, state, abs(level - levels[-1])))
        levels.extend([levels[-1], level])

    for target in UP_TARGETS:
        go(target, "into_over", State.OVER)
        go(CENTRE, "back_into_band", State.IN)
    for target in DOWN_TARGETS:
        go(target, "into_below", State.BELOW)
        go(CENTRE, "into_band_from_below", State.IN)
    times.append(t + STEP_HOLD_S)
    levels.append(CENTRE)
    lv = np.repeat(np.asarray(levels)[:, None], CHANNELS, axis=1)
    return Script("steps", np.asarray(times), lv), crossings


def hold_script(level: float) -> Script:
    return Script(f"hold-{level:g}", np.array([0.0, HOLD_S]), np.full((2, CHANNELS), level))


def _samples(script: Script, seed: int) -> np.ndarray:
    src = SimulatedSource(script, channels=CHANNELS, fs=FS, seed=seed, realtime=False, hum_counts=HUM_COUNTS, artifacts=False)
    return src.generate(round(script.duration * FS))


def reference(spec: FilterSpec) -> MvcNormalizer:
    """MVC and noise as the chain sees them: long-run RMS of the filtered signal at 100 % and at rest."""
    out = []
    for level in (100.0, 0.0):
        x = _samples(hold_script(level), seed=999)
        f = Pipeline(spec.with_(envelope=Envelope.RMS)).process(x).filtered[2000:]
        out.append(np.sqrt(np.mean(f * f, axis=0)))
    return MvcNormalizer(out[0], out[1])


def run_setting(setting: Setting, x: np.ndarray, norm: MvcNormalizer) -> np.ndarray:
    """Reported states (n, channels) of one setting over ``x``, in 10-sample chunks like a live stream."""
    pipe = Pipeline(setting.spec, normalizer=norm)
    bands = [Band()] * CHANNELS
    clf: BandClassifier | SequentialClassifier = (
        SequentialClassifier(bands, FS) if setting.decision == "sequential" else BandClassifier(bands, FS)
    )
    states = []
    for i in range(0, x.shape[0], 10):
        out = pipe.process(x[i : i + 10])
        states.append(clf.update(out.percent, out.spread))
    return np.concatenate(states)


def latencies(states: np.ndarray, crossings: list[tuple[float, str, State, float]]) -> dict[str, list[float]]:
    """Per kind (and kind + step size): ms from each true crossing to the first sample reported in the new
    state; a crossing never reported counts the whole hold that follows it."""
    out: dict[str, list[float]] = {}
    for t, kind, target, size in crossings:
        i0 = round(t * FS) + 1
        i1 = i0 + round(STEP_HOLD_S * FS)
        for c in range(states.shape[1]):
            hit = np.flatnonzero(states[i0:i1, c] == target)
            lat = (hit[0] if hit.size else i1 - i0) * 1000.0 / FS
            out.setdefault(kind, []).append(lat)
            out.setdefault(f"{kind}_{size:g}pt", []).append(lat)
            out.setdefault("all", []).append(lat)
    return out


def hold_figures(states: np.ndarray) -> tuple[float, float]:
    """(state changes per minute, % of the time in band) after the settle time."""
    s = states[round(SETTLE_S * FS) :]
    changes = int(np.count_nonzero(s[1:] != s[:-1]))
    minutes = s.shape[0] * s.shape[1] / FS / 60.0
    return changes / minutes, 100.0 * float(np.mean(s == State.IN))


def evaluate(settings: tuple[Setting, ...] = SETTINGS, seeds: int = SEEDS) -> dict[str, dict[str, float]]:
    """Every figure of every setting: {setting: {figure: value}}."""
    script, crossings = step_script()
    steps = [_samples(script, seed) for seed in range(seeds)]
    holds = {level: [_samples(hold_script(level), 100 + seed) for seed in range(seeds)] for level in HOLDS}
    results: dict[str, dict[str, float]] = {}
    norms: dict[tuple[object, ...], MvcNormalizer] = {}
    for setting in settings:
        norm = norms.setdefault((setting.spec.window_ms,), reference(setting.spec))
        figs: dict[str, float] = {}
        lat: dict[str, list[float]] = {}
        for x in steps:
            for kind, values in latencies(run_setting(setting, x, norm), crossings).items():
                lat.setdefault(kind, []).extend(values)
        for kind, values in sorted(lat.items(), key=lambda kv: (kv[0] != "all", kv[0])):
            figs[f"latency_{kind}_median_ms"] = float(np.median(values))
            figs[f"latency_{kind}_p95_ms"] = float(np.percentile(values, 95))
        for level, runs in holds.items():
            rates, in_band = zip(*(hold_figures(run_setting(setting, x, norm)) for x in runs), strict=True)
            figs[f"hold{level:g}_changes_per_min"] = float(np.mean(rates))
            figs[f"hold{level:g}_time_in_band_error_pp"] = abs(100.0 - float(np.mean(in_band)))
        results[setting.name] = figs
    return results


UNITS = {"ms": "ms", "per_min": "changes/min", "pp": "pp"}


def run() -> Iterator[Figure]:
    chosen = os.environ.get("EMGFEEDBACK_BENCH_CUES")  # e.g. "rms150_band,adaptive_sequential"
    results = evaluate(tuple(s for s in SETTINGS if not chosen or s.name in chosen.split(",")))
    for name, figs in results.items():
        for key, value in figs.items():
            unit = next(u for suffix, u in UNITS.items() if key.endswith(suffix))
            yield Figure(f"cues_{name}_{key}", value, unit)
