"""Performance measurements, run with ``python -m benchmarks [NAME ...]``.

Each ``benchmarks/bench_NAME.py`` defines ``run() -> Iterable[Figure]``; every figure
prints as one ``name: value unit`` line. Timings are medians of several runs, and
each ratio is taken against a reference run in the same process.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured number."""

    name: str
    value: float
    unit: str

    def line(self) -> str:
        v = self.value
        text = f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return f"{self.name}: {text} {self.unit}"


def median_time(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def paced_frames(window, app, fps: float, count: int) -> list[float]:
    """Call ``window.refresh()`` at ``fps`` (as the dashboard's timer would) ``count`` times; each frame's seconds."""
    frames: list[float] = []
    period = 1 / fps
    next_frame = time.perf_counter()
    while len(frames) < count:
        t0 = time.perf_counter()
        window.refresh()
        app.processEvents()
        frames.append(time.perf_counter() - t0)
        next_frame += period
        time.sleep(max(next_frame - time.perf_counter(), 0))
    return frames
