"""What a calibration will do: which muscle on which channel, with which protocol, in which order."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from emgfeedback.calibration.protocol import MvcProtocol, user_protocols_dir
from emgfeedback.config import StreamInfo
from emgfeedback.errors import ProtocolError, SettingsError
from emgfeedback.muscles import display_name, muscle_kind

#: Seconds at the start of the baseline that are not measured (filters and the envelope window settle).
SETTLE_S = 1.0


@dataclass(frozen=True)
class MuscleTest:
    """One muscle to calibrate: its name, the stream channel it is on, and its protocol."""

    name: str
    channel: int
    protocol: MvcProtocol

    @property
    def label(self) -> str:
        """``Glute max, left``: what prompts call it."""
        return display_name(self.name)


@dataclass(frozen=True)
class CalibrationPlan:
    """The muscles in the order they are tested (by channel) and the shared rest baseline."""

    tests: tuple[MuscleTest, ...]
    settle_s: float = SETTLE_S

    def __post_init__(self) -> None:
        if not self.tests:
            raise SettingsError("no muscles to calibrate: map at least one, e.g. --muscles hamstring_left=0")
        names = [t.name for t in self.tests]
        channels = [t.channel for t in self.tests]
        for seen, what in ((names, "muscle"), (channels, "channel")):
            dup = next((x for x in seen if seen.count(x) > 1), None)
            if dup is not None:
                raise SettingsError(f"{what} {dup} appears twice in the muscle map: give each muscle its own channel")

    @property
    def baseline_s(self) -> float:
        """The measured rest baseline: the longest any protocol asks for."""
        return max(t.protocol.timing.rest_baseline_s for t in self.tests)

    @property
    def muscles(self) -> dict[str, int]:
        return {t.name: t.channel for t in self.tests}

    @property
    def total_trials(self) -> int:
        return sum(t.protocol.timing.trials for t in self.tests)

    def duration_s(self) -> float:
        """How long the calibration takes when no trial is repeated."""
        total = self.settle_s + self.baseline_s
        for i, test in enumerate(self.tests):
            tm = test.protocol.timing
            total += tm.trials * (tm.countdown_s + tm.contract_s) + tm.relax_s * (tm.trials - 1)
            if i + 1 < len(self.tests):
                total += tm.relax_s
        return total

    def protocols(self) -> list[MvcProtocol]:
        """The distinct protocols used, in test order."""
        out: dict[str, MvcProtocol] = {}
        for t in self.tests:
            out.setdefault(t.protocol.muscle, t.protocol)
        return list(out.values())

    @classmethod
    def build(
        cls,
        muscles: Mapping[str, int],
        protocols: Mapping[str, MvcProtocol],
        *,
        channels: int | None = None,
        rest_between_s: float | None = None,
        trials: int | None = None,
        settle_s: float = SETTLE_S,
    ) -> CalibrationPlan:
        """A plan for ``muscles`` (name -> channel), taking each muscle's protocol by its kind.

        ``rest_between_s`` and ``trials`` override every protocol's (e.g. short rests for the simulator).
        """
        tests = []
        for name, channel in sorted(muscles.items(), key=lambda kv: kv[1]):
            if channels is not None and not 0 <= channel < channels:
                raise SettingsError(
                    f"muscle {name} is mapped to channel {channel} but the source has channels 0-{channels - 1}: fix --muscles"
                )
            kind = muscle_kind(name)
            proto = protocols.get(kind)
            if proto is None:
                raise ProtocolError(
                    f"no MVC protocol for muscle kind {kind!r} (from {name}): known kinds are "
                    f"{', '.join(sorted(protocols))}; add one with --protocol FILE or in {user_protocols_dir()}"
                )
            if rest_between_s is not None or trials is not None:
                proto = proto.with_timing(rest_between_s=rest_between_s, trials=trials)
            tests.append(MuscleTest(name, channel, proto))
        return cls(tuple(tests), settle_s)


def parse_muscle_map(text: str) -> dict[str, int]:
    """Parse ``glute_max_left=0,hamstring_left=1`` into muscle -> channel."""
    out: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, ch = part.partition("=")
        name = name.strip()
        try:
            channel = int(ch)
        except ValueError:
            channel = -1
        if not sep or not name or channel < 0:
            raise SettingsError(f"muscle map entry {part!r} is not understood: write NAME=CHANNEL, e.g. hamstring_left=1")
        if name in out:
            raise SettingsError(f"muscle {name} is mapped twice: give it one channel")
        out[name] = channel
    if not out:
        raise SettingsError("the muscle map is empty: write e.g. --muscles glute_max_left=0,hamstring_left=1")
    return out


def default_muscles(names: Iterable[str], known_kinds: Iterable[str]) -> dict[str, int] | None:
    """Use the stream's channel names when every one is a muscle of a known kind, else None."""
    kinds = set(known_kinds)
    names = list(names)
    if names and all(muscle_kind(n) in kinds for n in names):
        return {n: i for i, n in enumerate(names)}
    return None


def plan_for(
    info: StreamInfo,
    muscles: Mapping[str, int] | None = None,
    protocols: Mapping[str, MvcProtocol] | None = None,
    *,
    rest_between_s: float | None = None,
) -> CalibrationPlan:
    """A plan for a stream: ``muscles`` (default: its channel names when they are muscle names) with
    ``protocols`` (default: the shipped and user ones)."""
    from emgfeedback.calibration.protocol import available_protocols

    protos = dict(protocols) if protocols is not None else available_protocols()
    mapping = dict(muscles) if muscles is not None else default_muscles(info.names, protos)
    if not mapping:
        raise SettingsError(
            f"the channels ({', '.join(info.names)}) are not muscle names: choose a profile or map the muscles first"
        )
    return CalibrationPlan.build(mapping, protos, channels=info.channels, rest_between_s=rest_between_s)


def samples(seconds: float, fs: float) -> int:
    """A duration in whole samples (rounded, so phase lengths do not drift with fs)."""
    return math.floor(seconds * fs + 0.5)
