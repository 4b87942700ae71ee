"""Rep success: the share of a rep's samples whose band states meet every condition of the rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from emgfeedback.feedback import State
from emgfeedback.muscles import muscle_kind
from emgfeedback.training.program import SuccessRule

#: Which states satisfy each condition.
_OK: dict[str, tuple[State, ...]] = {
    "in": (State.IN,),
    "not_over": (State.BELOW, State.IN),
    "not_below": (State.IN, State.OVER),
    "below": (State.BELOW,),
    "over": (State.OVER,),
    "any": (State.BELOW, State.IN, State.OVER, State.UNKNOWN),
}


def resolve(rule: SuccessRule, names: Sequence[str]) -> list[tuple[int, str]]:
    """(channel, condition) pairs: a kind applies to every channel of that kind; absent muscles drop out."""
    out = []
    for muscle, cond in rule.conditions:
        for c, name in enumerate(names):
            if name == muscle or muscle_kind(name) == muscle:
                out.append((c, cond))
    return out


@dataclass(frozen=True)
class RepResult:
    """How a rep went: ``pct`` of its samples met the rule; ``success`` when pct >= the rule's min."""

    samples: int
    good: int
    min_pct: float
    evaluated: bool

    @property
    def pct(self) -> float:
        return 100.0 * self.good / self.samples if self.samples else 0.0

    @property
    def success(self) -> bool | None:
        if not self.evaluated:
            return None
        return self.samples > 0 and self.pct >= self.min_pct

    def as_dict(self) -> dict[str, object]:
        return {"success": self.success, "success_pct": self.pct, "success_min_pct": self.min_pct}


class RepEvaluator:
    """Counts, over one rep, the samples where every resolved condition holds at once."""

    def __init__(self, rule: SuccessRule, names: Sequence[str]) -> None:
        self.rule = rule
        self.pairs = resolve(rule, names)
        self.samples = 0
        self.good = 0

    def update(self, states: np.ndarray) -> None:
        """Add a block of band states (n, channels)."""
        n = states.shape[0]
        if n == 0:
            return
        ok = np.ones(n, dtype=bool)
        for c, cond in self.pairs:
            ok &= np.isin(states[:, c], [int(s) for s in _OK[cond]])
        self.samples += n
        self.good += int(np.count_nonzero(ok))

    def result(self) -> RepResult:
        return RepResult(self.samples, self.good, self.rule.min_pct, evaluated=bool(self.pairs))
