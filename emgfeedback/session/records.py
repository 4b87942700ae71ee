"""What the store hands out: a session's row, its events and chunk rows; standard JSON for what it stores."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

#: Stream kinds stored per sample; every flush writes one row of each with the same start and count.
KINDS = ("raw", "envelope", "percent", "state")
STATUSES = ("recording", "complete", "interrupted")


@dataclass(frozen=True)
class SessionInfo:
    """One session's row; ``status`` is the effective one (a dead writer reads as interrupted)."""

    id: int
    created: float
    status: str
    fs: float
    muscles: tuple[str, ...]
    first_index: int | None
    end_index: int | None
    profile: str | None
    person: str | None
    pid: int | None
    host: str | None
    heartbeat: float | None
    ended: float | None
    meta: dict[str, Any] = field(default_factory=dict)
    stored_status: str = ""

    @property
    def channels(self) -> int:
        return len(self.muscles)

    @property
    def samples(self) -> int:
        """Samples spanned (first to last committed, gaps included)."""
        if self.first_index is None or self.end_index is None:
            return 0
        return max(self.end_index - self.first_index, 0)

    @property
    def duration_s(self) -> float:
        return self.samples / self.fs

    @property
    def started(self) -> datetime:
        """Local wall-clock time of the first sample."""
        return datetime.fromtimestamp(self.created).astimezone()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "date": self.started.isoformat(timespec="seconds"),
            "duration_s": self.duration_s,
            "status": self.status,
            "fs": self.fs,
            "muscles": list(self.muscles),
            "profile": self.profile,
            "person": self.person,
            "first_index": self.first_index,
            "end_index": self.end_index,
        }


@dataclass(frozen=True)
class EventRow:
    """A stored event: kind, absolute sample index (or None), wall time and JSON data."""

    kind: str
    index: int | None
    wall: float | None
    data: dict[str, Any]


@dataclass(frozen=True)
class ChunkRow:
    """Samples ``start .. start + len(data)`` of one kind, shape (count, channels)."""

    start: int
    data: np.ndarray

    @property
    def stop(self) -> int:
        return self.start + int(self.data.shape[0])


def json_safe(value: Any) -> Any:
    """NaN and infinities become None so the stored JSON is standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return json_safe(value.item())
    return value


def dumps(value: Any) -> str:
    """Standard JSON (no NaN) for the store."""
    return json.dumps(json_safe(value), separators=(",", ":"), allow_nan=False)
