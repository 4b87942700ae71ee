"""The whole live chain in one object: guard, scale, offset, band-pass + notch, envelope, %MVC."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emgfeedback.config import Envelope, FilterSpec, InputMode
from emgfeedback.dsp.adaptive_envelope import AdaptiveRMS
from emgfeedback.dsp.envelope import MovingMean, MovingRMS
from emgfeedback.dsp.filters import OffsetRemover, SosFilter, _as_2d, design_chain
from emgfeedback.dsp.guard import SampleGuard
from emgfeedback.dsp.latency import cue_latency_ms
from emgfeedback.dsp.normalize import MvcNormalizer


@dataclass(frozen=True)
class PipelineOutput:
    """One processed chunk: the guarded input, the filtered signal, its envelope and %MVC (NaN without a profile).

    ``raw`` is the input with implausible values held (what is stored and shown); ``held`` counts them.
    ``spread`` is the envelope's relative standard error per sample, from estimators that know it
    (None for a moving window): the band decision of those estimators sets its hysteresis from it.
    """

    filtered: np.ndarray
    envelope: np.ndarray
    percent: np.ndarray
    raw: np.ndarray
    held: int = 0
    spread: np.ndarray | None = None


class Pipeline:
    """Causal streaming chain for all channels at once; chunked equals one-shot.

    Non-finite and absurd input values (outside ``limits``, see :mod:`~emgfeedback.dsp.guard`)
    are held at the channel's last plausible value before any filter state sees them.
    ``scale`` then multiplies the input (e.g. ADC counts to microvolts) so the envelope
    comes out in the unit the profile was made in.
    """

    def __init__(
        self,
        spec: FilterSpec,
        *,
        normalizer: MvcNormalizer | None = None,
        scale: float | None = None,
        limits: tuple[float, float] | None = None,
    ) -> None:
        self.spec = spec
        self.guard = SampleGuard(limits) if limits is not None else SampleGuard()
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
        before = self.guard.held
        raw = self.guard.process(_as_2d(chunk))
        x = raw
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
        return PipelineOutput(filtered, env, pct, raw, self.guard.held - before, spread)

    def reset(self) -> None:
        """Forget all carried state (after a long gap the old state means nothing)."""
        self.guard.reset()
        self.offset.reset()
        self.filter.reset()
        self.envelope.reset()
