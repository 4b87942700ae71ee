"""The whole live chain in one object: scale, offset, band-pass + notch, envelope, %MVC."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emgfeedback.config import Envelope, FilterSpec, InputMode
from emgfeedback.dsp.adaptive_envelope import AdaptiveRMS
from emgfeedback.dsp.envelope import MovingMean, MovingRMS
from emgfeedback.dsp.filters import OffsetRemover, SosFilter, _as_2d, design_chain
from emgfeedback.dsp.latency import cue_latency_ms
from emgfeedback.dsp.normalize import MvcNormalizer


@dataclass(frozen=True)
class PipelineOutput:
    """One processed chunk: the filtered signal, its envelope and %MVC (NaN without a profile).

    ``spread`` is the envelope's relative standard error per sample, from estimators that know it
    (None for a moving window): the band decision of those estimators sets its hysteresis from it.
    """

    filtered: np.ndarray
    envelope: np.ndarray
    percent: np.ndarray
    spread: np.ndarray | None = None


class Pipeline:
    """Causal streaming chain for all channels at once; chunked equals one-shot.

    ``scale`` multiplies the input first (e.g. ADC counts to microvolts) so the
    envelope comes out in the unit the profile was made in.
    """

    def __init__(self, spec: FilterSpec, *, normalizer: MvcNormalizer | None = None, scale: float | None = None) -> None:
        self.spec = spec
        self.scale = scale
        self.normalizer = normalizer
        self.raw_mode = spec.input_mode is InputMode.RAW
        self.offset = OffsetRemover()
        self.filter = SosFilter(design_chain(spec))
        width = spec.window_samples
        self.adaptive = AdaptiveRMS(spec.fs) if spec.estimator is Envelope.ADAPTIVE else None
        self.envelope: MovingRMS | MovingMean | AdaptiveRMS
        if self.adaptive is not None:
            self.envelope = self.adaptive
        else:
            self.envelope = MovingRMS(width) if self.raw_mode else MovingMean(width)

    @property
    def delay_ms(self) -> float:
        """The envelope's group delay (half a moving window; a block for the adaptive estimator)."""
        if self.adaptive is not None:
            return 1000.0 * self.adaptive.block / self.spec.fs
        return self.spec.envelope_delay_ms

    @property
    def cue_latency_ms(self) -> float:
        """What the user really waits beyond the wire: the measured median from a crossing to its cue."""
        return cue_latency_ms(self.spec)

    def process(self, chunk: np.ndarray) -> PipelineOutput:
        x = _as_2d(chunk)
        if self.scale is not None:
            x = x * self.scale
        if self.raw_mode:
            x = self.offset.process(x)
        filtered = self.filter.process(x)
        spread = None
        if self.adaptive is not None:
            env, spread = self.adaptive.process_with_error(filtered)
        else:
            env = self.envelope.process(filtered)
        pct = np.full_like(env, np.nan) if self.normalizer is None else self.normalizer.process(env)
        return PipelineOutput(filtered, env, pct, spread)

    def reset(self) -> None:
        """Forget all carried state (after a long gap the old state means nothing)."""
        self.offset.reset()
        self.filter.reset()
        self.envelope.reset()
