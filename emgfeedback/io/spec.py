"""Source specification strings, the same for every command.

``simulated[:SCENARIO]``, ``replay:FILE``, ``lsl:NAME`` (or ``lsl:type=EMG``, ``lsl:source_id=ID``),
``brainflow:BOARD[?key=value&...]``, or a serial port path / pyserial URL
(``/dev/ttyACM0``, ``COM3``, ``loop://``, ``socket://host:port``).
"""

from __future__ import annotations

from dataclasses import dataclass

from emgfeedback.config import DEFAULT_FS, check_fs
from emgfeedback.errors import SourceError
from emgfeedback.io.sources import Source


@dataclass(frozen=True)
class SourceOptions:
    """Options that apply to some kinds of source; the CLI fills them from flags."""

    fs: float | None = None
    channels: int | None = None
    columns: list[int | str] | None = None
    protocol: str = "auto"
    baud: int | None = None
    realtime: bool = True
    seed: int = 0
    loop: bool = False

    def __post_init__(self) -> None:
        if self.fs is not None:  # 0 is refused, not taken as "not given"
            check_fs(self.fs)


def describe_spec(spec: str) -> str:
    """Which kind of source a spec names: simulated, replay, lsl, brainflow or serial."""
    if spec == "simulated" or spec.startswith("simulated:"):
        return "simulated"
    for kind in ("replay", "lsl", "brainflow"):
        if spec.startswith(f"{kind}:"):
            return kind
    return "serial"


def open_source(spec: str, options: SourceOptions | None = None) -> Source:
    """Build (not yet open) the source a spec names."""
    opts = options or SourceOptions()
    kind = describe_spec(spec)
    if opts.columns is not None and kind != "replay":
        raise SourceError(
            f"--columns picks columns of a replayed file, not channels of {spec}: "
            "map the channels you use with --muscles (calibrate) or a profile"
        )
    if kind == "simulated":
        from emgfeedback.io.simulated import SimulatedSource

        scenario = spec.partition(":")[2] or "backbend-hold"
        return SimulatedSource(
            scenario,
            channels=opts.channels if opts.channels is not None else 4,
            fs=opts.fs if opts.fs is not None else DEFAULT_FS,
            seed=opts.seed,
            realtime=opts.realtime,
        )
    if kind == "replay":
        from emgfeedback.io.replay import ReplaySource

        return ReplaySource(spec.partition(":")[2], fs=opts.fs, columns=opts.columns, realtime=opts.realtime, loop=opts.loop)
    if kind == "lsl":
        from emgfeedback.io.lsl_source import LslSource

        return LslSource(spec.partition(":")[2], fs=opts.fs)
    if kind == "brainflow":
        from emgfeedback.io.brainflow_source import BrainflowSource

        return BrainflowSource(spec.partition(":")[2])
    from emgfeedback.io.serial_source import SerialSource

    return SerialSource(spec, protocol=opts.protocol, baud=opts.baud, fs=opts.fs)
