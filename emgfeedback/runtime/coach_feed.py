"""The coach's view of a class: every athlete's ``NAME-mvc`` LSL stream, latest values and connection state.

A discovery thread resolves ``MVC`` streams (or the names given) every few seconds and opens an inlet on each
new one; :meth:`CoachFeed.poll` (called from the UI's timer) pulls whatever arrived without blocking and
:meth:`CoachFeed.views` returns an immutable view per athlete. No Qt here.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from emgfeedback.io import extras

#: Seconds without samples before an athlete shows as stale, and as gone.
STALE_S = 1.0
GONE_S = 5.0
#: How long one look for streams listens for answers (liblsl needs about 0.5 s on a quiet machine).
RESOLVE_S = 2.0


@dataclass(frozen=True)
class AthleteView:
    """One athlete's row, as the coach screen draws it."""

    name: str
    muscles: tuple[str, ...] = ()
    percent: tuple[float, ...] = ()
    states: tuple[int, ...] = ()
    bands: tuple[tuple[float, float], ...] = ()
    hold_s: float | None = None  # seconds into the running hold; None between holds
    last_hold_s: float | None = None
    connection: str = "waiting"  # waiting (not found yet), live, stale, gone


def athlete_name(stream_name: str) -> str:
    """``ana-mvc`` -> ``ana``."""
    return stream_name.removesuffix("-mvc")


def mvc_stream_name(name: str) -> str:
    """``ana`` -> ``ana-mvc`` (a name already ending in -mvc is kept)."""
    return name if name.endswith("-mvc") else f"{name}-mvc"


def _bands(sinfo: Any, muscles: tuple[str, ...]) -> tuple[tuple[float, float], ...]:
    """(low, high) per muscle from desc/bands, else the default 30-50 %MVC."""
    found: dict[str, tuple[float, float]] = {}
    node = sinfo.desc.child("bands").first_child()
    while not node.empty():
        with contextlib.suppress(ValueError):
            found[node.child_value("muscle")] = (float(node.child_value("low")), float(node.child_value("high")))
        node = node.next_sibling()
    return tuple(found.get(m, (30.0, 50.0)) for m in muscles)


class Athlete:
    """One athlete's inlet and latest values (touched only by the thread that polls)."""

    def __init__(self, inlet: Any) -> None:
        self.inlet = inlet
        sinfo = inlet.get_sinfo(timeout=5.0)
        self.name = athlete_name(sinfo.name)
        labels = [str(x) for x in (sinfo.get_channel_names() or [])]
        n = (sinfo.n_channels - 1) // 2
        self.muscles = tuple(label.removesuffix("_pct_mvc") for label in labels[:n]) or tuple(f"ch{i}" for i in range(n))
        self.bands = _bands(sinfo, self.muscles)
        self.n = n
        self.percent = np.full(n, np.nan)
        self.states = np.zeros(n, dtype=np.int64)
        self.hold_s: float | None = None
        self.last_hold_s: float | None = None
        self.last_data: float | None = None

    def poll(self, now: float) -> None:
        data, stamps = self.inlet.pull_chunk(timeout=0.0, max_samples=8192)
        if len(stamps) == 0:
            return
        last = np.array(data[-1], dtype=np.float64)  # a copy: mne-lsl reuses its buffer
        hold = np.asarray(data, dtype=np.float64)[:, -1]
        self.percent = last[: self.n]
        self.states = np.nan_to_num(last[self.n : 2 * self.n]).astype(np.int64)
        running = hold[np.isfinite(hold)]
        if running.size:
            self.last_hold_s = float(running[-1])
        self.hold_s = float(last[-1]) if np.isfinite(last[-1]) else None
        self.last_data = now

    def connection(self, now: float) -> str:
        if self.last_data is None:
            return "waiting"
        quiet = now - self.last_data
        return "live" if quiet < STALE_S else "stale" if quiet < GONE_S else "gone"

    def view(self, now: float) -> AthleteView:
        return AthleteView(
            name=self.name,
            muscles=self.muscles,
            percent=tuple(float(p) for p in self.percent),
            states=tuple(int(s) for s in self.states),
            bands=self.bands,
            hold_s=self.hold_s,
            last_hold_s=self.last_hold_s if self.hold_s is None else None,
            connection=self.connection(now),
        )


class CoachFeed:
    """Every athlete on the network (or the ``streams`` named), found by a background resolver."""

    def __init__(self, streams: list[str] | None = None, *, resolve_every_s: float = 2.0) -> None:
        self.lsl = extras.lsl()
        self.wanted = [mvc_stream_name(s) for s in streams] if streams else None
        self.resolve_every_s = resolve_every_s
        self._athletes: dict[str, Athlete] = {}  # by source id (stable per device and profile)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def start(self) -> CoachFeed:
        self._thread = threading.Thread(target=self._discover, name="emgfeedback-coach-resolver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
        with self._lock:
            athletes, self._athletes = list(self._athletes.values()), {}
        for a in athletes:
            a.inlet.close_stream()

    def _discover(self) -> None:
        while not self._stop.is_set():
            try:
                for sinfo in self._resolve():
                    if self._stop.is_set():
                        break
                    key = sinfo.source_id or f"{sinfo.name}@{sinfo.hostname}"
                    with self._lock:
                        known = key in self._athletes
                    if not known:
                        athlete = self._connect(sinfo)
                        with self._lock:
                            self._athletes[key] = athlete
            except Exception as exc:  # noqa: BLE001 - one bad stream must not stop the discovery of the others
                self.error = str(exc) or type(exc).__name__
            self._stop.wait(self.resolve_every_s)

    def _resolve(self) -> list[Any]:
        """The MVC streams on the network (only the wanted names, if given), in one resolve.

        One query by type, not one per name: liblsl needs about half a second to hear the answers, so short
        per-name queries miss streams on a busy machine.
        """
        if self.wanted is None:
            return list(self.lsl.resolve_streams(timeout=RESOLVE_S, stype="MVC", minimum=10**6))
        with self._lock:
            seen = {a.name for a in self._athletes.values()}
        missing = [n for n in self.wanted if athlete_name(n) not in seen]
        if not missing:
            return []
        found = self.lsl.resolve_streams(timeout=RESOLVE_S, stype="MVC", minimum=len(missing))
        return [i for i in found if i.name in missing]

    def _connect(self, sinfo: Any) -> Athlete:
        """An open inlet on one athlete's stream; a failed open closes what it started before raising."""
        inlet = self.lsl.StreamInlet(sinfo, max_buffered=5, recover=True, processing_flags=["clocksync"])
        try:
            inlet.open_stream(timeout=5.0)
            return Athlete(inlet)
        except Exception:
            with contextlib.suppress(Exception):
                inlet.close_stream()
            raise

    def _sorted(self) -> list[Athlete]:
        with self._lock:
            athletes = list(self._athletes.values())
        if self.wanted is not None:
            order = {athlete_name(n): i for i, n in enumerate(self.wanted)}
            return sorted(athletes, key=lambda a: (order.get(a.name, len(order)), a.name))
        return sorted(athletes, key=lambda a: a.name.lower())

    def poll(self) -> None:
        """Pull every athlete's new samples (never blocks); call it from the UI timer."""
        now = time.monotonic()
        for athlete in self._sorted():
            athlete.poll(now)

    def views(self) -> list[AthleteView]:
        """One view per athlete, in a stable order; named streams not found yet show as waiting."""
        now = time.monotonic()
        views = [a.view(now) for a in self._sorted()]
        if self.wanted is not None:
            seen = {v.name for v in views}
            views += [AthleteView(athlete_name(n)) for n in self.wanted if athlete_name(n) not in seen]
            order = {athlete_name(n): i for i, n in enumerate(self.wanted)}
            views.sort(key=lambda v: order.get(v.name, len(order)))
        return views
