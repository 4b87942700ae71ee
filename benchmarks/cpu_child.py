"""Run one emgfeedback command and write where its CPU went (a script, so it can run against any tree).

``python benchmarks/cpu_child.py OUT.json WARMUP_S MEASURE_S -- emgfeedback-args...`` runs the CLI in
this process. Between WARMUP_S and WARMUP_S + MEASURE_S it measures the process CPU (getrusage),
each thread's CPU (/proc/self/task: serial reader = decode, session writer = storage, main = drawing),
and, inside the acquisition thread, thread-CPU timers around the chain and the feedback engine.
It also counts dashboard refreshes and received samples, so a lighter app that drops frames shows.
Linux only (it reads /proc); it imports only the emgfeedback found on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

TIMERS: dict[str, float] = defaultdict(float)
COUNTS: dict[str, int] = defaultdict(int)
ACQ: list[Any] = []


def _timed(cls: type, method: str, stage: str) -> None:
    """Wrap ``cls.method`` with a thread-CPU timer adding to ``TIMERS[stage]``."""
    original: Callable[..., Any] = getattr(cls, method)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            TIMERS[stage] += time.thread_time() - t0

    setattr(cls, method, wrapper)


def _instrument() -> None:
    from emgfeedback.dsp.pipeline import Pipeline
    from emgfeedback.feedback import FeedbackEngine
    from emgfeedback.runtime.acquisition import Acquisition

    _timed(Pipeline, "process", "chain")
    _timed(FeedbackEngine, "process", "feedback")
    handle = Acquisition._handle

    def counting(self: Any, start: int, raw: Any) -> Any:
        if not ACQ:
            ACQ.append(self)
        COUNTS["samples"] += raw.shape[0]
        return handle(self, start, raw)

    setattr(Acquisition, "_handle", counting)  # noqa: B010 - a benchmark's probe, not the package's code
    if "live" not in sys.argv:
        return  # record: no Qt
    from emgfeedback.ui.main_window import Dashboard

    refresh = Dashboard.refresh

    def counted_refresh(self: Any) -> None:
        COUNTS["frames"] += 1
        t0 = time.thread_time()
        refresh(self)
        TIMERS["refresh"] += time.thread_time() - t0

    setattr(Dashboard, "refresh", counted_refresh)  # noqa: B010 - a benchmark's probe


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of every thread of this process, by thread name (main thread: MainThread)."""
    ticks = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = defaultdict(float)
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid), "native")
        out[name.split(" ")[0]] += (int(fields[11]) + int(fields[12])) / ticks
    return dict(out)


def _snapshot() -> dict[str, Any]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    acq = ACQ[0] if ACQ else None
    return {
        "wall": time.monotonic(),
        "cpu": r.ru_utime + r.ru_stime,
        "threads": _thread_cpu(),
        "timers": dict(TIMERS),
        "counts": dict(COUNTS),
        "lost": int(acq.stats.lost) if acq is not None else 0,
    }


def main(argv: list[str]) -> int:
    out_path, warmup, measure = argv[0], float(argv[1]), float(argv[2])
    args = argv[argv.index("--") + 1 :]
    _instrument()
    snaps: list[dict[str, Any]] = []

    def watch() -> None:
        time.sleep(warmup)
        snaps.append(_snapshot())
        time.sleep(measure)
        snaps.append(_snapshot())
        with open(out_path, "w") as f:
            json.dump({"before": snaps[0], "after": snaps[1]}, f)

    watcher = threading.Thread(target=watch, name="cpu-watch", daemon=True)
    watcher.start()
    from emgfeedback.cli import main as cli_main

    code = cli_main(args)
    watcher.join(timeout=warmup + measure + 5)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
