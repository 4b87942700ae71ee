"""A simulated sEMG sensor: realistic synthetic signals that follow a scripted %MVC.

Each muscle's signal is resting noise plus band-limited noise whose RMS is the
scripted fraction of its MVC level, mapped to 10-bit ADC counts around mid-scale
as an Arduino with a gain-1000 front end produces. Optional mains hum, motion
artifacts and electrode-off episodes. Everything is reproducible from a seed and
independent of how the samples are read (chunk sizes, real time or not).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import signal

from emgfeedback.config import DEFAULT_FS, StreamInfo
from emgfeedback.errors import SettingsError
from emgfeedback.frontends import PRESETS
from emgfeedback.io.sources import Chunk, Source
from emgfeedback.muscles import STANDARD, muscle_kind

#: Channel order of the simulated board (and the default muscle map).
MUSCLES = STANDARD
#: MVC RMS at the skin, microvolts, per muscle kind.
MVC_UV = {"glute_max": 400.0, "hamstring": 300.0}
#: Resting noise RMS at the skin, microvolts.
NOISE_UV = 4.0
ADC_BITS = 10
VREF_MV = 5000.0
MID_SCALE = 512.0
UV_PER_COUNT = PRESETS["simulated"].counts_to_uv(ADC_BITS, VREF_MV) or 1.0
_BLOCK = 1000  # samples generated per random block


@dataclass(frozen=True)
class Script:
    """The true %MVC of each channel over time: piecewise linear between breakpoints.

    ``holds`` are the scripted backbend holds (start, stop) in seconds; ``trials``
    the scripted maximal contractions (channel, start, stop).
    """

    name: str
    times: np.ndarray
    levels: np.ndarray  # (breakpoints, channels) %MVC
    loop: bool = False
    holds: tuple[tuple[float, float], ...] = ()
    trials: tuple[tuple[int, float, float], ...] = ()
    electrode_off: tuple[tuple[int, float, float], ...] = ()
    artifacts: tuple[float, ...] = ()

    @property
    def duration(self) -> float:
        return float(self.times[-1])

    @property
    def channels(self) -> int:
        return int(self.levels.shape[1])

    def level_at(self, t: np.ndarray | float) -> np.ndarray:
        """True %MVC at times ``t`` (s), shape (len(t), channels); wraps when looping."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        if self.loop:
            t = np.mod(t, self.duration)
        return np.stack([np.interp(t, self.times, self.levels[:, c]) for c in range(self.channels)], axis=1)


@dataclass
class _Builder:
    """Builds a script from held and ramped levels, one call per segment."""

    channels: int
    times: list[float] = field(default_factory=lambda: [0.0])
    levels: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.levels.append(np.zeros(self.channels))

    @property
    def now(self) -> float:
        return self.times[-1]

    def ramp(self, seconds: float, level: Sequence[float] | float) -> _Builder:
        self.times.append(self.now + seconds)
        self.levels.append(np.broadcast_to(np.asarray(level, dtype=float), (self.channels,)).copy())
        return self

    def hold(self, seconds: float) -> _Builder:
        return self.ramp(seconds, self.levels[-1])

    def build(self, name: str, **kw: object) -> Script:
        return Script(name, np.asarray(self.times), np.asarray(self.levels), **kw)  # type: ignore[arg-type]


def rest_script(channels: int, seconds: float = 60.0) -> Script:
    """Everything relaxed."""
    return _Builder(channels).hold(seconds).build("rest", loop=True)


def constant_script(channels: int, level: float, seconds: float = 60.0) -> Script:
    """Every channel at one level (for accuracy tests)."""
    return _Builder(channels).ramp(0.0, level).hold(seconds).build(f"constant-{level:g}", loop=True)


def calibration_script(
    channels: int,
    *,
    rest_s: float = 5.0,
    trials: int = 3,
    contract_s: float = 5.0,
    between_s: float = 5.0,
    ramp_s: float = 0.4,
    coactivation: float = 5.0,
    lead_s: float = 0.0,
) -> Script:
    """Rest baseline, then ``trials`` maximal contractions per muscle with rests between.

    ``lead_s`` delays each contraction after the scheduled start (a person reacting to a prompt).
    """
    b = _Builder(channels).hold(rest_s)
    spans = []
    for ch in range(channels):
        for _ in range(trials):
            b.hold(lead_s)
            top = np.full(channels, coactivation)
            top[ch] = 100.0
            start = b.now
            b.ramp(ramp_s, top).hold(max(contract_s - 2 * ramp_s - lead_s, 0.0)).ramp(ramp_s, 0.0)
            spans.append((ch, start, b.now))
            b.hold(between_s)
    return b.build("calibration", trials=tuple(spans))


def backbend_script(channels: int) -> Script:
    """Two backbend holds that drift in and out of the 30-50 % band and over-clench the glute max."""
    glutes = [c for c in range(channels) if muscle_kind(MUSCLES[c]) == "glute_max"]
    hams = [c for c in range(channels) if muscle_kind(MUSCLES[c]) == "hamstring"]

    def lv(glute: float, ham: float) -> np.ndarray:
        out = np.zeros(channels)
        out[glutes] = glute
        out[hams] = ham
        return out

    b = _Builder(channels).ramp(0.0, lv(2, 2)).hold(5.0)
    holds = []
    # hold 1: settle in band, over-clench the glute, hamstring sags below the band
    h0 = b.now
    b.ramp(1.5, lv(38, 42)).hold(8.5).ramp(1.0, lv(72, 44)).hold(3.0).ramp(1.0, lv(40, 42)).hold(3.0)
    b.ramp(1.0, lv(40, 20)).hold(3.0).ramp(1.0, lv(36, 40)).hold(5.0).ramp(1.0, lv(2, 2))
    holds.append((h0, b.now))
    b.hold(10.0)
    # hold 2: steady, a short clench, then the glute drops below
    h0 = b.now
    b.ramp(1.5, lv(40, 42)).hold(8.5).ramp(0.5, lv(65, 42)).hold(2.5).ramp(0.5, lv(40, 42)).hold(6.0)
    b.ramp(1.0, lv(22, 42)).hold(2.0).ramp(1.0, lv(40, 42)).hold(5.5).ramp(1.0, lv(2, 2))
    holds.append((h0, b.now))
    b.hold(10.0)
    artifacts = tuple(h + 0.2 for h, _ in holds)
    return b.build("backbend-hold", loop=True, holds=tuple(holds), artifacts=artifacts)


def electrode_off_script(channels: int) -> Script:
    """Rest with the first electrode coming off for 3 s (flat at the rail)."""
    base = _Builder(channels).ramp(0.0, 5.0).hold(20.0).build("electrode-off", loop=True)
    return Script(base.name, base.times, base.levels, loop=True, electrode_off=((0, 8.0, 11.0),))


SCENARIOS = {
    "backbend-hold": backbend_script,
    "calibration": calibration_script,
    "rest": rest_script,
    "electrode-off": electrode_off_script,
}


def make_script(scenario: str, channels: int) -> Script:
    """The script of a named scenario, with a one-line error listing the valid names."""
    try:
        factory = SCENARIOS[scenario]
    except KeyError:
        raise SettingsError(f"unknown scenario {scenario!r}: use one of {', '.join(SCENARIOS)}") from None
    return factory(channels)


def _unit_noise_filter(fs: float, low: float, high: float) -> tuple[np.ndarray, float]:
    """A band-pass for white noise, and the gain that makes its output unit-variance."""
    high = min(high, 0.45 * fs)
    sos = signal.butter(2, [low, high], btype="bandpass", fs=fs, output="sos")
    impulse = np.zeros(int(fs * 4))
    impulse[0] = 1.0
    h = signal.sosfilt(sos, impulse)
    return sos, 1.0 / math.sqrt(float(np.sum(h * h)))


class SimulatedSource(Source):
    """Synthetic sEMG in 10-bit ADC counts, following a :class:`Script`.

    ``realtime`` paces delivery to the wall clock (``speed`` times faster, for tests; ``backlog_s``
    of signal already waiting at the start, like a device buffer); without it,
    ``read`` returns ``chunk_samples`` at once (for tests and benchmarks), and a
    non-looping script ends with EOFError.
    """

    def __init__(
        self,
        scenario: str | Script = "backbend-hold",
        *,
        channels: int = 4,
        fs: float = DEFAULT_FS,
        seed: int = 0,
        realtime: bool = True,
        chunk_samples: int | None = None,
        hum_counts: float = 0.0,
        mains_hz: float = 50.0,
        artifacts: bool = True,
        speed: float = 1.0,
        backlog_s: float = 0.0,
    ) -> None:
        super().__init__()
        if not 1 <= channels <= 4:
            raise SettingsError(f"{channels} simulated channels is out of range: use 1 to 4")
        if not 100 <= fs <= 10000:
            raise SettingsError(f"simulated sample rate {fs:g} Hz is out of range: use 100 to 10000 Hz")
        self.script = scenario if isinstance(scenario, Script) else make_script(scenario, channels)
        if self.script.channels != channels:
            raise SettingsError(f"script has {self.script.channels} channels but {channels} were asked for")
        self.channels = channels
        self.fs = float(fs)
        self.seed = seed
        self.realtime = realtime
        self.chunk_samples = chunk_samples or max(int(fs // 100), 1)
        self.hum_counts = hum_counts
        self.mains_hz = mains_hz
        self.artifacts = artifacts
        if not 0 < speed <= 1000:
            raise SettingsError(f"simulation speed {speed:g} is out of range: use more than 0 and at most 1000")
        self.speed = speed
        self.backlog_s = backlog_s
        names = MUSCLES[:channels]
        self.mvc_counts = np.array([MVC_UV[muscle_kind(n)] for n in names]) / UV_PER_COUNT
        self.noise_counts = NOISE_UV / UV_PER_COUNT
        self._act_sos, self._act_gain = _unit_noise_filter(self.fs, 30.0, 250.0)
        self._noise_sos, self._noise_gain = _unit_noise_filter(self.fs, 20.0, 450.0)
        self._reset_generator()

    def _reset_generator(self) -> None:
        self._act_zi = np.zeros((self._act_sos.shape[0], 2, self.channels))
        self._noise_zi = np.zeros((self._noise_sos.shape[0], 2, self.channels))
        self._block = 0
        self._buffer = np.empty((0, self.channels))
        self._produced = 0
        self._t0 = 0.0

    def open(self) -> None:
        self._info = StreamInfo(
            fs=self.fs,
            channels=self.channels,
            units="counts",
            channel_names=MUSCLES[: self.channels],
            adc_bits=ADC_BITS,
            vref_mv=VREF_MV,
            description=f"simulated:{self.script.name}",
            firmware="simulated",
        )
        self._stop.clear()
        self._reset_generator()
        self._t0 = time.monotonic() - self.backlog_s / self.speed

    @property
    def end_index(self) -> int | None:
        """Samples in the whole script, or None when it loops forever."""
        return None if self.script.loop else round(self.script.duration * self.fs)

    def _generate_block(self) -> np.ndarray:
        """The next ``_BLOCK`` samples; random numbers depend only on (seed, block number)."""
        k, n, ch = self._block, _BLOCK, self.channels
        rng = np.random.default_rng([self.seed, k])
        act, self._act_zi = signal.sosfilt(self._act_sos, rng.standard_normal((n, ch)), axis=0, zi=self._act_zi)
        noise, self._noise_zi = signal.sosfilt(self._noise_sos, rng.standard_normal((n, ch)), axis=0, zi=self._noise_zi)
        t = (k * n + np.arange(n)) / self.fs
        level = self.script.level_at(t)
        x = MID_SCALE + noise * (self._noise_gain * self.noise_counts)
        x += act * self._act_gain * (level / 100.0) * self.mvc_counts
        if self.hum_counts:
            x += self.hum_counts * np.sin(2 * np.pi * self.mains_hz * t + 0.7)[:, None]
        tl = np.mod(t, self.script.duration) if self.script.loop else t
        if self.artifacts:
            for t_art in self.script.artifacts:
                x += (60.0 * np.exp(-0.5 * ((tl - t_art) / 0.08) ** 2))[:, None]
        x = np.clip(np.rint(x), 0, (1 << ADC_BITS) - 1)
        for c, t_on, t_off in self.script.electrode_off:
            if c < ch:
                x[(tl >= t_on) & (tl < t_off), c] = (1 << ADC_BITS) - 1
        self._block += 1
        return x

    def _take(self, n: int) -> Chunk:
        """Produce exactly the next ``n`` samples as a chunk."""
        while self._buffer.shape[0] < n:
            self._buffer = np.concatenate([self._buffer, self._generate_block()])
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        chunk = Chunk(self._produced, out)
        self._produced += n
        self.stats.frames += n
        return chunk

    def generate(self, n: int) -> np.ndarray:
        """The next ``n`` samples at once, ignoring real time (for tests and benchmarks)."""
        return self._take(n).samples

    def read(self, timeout: float = 0.1) -> Chunk | None:
        if self._info is None:
            self.open()
        end = self.end_index
        if end is not None and self._produced >= end:
            raise EOFError("simulated scenario finished")
        if not self.realtime:
            n = self.chunk_samples if end is None else min(self.chunk_samples, end - self._produced)
            return self._take(n)
        deadline = time.monotonic() + timeout
        while True:
            due = int((time.monotonic() - self._t0) * self.fs * self.speed)
            if end is not None:
                due = min(due, end)
            if due - self._produced >= self.chunk_samples or (end is not None and due >= end > self._produced):
                return self._take(due - self._produced)
            wait = (self._produced + self.chunk_samples - due) / (self.fs * self.speed)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stop.wait(min(wait, remaining)):
                return None
