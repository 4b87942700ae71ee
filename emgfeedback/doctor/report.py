"""The doctor's result: one :class:`Check` per line, the :class:`Report` table and its verdict."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

#: Where the per-system install steps live; every fix list ends by pointing there.
INSTALL_DOCS = "docs/install.md"


class Status(enum.StrEnum):
    """A check's outcome. Only FAIL makes ``doctor`` exit 1."""

    OK = "ok"
    WARN = "warn"  # works, but something is missing or off that a user may need
    FAIL = "fail"  # something emgfeedback needs is broken
    INFO = "info"  # optional (developer tools), or not applicable here


@dataclass(frozen=True)
class Check:
    """One line of the doctor's table."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.value, "detail": self.detail, "fix": self.fix}


@dataclass
class Report:
    """Every check's result, and the verdict."""

    checks: list[Check] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(c.status is Status.FAIL for c in self.checks)

    def count(self, status: Status) -> int:
        return sum(c.status is status for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {**self.header, "ok": self.ok, "checks": [c.as_dict() for c in self.checks]}

    def text(self) -> str:
        """The pass/fail table, then the fix of every check that needs one."""
        width = max([len(c.name) for c in self.checks] + [5])
        lines = [" ".join(f"{k} {v}" for k, v in self.header.items()), "", f"{'CHECK':<{width}}  STATUS  DETAIL"]
        lines += [f"{c.name:<{width}}  {c.status.value:<6}  {c.detail}" for c in self.checks]
        fixes = [c for c in self.checks if c.fix and c.status in (Status.FAIL, Status.WARN)]
        if fixes:
            lines += ["", "to fix:"]
            lines += [f"  {c.name} ({c.status.value}): {c.fix}" for c in fixes]
            lines += [f"  more help for this system: {INSTALL_DOCS}"]
        fails, warns = self.count(Status.FAIL), self.count(Status.WARN)
        verdict = "everything emgfeedback needs works" if self.ok else "emgfeedback needs the fixes above"
        lines += ["", f"{fails} failure(s), {warns} warning(s): {verdict}"]
        return "\n".join(lines)
