"""Muscle names: the channels a user maps, their kind (glute max / hamstring) and side."""

from __future__ import annotations

#: The standard placement: high hamstring and glute max, both sides (also the simulated board's order).
STANDARD = ("glute_max_left", "hamstring_left", "glute_max_right", "hamstring_right")
KINDS = {"glute_max": "Glute max", "hamstring": "High hamstring"}


def muscle_kind(name: str) -> str:
    """``glute_max_left`` -> ``glute_max``; names without a side are their own kind."""
    return name.rsplit("_", 1)[0] if name.endswith(("_left", "_right")) else name


def muscle_side(name: str) -> str:
    """``left``, ``right`` or ``""``."""
    return name.rsplit("_", 1)[1] if name.endswith(("_left", "_right")) else ""


def display_name(name: str) -> str:
    """``glute_max_left`` -> ``Glute max, left`` (for prompts and labels)."""
    kind = KINDS.get(muscle_kind(name), muscle_kind(name).replace("_", " ").capitalize())
    side = muscle_side(name)
    return f"{kind}, {side}" if side else kind


def is_hamstring(name: str) -> bool:
    return muscle_kind(name) == "hamstring"


def is_glute(name: str) -> bool:
    return muscle_kind(name) == "glute_max"


def has_synergy(names: list[str] | tuple[str, ...]) -> bool:
    """Whether "hamstring in band while the glute max is not over-clenching" means anything for these
    muscles: it needs at least one high hamstring and one glute max."""
    return any(is_hamstring(n) for n in names) and any(is_glute(n) for n in names)


def short_name(name: str) -> str:
    """``glute_max_left`` -> ``Glute L`` (for a crowded status bar)."""
    kind = {"glute_max": "Glute", "hamstring": "Ham"}.get(muscle_kind(name), muscle_kind(name)[:6])
    side = muscle_side(name)
    return f"{kind} {side[0].upper()}" if side else kind
