"""Streaming signal processing: stages with carried state, arrays shaped (samples, channels).

Each stage has ``process(chunk) -> chunk`` and keeps whatever it needs between
calls, so processing a signal chunk by chunk equals processing it at once.
"""

from emgfeedback.dsp.envelope import MovingMean, MovingRMS
from emgfeedback.dsp.filters import OffsetRemover, SosFilter, design_chain
from emgfeedback.dsp.normalize import MvcNormalizer
from emgfeedback.dsp.pipeline import Pipeline, PipelineOutput
from emgfeedback.dsp.quality import QualityMonitor, QualityReport

__all__ = [
    "MovingMean",
    "MovingRMS",
    "MvcNormalizer",
    "OffsetRemover",
    "Pipeline",
    "PipelineOutput",
    "QualityMonitor",
    "QualityReport",
    "SosFilter",
    "design_chain",
]
