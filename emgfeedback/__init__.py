"""emgfeedback: surface-EMG muscle-activation biofeedback for backbend training."""

__version__ = "0.1.0"
