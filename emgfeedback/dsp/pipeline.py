"""The whole live chain in one object: guard, scale, offset, band-pass + notch, envelope, %MVC."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emgfeedback.config import FilterSpec, InputMode
from emgfeedback.dsp.envelope import MovingMean, MovingRMS
from emgfeedback.dsp.filters import OffsetRemover, SosFilter, _as_2d, design_chain
from emgfeedback.dsp.guard import SampleGuard
from emgfeedback.dsp.normalize import MvcNormalizer


@dataclass(frozen=True)
class PipelineOutput:
    """One processed chunk: the guarded input, the filtered signal, its envelope and %MVC (NaN without a profile).

    ``raw`` is the input with implausible values held (what is stored and shown); ``held`` counts them.
    """

    filtered: np.ndarray
    envelope: np.ndarray
    percent: np.ndarray
    raw: np.ndarray
    held: int = 0


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
        self.envelope = MovingRMS(width) if self.raw_mode else MovingMean(width)

    @property
    def delay_ms(self) -> float:
        """The envelope's group delay: what the user waits for beyond the wire."""
        return self.spec.envelope_delay_ms

    def process(self, chunk: np.ndarray) -> PipelineOutput:
        before = self.guard.held
        raw = self.guard.process(_as_2d(chunk))
        x = raw
        if self.scale is not None:
            x = x * self.scale
        if self.raw_mode:
            x = self.offset.process(x)
        filtered = self.filter.process(x)
        env = self.envelope.process(filtered)
        pct = np.full_like(env, np.nan) if self.normalizer is None else self.normalizer.process(env)
        return PipelineOutput(filtered, env, pct, raw, self.guard.held - before)

    def reset(self) -> None:
        """Forget all carried state (after a long gap the old state means nothing)."""
        self.guard.reset()
        self.offset.reset()
        self.filter.reset()
        self.envelope.reset()
