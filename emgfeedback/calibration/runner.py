"""Raw samples -> the live chain -> the calibration machine: what the CLI and tests drive."""

from __future__ import annotations

import numpy as np

from emgfeedback.calibration.machine import CalibrationMachine, Event, Policy
from emgfeedback.calibration.plan import CalibrationPlan
from emgfeedback.config import FilterSpec, StreamInfo
from emgfeedback.dsp.pipeline import Pipeline


class CalibrationRun:
    """A :class:`CalibrationMachine` fed through its own :class:`Pipeline` (the same chain as live).

    ``scale`` is the counts -> units factor live will use; the profile's values are in those units.
    """

    def __init__(
        self,
        plan: CalibrationPlan,
        spec: FilterSpec,
        info: StreamInfo,
        *,
        scale: float | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.spec = spec
        self.info = info
        self.scale = scale
        self.pipeline = Pipeline(spec, scale=scale)
        self.machine = CalibrationMachine(plan, spec, info, policy=policy)

    def feed(self, raw: np.ndarray) -> list[Event]:
        """Process raw samples (source units) and advance the machine."""
        out = self.pipeline.process(raw)
        return self.machine.feed(out.envelope, raw)
