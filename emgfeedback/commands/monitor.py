"""``emgfeedback monitor``: live per-channel rate, level, drops and signal quality of a source, in the terminal."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from emgfeedback.commands._common import SECONDS, add_source_args, mains_flag, source_options
from emgfeedback.config import Mains, StreamInfo
from emgfeedback.dsp.quality import QualityMonitor, QualityReport
from emgfeedback.errors import SourceError
from emgfeedback.io.sources import Source
from emgfeedback.io.spec import open_source
from emgfeedback.runtime.signals import on_stop_signal

#: Screen refreshes a second on a terminal; plain lines are printed once a second otherwise.
REFRESH_HZ = 4.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "monitor",
        help="show a source's live rate, level, drops and signal quality per channel",
        description="Open a source and show, per channel, the sample rate actually received, the level (mean and "
        "RMS in counts) and the signal quality, with frames, lost frames, rejected frames and reconnects. "
        "With --json the last line of output is one JSON object with the totals.",
        epilog="examples:\n  emgfeedback monitor --source /dev/ttyACM0\n"
        "  emgfeedback monitor --source /dev/ttyUSB0 --protocol p2 --fs 250\n"
        "  emgfeedback monitor --source /dev/ttyACM0 --protocol text --fs 500 --seconds 10 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_source_args(p)
    p.add_argument("--seconds", type=SECONDS, default=None, metavar="N", help="stop after N seconds (default: Ctrl-C)")
    p.add_argument(
        "--mains", type=mains_flag, default=Mains.HZ50, metavar="HZ", help="mains frequency for the hum check: 50, 60 or off"
    )
    p.add_argument("--json", action="store_true", help="end with one JSON line of totals (the live view goes to stderr)")
    p.set_defaults(func=run)


@dataclass
class _Tally:
    """What the monitor accumulates while reading."""

    info: StreamInfo
    quality: QualityMonitor
    t0: float = field(default_factory=time.monotonic)
    first_index: int | None = None
    last_stop: int = 0
    first_arrival: float = 0.0
    last_arrival: float = 0.0
    recent: list[tuple[float, int]] = field(default_factory=list)  # (arrival, samples) over the last second

    def add(self, start: int, samples: np.ndarray) -> None:
        now = time.monotonic()
        if self.first_index is None:
            self.first_index, self.first_arrival = start, now
        self.last_stop, self.last_arrival = start + samples.shape[0], now
        self.quality.update(samples)
        self.recent.append((now, samples.shape[0]))
        while self.recent and self.recent[0][0] < now - 1.0:
            self.recent.pop(0)

    def rate(self) -> float | None:
        """Samples received over the last second, per second (None during the first half second)."""
        now = time.monotonic()
        if now - self.t0 < 0.5:
            return None
        span = min(1.0, now - self.t0)
        return sum(n for t, n in self.recent if t >= now - span) / span

    def measured_fs(self) -> float | None:
        """Sample rate from the index span and the wall time between the first and last chunk."""
        if self.first_index is None or self.last_arrival - self.first_arrival < 0.5:
            return None
        return (self.last_stop - self.first_index) / (self.last_arrival - self.first_arrival)


def _summary(source: Source, tally: _Tally, elapsed: float) -> dict[str, object]:
    info, st = tally.info, source.stats
    report = tally.quality.report()
    window = tally.quality.buf if tally.quality.count >= tally.quality.size else None
    channels = []
    for c, name in enumerate(info.names):
        entry: dict[str, object] = {"name": name}
        if window is not None:
            entry["mean"] = round(float(window[:, c].mean()), 3)
        if report is not None:
            q = report.channels[c]
            entry.update(rms=round(q.rms, 3), quality=q.label, clip_fraction=q.clip_fraction, hum_ratio=round(q.hum_ratio, 2))
        channels.append(entry)
    measured = tally.measured_fs()
    decoder = source.decoder
    return {
        "source": info.description,
        "protocol": source.format_name,
        "firmware": info.firmware,
        "fs": info.fs,
        "measured_fs": round(measured, 2) if measured else None,
        "channels": info.channels,
        "seconds": round(elapsed, 3),
        "frames": st.frames,
        "lost": st.lost,
        "rejected": st.rejected,
        "reconnects": st.reconnects,
        "gaps": len(st.gaps),
        "counter_ok": st.counter_ok,
        "overflow": source.overflow,
        "garbage_bytes": decoder.stats.garbage_bytes if decoder is not None else 0,
        "device_overruns": st.overruns,
        "per_channel": channels,
    }


def _lines(source: Source, tally: _Tally, elapsed: float) -> list[str]:
    info, st = tally.info, source.stats
    connected = source.connected
    head = (
        f"{info.description}  {info.fs:g} Hz x {info.channels} ch  {elapsed:5.1f} s  frames {st.frames}  lost {st.lost}"
        f"  rejected {st.rejected}  reconnects {st.reconnects}"
        + ("" if st.counter_ok else "  counter unreliable (repeats: lost not counted)")
        + ("" if connected else "  (reconnecting...)")
    )
    report: QualityReport | None = tally.quality.report()
    rate = tally.rate()
    rate_text = f"{rate:9.0f}" if rate is not None else f"{'-':>9}"
    rows = [head, f"{'channel':<16}{'rate Hz':>9}{'mean':>9}{'rms':>9}  quality"]
    full = tally.quality.count >= tally.quality.size
    for c, name in enumerate(info.names):
        mean = f"{tally.quality.buf[:, c].mean():9.1f}" if full else f"{'-':>9}"
        if report is not None:
            q = report.channels[c]
            problems = q.problems
            quality = q.label + (f" - {problems[0]}" if problems else "")
            rms = f"{q.rms:9.2f}"
        else:
            quality, rms = "(measuring)", f"{'-':>9}"
        rows.append(f"{name:<16}{rate_text}{mean}{rms}  {quality}")
    return rows


class _Screen:
    """Redraws a block of lines in place on a terminal; prints plain lines once a second otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.drawn = 0
        self.last = 0.0

    def due(self, now: float) -> bool:
        return now - self.last >= (1.0 / REFRESH_HZ if self.tty else 1.0)

    def show(self, lines: list[str], now: float) -> None:
        self.last = now
        if self.tty:
            up = f"\x1b[{self.drawn}F" if self.drawn else ""
            self.stream.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
            self.drawn = len(lines)
        else:
            self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    source = open_source(args.source, source_options(args))
    done = threading.Event()
    why = {"text": "end of source"}

    def stop(name: str) -> None:
        why["text"] = f"stopped by {name}"
        done.set()
        source.interrupt()

    screen = _Screen(sys.stderr if args.json else sys.stdout)
    with on_stop_signal(stop), contextlib.closing(source):
        try:
            source.open()
        except SourceError:
            if done.is_set():  # Ctrl-C while the port was still being opened: nothing to report
                print(f"monitor {why['text']} before {args.source} delivered data", file=screen.stream)
                return 0
            raise
        info = source.info
        hz = args.mains.hz
        mains = hz if hz is not None and hz + 10 < info.fs / 2 else None
        tally = _Tally(info, QualityMonitor(info.fs, info.channels, adc_max=info.adc_max, mains_hz=mains))
        t0 = time.monotonic()
        deadline = t0 + args.seconds if args.seconds is not None else None
        while not done.is_set():
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                why["text"] = f"{args.seconds:g} s"
                break
            timeout = 0.1 if deadline is None else max(min(0.1, deadline - now), 0.0)
            try:
                chunk = source.read(timeout)
            except EOFError:
                break
            if chunk is not None and chunk.samples.shape[0]:
                tally.add(chunk.start, chunk.samples)
            now = time.monotonic()
            if screen.due(now):
                screen.show(_lines(source, tally, now - t0), now)
        elapsed = time.monotonic() - t0
        screen.show(_lines(source, tally, elapsed), time.monotonic())
        st = source.stats
        print(
            f"monitored {info.description} for {elapsed:.1f} s: {st.frames} frames, {st.lost} lost, "
            f"{st.rejected} rejected, {st.reconnects} reconnects ({why['text']})",
            file=screen.stream,
            flush=True,
        )
        if args.json:
            print(json.dumps(_summary(source, tally, elapsed)), flush=True)
    return 0
