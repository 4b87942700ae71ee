"""The whole live chain in one object: scale, offset, band-pass + notch, envelope, %MVC."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emgfeedback.config import FilterSpec, InputMode
from emgfeedback.dsp.envelope import MovingMean, MovingRMS
from emgfeedback.dsp.filters import OffsetRemover, SosFilter, _as_2d, design_chain
from emgfeedback.dsp.normalize import MvcNormalizer


@dataclass(frozen=True)
class PipelineOutput:
    """One processed chunk: the filtered signal, its envelope and %MVC (NaN without a profile)."""

    filtered: np.ndarray
    envelope: np.ndarray
    percent: np.ndarray


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
        self.envelope = MovingRMS(width) if self.raw_mode else MovingMean(width)

    @property
    def delay_ms(self) -> float:
        """The envelope's group delay: what the user waits for beyond the wire."""
        return self.spec.envelope_delay_ms

    def process(self, chunk: np.ndarray) -> PipelineOutput:
        x = _as_2d(chunk)
        if self.scale is not None:
            x = x * self.scale
        if self.raw_mode:
            x = self.offset.process(x)
        filtered = self.filter.process(x)
        env = self.envelope.process(filtered)
        pct = np.full_like(env, np.nan) if self.normalizer is None else self.normalizer.process(env)
        return PipelineOutput(filtered, env, pct)

    def reset(self) -> None:
        """Forget all carried state (after a long gap the old state means nothing)."""
        self.offset.reset()
        self.filter.reset()
        self.envelope.reset()
