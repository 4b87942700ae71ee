"""Assemble a live run: source + chain + profile + feedback engine in one Acquisition.

The dashboard, ``record`` and ``demo`` all start here, so they process identically.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from emgfeedback.config import MAX_FS, Band, FilterSpec, StreamInfo
from emgfeedback.dsp.normalize import MvcNormalizer
from emgfeedback.dsp.pipeline import Pipeline
from emgfeedback.errors import SettingsError
from emgfeedback.feedback import FeedbackEngine
from emgfeedback.io.sources import Source
from emgfeedback.runtime.acquisition import Acquisition


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


def build_acquisition(source: Source, options: LiveOptions | None = None) -> Acquisition:
    """An Acquisition (not started) whose chain and feedback are set up once the source is open."""
    opts = options or LiveOptions()

    def pipeline_factory(info: StreamInfo) -> Pipeline:
        spec = opts.filters(info.fs)
        normalizer = None
        if opts.profile is not None:
            opts.profile.check_compatible(spec, info)
            normalizer = opts.profile.normalizer(channel_names(info, opts.profile))
        return Pipeline(spec, normalizer=normalizer, scale=opts.scale)

    def feedback_factory(info: StreamInfo) -> FeedbackEngine:
        names = channel_names(info, opts.profile)
        bands = [opts.muscle_bands.get(n, opts.band) for n in names]
        estimator = opts.filters(info.fs).estimator  # the decision tuned with the chain's estimator
        return FeedbackEngine(names, bands, info.fs, auto_start=opts.auto_start, envelope=estimator)

    mains = opts.filters(MAX_FS).mains.hz  # the mains choice does not depend on the rate
    return Acquisition(
        source, pipeline_factory, feedback=feedback_factory, ring_seconds=opts.ring_seconds, mains_hz=mains, batch_s=opts.batch_s
    )
