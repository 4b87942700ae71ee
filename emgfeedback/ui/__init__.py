"""Qt user interface: the live dashboard, its widgets, audio cues and the calibration wizard."""
