"""Front-end presets: name the sensor board instead of tuning filters.

A preset fixes the input mode, the pass band and the factor that turns ADC counts
into microvolts at the skin (when the board's gain is known).
"""

from __future__ import annotations

from dataclasses import dataclass

from emgfeedback.config import FilterSpec, InputMode
from emgfeedback.errors import SettingsError


@dataclass(frozen=True)
class FrontEnd:
    """One sensor board: its gain, output kind and the band that fits its analog filters."""

    name: str
    description: str
    gain: float | None  # total voltage gain skin -> ADC pin; None when unknown
    input_mode: InputMode = InputMode.RAW
    band_low_hz: float = 20.0
    band_high_hz: float | None = None
    rest_volts: float | None = None  # where the output rests (for the electrode-off check)

    def counts_to_uv(self, adc_bits: int = 10, vref_mv: float = 5000.0) -> float | None:
        """Microvolts at the skin per ADC count, or None when the gain is unknown."""
        if self.gain is None:
            return None
        volts_per_count = vref_mv / 1000.0 / ((1 << adc_bits) - 1)
        return volts_per_count / self.gain * 1e6

    def filter_spec(self, base: FilterSpec | None = None) -> FilterSpec:
        """The base spec with this board's input mode and band applied."""
        base = base or FilterSpec()
        return base.with_(input_mode=self.input_mode, band_low_hz=self.band_low_hz, band_high_hz=self.band_high_hz)


def myoware_env(resistor_kohm: float = 50.0) -> FrontEnd:
    """MyoWare 2.0 ENV pin: gain 200 x (1 + R/1 kOhm), already an envelope."""
    if resistor_kohm < 0:
        raise SettingsError(f"gain resistor {resistor_kohm} kOhm is negative: give the pot value in kOhm")
    return FrontEnd(
        name="myoware-env",
        description=f"MyoWare 2.0 ENV output (analog envelope, gain 200 x (1 + {resistor_kohm:g}))",
        gain=200.0 * (1.0 + resistor_kohm),
        input_mode=InputMode.PRE_RECTIFIED,
    )


PRESETS: dict[str, FrontEnd] = {
    "generic": FrontEnd("generic", "Generic raw sEMG front end, gain unknown (values stay in ADC counts)", gain=None),
    "myoware-raw": FrontEnd(
        "myoware-raw",
        "MyoWare 2.0 RAW output (gain 200, centred on REF = Vs/2): the pin to use for true RMS",
        gain=200.0,
        rest_volts=2.5,
    ),
    "myoware-env": myoware_env(),
    "olimex": FrontEnd(
        "olimex",
        "Olimex SHIELD-EKG-EMG (gain ~2800, analog low-pass ~40 Hz: band 10-38 Hz)",
        gain=2800.0,
        band_low_hz=10.0,
        band_high_hz=38.0,
        rest_volts=2.5,
    ),
    "grove": FrontEnd(
        "grove",
        "Grove EMG detector (conditioned output resting near 1.5 V), treated as an envelope",
        gain=None,
        input_mode=InputMode.PRE_RECTIFIED,
        rest_volts=1.5,
    ),
    "simulated": FrontEnd(
        "simulated", "The built-in simulated sensor (gain 1000, centred on mid-scale)", gain=1000.0, rest_volts=2.5
    ),
}


def get_frontend(name: str) -> FrontEnd:
    """Look a preset up by name, with a one-line error listing the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise SettingsError(f"unknown front end {name!r}: use one of {', '.join(PRESETS)}") from None
