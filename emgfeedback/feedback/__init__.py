"""Feedback semantics, no Qt: band states with hysteresis and dwell, hold statistics, cue decisions.

All of it runs on blocks of %MVC samples with absolute indices, vectorized, and gives
the same answer whatever the block sizes, so the dashboard, the recorder, exports and
tests agree to the sample.
"""

from emgfeedback.feedback.cues import Cue, CueEngine, CueEvent
from emgfeedback.feedback.engine import FeedbackEngine, FeedbackUpdate
from emgfeedback.feedback.holds import HoldSummary, HoldTracker, MuscleHoldStats
from emgfeedback.feedback.states import SEQUENTIAL_Z, BandClassifier, Classifier, SequentialClassifier, State, make_classifier

__all__ = [
    "SEQUENTIAL_Z",
    "BandClassifier",
    "Classifier",
    "Cue",
    "CueEngine",
    "CueEvent",
    "FeedbackEngine",
    "FeedbackUpdate",
    "HoldSummary",
    "HoldTracker",
    "MuscleHoldStats",
    "SequentialClassifier",
    "State",
    "make_classifier",
]
