"""Assemble a live run: source + chain + profile + feedback engine in one Acquisition.

The dashboard, ``record`` and ``demo`` all start here, so they process identically.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from emgfeedback.config import MAX_FS, Band, FilterSpec, StreamInfo
from emgfeedback.dsp.guard import plausible_limit
from emgfeedback.dsp.normalize import MvcNormalizer
from emgfeedback.dsp.pipeline import Pipeline
from emgfeedback.errors import SettingsError
from emgfeedback.feedback import FeedbackEngine
from emgfeedback.io.sources import Source
from emgfeedback.runtime.acquisition import Acquisition
from emgfeedback.runtime.commands import StartProgram
from emgfeedback.training.program import Program


class ProfileLike(Protocol):
    """What a live run and the commands need of a calibration profile (calibration.Profile is one)."""

    @property
    def name(self) -> str: ...

    @property
    def filters(self) -> FilterSpec:
        """The chain the calibration was measured with (its estimator included)."""
        ...

    @property
    def muscles(self) -> Mapping[str, int]:
        """Muscle name -> channel."""
        ...

    @property
    def scale(self) -> float | None:
        """Counts -> envelope units factor the live chain must apply (None: none)."""
        ...

    @property
    def frontend(self) -> str | None:
        """The sensor board the calibration was made with, if known."""
        ...

    def check_compatible(self, spec: FilterSpec, info: StreamInfo) -> None: ...

    def check_filters(self, spec: FilterSpec) -> None: ...

    def normalizer(self, names: Sequence[str] | None = None) -> MvcNormalizer: ...


@dataclass
class LiveOptions:
    """Everything about a live run except the source: filters (without fs), profile, bands."""

    filters: Callable[[float], FilterSpec] = field(default=lambda fs: FilterSpec(fs=fs))
    profile: ProfileLike | None = None
    band: Band = field(default_factory=Band)
    muscle_bands: dict[str, Band] = field(default_factory=dict)
    auto_start: bool = False
    scale: float | None = None
    ring_seconds: float = 60.0
    program: Program | None = None  # a training program started with the stream
    ease_out_pct: float | None = None  # cue "ease out" once a hold's median frequency fell this many %
    #: Signal gathered before each pass of the chain (s): 0 for a screen or sound cue; a recorder with no
    #: one watching batches 100 ms and saves most of the per-chunk work.
    batch_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def channel_names(info: StreamInfo, profile: ProfileLike | None) -> list[str]:
    """Muscle names for the channels: the profile's map when there is one, else the stream's names."""
    if profile is not None and profile.muscles:
        names = list(info.names)
        for muscle, ch in profile.muscles.items():
            if ch >= info.channels:
                raise SettingsError(
                    f"profile {profile.name!r} needs channel {ch} for {muscle} but the source has "
                    f"{info.channels}: connect that sensor or calibrate a new profile"
                )
            names[ch] = muscle
        return names
    return list(info.names)


def make_pipeline(info: StreamInfo, options: LiveOptions) -> Pipeline:
    """The live chain for a stream: the options' filters at its rate, normalized by the profile (checked against it)."""
    spec = options.filters(info.fs)
    normalizer = None
    if options.profile is not None:
        options.profile.check_compatible(spec, info)
        normalizer = options.profile.normalizer(channel_names(info, options.profile))
    return Pipeline(spec, normalizer=normalizer, scale=options.scale, limits=plausible_limit(info.adc_max))


def make_feedback(info: StreamInfo, options: LiveOptions) -> FeedbackEngine:
    """The feedback engine for a stream: bands per muscle, hysteresis and dwell at its rate."""
    names = channel_names(info, options.profile)
    bands = [options.muscle_bands.get(n, options.band) for n in names]
    estimator = options.filters(info.fs).estimator  # the decision tuned with the chain's estimator
    return FeedbackEngine(
        names, bands, info.fs, auto_start=options.auto_start, ease_out_pct=options.ease_out_pct, envelope=estimator
    )


def build_acquisition(source: Source, options: LiveOptions | None = None) -> Acquisition:
    """An Acquisition (not started) whose chain and feedback are set up once the source is open.

    ``process --profile`` builds the same two pieces with :func:`make_pipeline` and :func:`make_feedback`,
    so a recording processed offline gets the states a live run would have shown.
    """
    opts = options or LiveOptions()
    mains = opts.filters(MAX_FS).mains.hz  # the mains choice does not depend on the rate
    acq = Acquisition(
        source,
        lambda info: make_pipeline(info, opts),
        feedback=lambda info: make_feedback(info, opts),
        ring_seconds=opts.ring_seconds,
        mains_hz=mains,
        batch_s=opts.batch_s,
    )
    if opts.program is not None:
        acq.send(StartProgram(opts.program))  # applied before the first block
    return acq


class Recorder(Protocol):
    """What the dashboard needs of a session recorder attached to its acquisition."""

    @property
    def status_text(self) -> str:
        """Short text for the status bar (duration, holds)."""
        ...

    def stop(self, status: str = "complete", timeout: float = 10.0) -> int | None:
        """Close the recording; returns the stored session's id (None if nothing was stored)."""
        ...

    def summary_line(self) -> str | None:
        """One line saying what was recorded, once stopped (None if nothing was)."""
        ...


RecorderFactory = Callable[[Acquisition], Recorder]
