"""Training programs: TOML data files parsed with tomllib and validated into frozen dataclasses.

A program is a list of exercises; each has plain-word instructions, a target band per
muscle, work/rest timings, reps and sets, and a success rule for a rep. The shipped
programs live in ``emgfeedback/training/programs/``; a file in the user's programs folder
(:func:`emgfeedback.paths.programs_dir`) with the same name replaces a shipped one. The
format is documented in ``docs/programs.md``; a malformed file raises :class:`ProgramError`
with one line naming the file and the field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from emgfeedback import paths
from emgfeedback.config import Band
from emgfeedback.errors import ProgramError, SettingsError
from emgfeedback.muscles import muscle_kind

SCHEMA = 1
#: What a muscle may be doing for a sample to count toward a rep's success.
CONDITIONS = ("in", "not_over", "not_below", "below", "over", "any")
#: Allowed ranges (inclusive) of the numeric exercise fields (seconds, or counts for reps/sets).
LIMITS: dict[str, tuple[float, float]] = {
    "setup_s": (0.0, 300.0),
    "work_s": (1.0, 600.0),
    "rest_s": (0.0, 600.0),
    "reps": (1, 50),
    "sets": (1, 20),
    "set_rest_s": (0.0, 900.0),
}
DEFAULTS: dict[str, float] = {"setup_s": 10.0, "rest_s": 10.0, "reps": 1, "sets": 1, "set_rest_s": 60.0}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_MUSCLE = re.compile(r"^[a-z][a-z_]*$")


@dataclass(frozen=True)
class SuccessRule:
    """A rep succeeds when at least ``min_pct`` % of its samples meet every condition at once.

    ``conditions`` maps a muscle (a kind such as ``hamstring``, or a channel name such as
    ``hamstring_left``) to one of :data:`CONDITIONS`; a kind applies to every channel of it.
    """

    min_pct: float = 70.0
    conditions: tuple[tuple[str, str], ...] = (("hamstring", "in"), ("glute_max", "not_over"))

    def describe(self) -> str:
        """``>= 70 % of the rep with hamstring in band and glute_max not over``."""
        words = {"in": "in band", "not_over": "not over", "not_below": "not below", "below": "below", "over": "over"}
        parts = [f"{m} {words[c]}" for m, c in self.conditions if c != "any"]
        return f">= {self.min_pct:g} % of the rep with " + (" and ".join(parts) if parts else "any activity")


@dataclass(frozen=True)
class Exercise:
    """One exercise: instructions, target bands per muscle, timings and the success rule."""

    name: str
    position: str
    feel: str
    mistake: str
    work_s: float
    rest_s: float = 10.0
    reps: int = 1
    sets: int = 1
    set_rest_s: float = 60.0
    setup_s: float = 10.0
    bands: tuple[tuple[str, Band], ...] = ()
    success: SuccessRule = field(default_factory=SuccessRule)

    def band_for(self, channel: str, default: Band) -> Band:
        """The target band of a channel: its own entry, else its kind's, else ``default``."""
        table = dict(self.bands)
        return table.get(channel) or table.get(muscle_kind(channel)) or default

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "position": self.position,
            "feel": self.feel,
            "mistake": self.mistake,
            "setup_s": self.setup_s,
            "work_s": self.work_s,
            "rest_s": self.rest_s,
            "reps": self.reps,
            "sets": self.sets,
            "set_rest_s": self.set_rest_s,
            "bands": {m: [b.low, b.high] for m, b in self.bands},
            "success": {"min_pct": self.success.min_pct, **dict(self.success.conditions)},
            "success_text": self.success.describe(),
        }


@dataclass(frozen=True)
class Program:
    """A named list of exercises, with the countdown before every rep."""

    name: str
    title: str
    description: str
    exercises: tuple[Exercise, ...]
    ready_s: float = 3.0
    source: str = "built-in"

    @property
    def duration_s(self) -> float:
        """Total length of the timeline, seconds (see :mod:`emgfeedback.training.timeline`)."""
        from emgfeedback.training.timeline import build_timeline

        return build_timeline(self).duration_s

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "duration_s": self.duration_s,
            "ready_s": self.ready_s,
            "source": self.source,
            "exercises": [e.as_dict() for e in self.exercises],
        }


# --- parsing -----------------------------------------------------------------------------


def _fail(where: str, field_: str, problem: str) -> ProgramError:
    return ProgramError(f"{where}: field {field_!r} {problem}")


def _text(table: Mapping[str, Any], key: str, where: str, prefix: str, *, required: bool = True, default: str = "") -> str:
    value = table.get(key, None)
    if value is None:
        if required:
            raise _fail(where, prefix + key, "is missing: add it as a quoted text")
        return default
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, prefix + key, "must be a non-empty quoted text")
    return " ".join(value.split())


def _number(table: Mapping[str, Any], key: str, where: str, prefix: str, base: Mapping[str, float]) -> float:
    value = table.get(key, base.get(key))
    lo, hi = LIMITS[key]
    if value is None:
        raise _fail(where, prefix + key, f"is missing: give a number from {lo:g} to {hi:g}")
    integer = key in ("reps", "sets")
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not float(value).is_integer()):
        raise _fail(where, prefix + key, f"must be {'a whole number' if integer else 'a number'} from {lo:g} to {hi:g}")
    if not lo <= value <= hi:
        raise _fail(where, prefix + key, f"is {value:g}: use {lo:g} to {hi:g}")
    return int(value) if integer else float(value)


def _bands(raw: Any, where: str, prefix: str) -> tuple[tuple[str, Band], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise _fail(where, prefix + "bands", "must be a table of muscle = [low, high]")
    out = []
    for muscle, value in raw.items():
        name = f"{prefix}bands.{muscle}"
        if not _MUSCLE.match(str(muscle)):
            raise _fail(where, name, "is not a muscle name: use a kind (hamstring, glute_max) or a channel (hamstring_left)")
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float) for v in value)):
            raise _fail(where, name, "must be [low, high] in %MVC, e.g. [30, 50]")
        try:
            out.append((str(muscle), Band(float(value[0]), float(value[1]))))
        except SettingsError as exc:
            raise _fail(where, name, f"is invalid ({exc})") from None
    return tuple(out)


def _success(raw: Any, where: str, prefix: str, base: SuccessRule) -> SuccessRule:
    if raw is None:
        return base
    if not isinstance(raw, Mapping):
        raise _fail(where, prefix + "success", 'must be a table: min_pct = 70, hamstring = "in", ...')
    min_pct = raw.get("min_pct", base.min_pct)
    if isinstance(min_pct, bool) or not isinstance(min_pct, int | float) or not 0 <= min_pct <= 100:
        raise _fail(where, prefix + "success.min_pct", "must be a number from 0 to 100")
    conditions = []
    for muscle, cond in raw.items():
        if muscle == "min_pct":
            continue
        name = f"{prefix}success.{muscle}"
        if not _MUSCLE.match(str(muscle)):
            raise _fail(where, name, "is not a muscle name: use a kind (hamstring, glute_max) or a channel (hamstring_left)")
        if cond not in CONDITIONS:
            raise _fail(where, name, f"is {cond!r}: use one of {', '.join(CONDITIONS)}")
        conditions.append((str(muscle), str(cond)))
    return SuccessRule(float(min_pct), tuple(conditions) if conditions else base.conditions)


def _exercise(raw: Any, where: str, index: int, resolve: Any) -> Exercise:
    prefix = f"exercise[{index}]."
    if not isinstance(raw, Mapping):
        raise _fail(where, f"exercise[{index}]", "must be a table ([[exercise]])")
    base: Exercise | None = None
    if "from" in raw:
        ref = raw["from"]
        if not isinstance(ref, str):
            raise _fail(where, prefix + "from", "must be the quoted name of another program")
        base = resolve(ref, where, prefix + "from")
    known = {"from", "name", "position", "feel", "mistake", "bands", "success", *LIMITS}
    for key in raw:
        if key not in known:
            raise _fail(where, prefix + key, f"is not known: use {', '.join(sorted(known))}")
    numbers: dict[str, float] = dict(DEFAULTS)
    if base is not None:
        numbers.update({k: getattr(base, k) for k in LIMITS})
    req = base is None
    return Exercise(
        name=_text(raw, "name", where, prefix, required=req, default=base.name if base else ""),
        position=_text(raw, "position", where, prefix, required=req, default=base.position if base else ""),
        feel=_text(raw, "feel", where, prefix, required=req, default=base.feel if base else ""),
        mistake=_text(raw, "mistake", where, prefix, required=req, default=base.mistake if base else ""),
        work_s=_number(raw, "work_s", where, prefix, numbers),
        rest_s=_number(raw, "rest_s", where, prefix, numbers),
        reps=int(_number(raw, "reps", where, prefix, numbers)),
        sets=int(_number(raw, "sets", where, prefix, numbers)),
        set_rest_s=_number(raw, "set_rest_s", where, prefix, numbers),
        setup_s=_number(raw, "setup_s", where, prefix, numbers),
        bands=_bands(raw.get("bands"), where, prefix) if "bands" in raw or base is None else base.bands,
        success=_success(raw.get("success"), where, prefix, base.success if base else SuccessRule()),
    )


def parse_program(data: Mapping[str, Any], *, name: str, where: str, resolve: Any = None) -> Program:
    """Validate a parsed TOML table into a :class:`Program`; ``where`` names the file in errors."""
    schema = data.get("schema", SCHEMA)
    if schema != SCHEMA:
        raise _fail(where, "schema", f"is {schema!r}: this emgfeedback reads schema {SCHEMA}")
    known = {"schema", "name", "title", "description", "ready_s", "exercise"}
    for key in data:
        if key not in known:
            raise _fail(where, key, f"is not known: use {', '.join(sorted(known))}")
    pname = data.get("name", name)
    if not isinstance(pname, str) or not _NAME.match(pname):
        raise _fail(where, "name", "must be lower-case letters, digits, - or _ (e.g. first-week)")
    ready = data.get("ready_s", 3.0)
    if isinstance(ready, bool) or not isinstance(ready, int | float) or not 0 <= ready <= 10:
        raise _fail(where, "ready_s", "must be a number of seconds from 0 to 10")
    exercises = data.get("exercise")
    if not isinstance(exercises, list) or not exercises:
        raise _fail(where, "exercise", "is missing: add at least one [[exercise]] table")
    resolver = resolve or (lambda ref, w, f: _first_exercise(ref, w, f, set()))
    parsed = tuple(_exercise(e, where, i, resolver) for i, e in enumerate(exercises))
    for i, ex in enumerate(parsed):
        if ex.rest_s < float(ready) and ex.reps > 1:
            raise _fail(where, f"exercise[{i}].rest_s", f"is shorter than the {float(ready):g} s countdown: lengthen it")
    return Program(
        name=pname,
        title=_text(data, "title", where, ""),
        description=_text(data, "description", where, "", required=False),
        exercises=parsed,
        ready_s=float(ready),
        source=where,
    )


# --- finding files -----------------------------------------------------------------------


def shipped_files() -> dict[str, str]:
    """Shipped program name -> TOML text."""
    folder = resources.files("emgfeedback.training.programs")
    return {p.name[:-5]: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.name.endswith(".toml")}


def user_files() -> dict[str, Path]:
    """User program name -> file, from the user's programs folder."""
    return {p.stem: p for p in sorted(paths.programs_dir().glob("*.toml"))}


def _read(name: str) -> tuple[str, str]:
    """(TOML text, where) of the program called ``name``: the user's file first, then the shipped one."""
    user = user_files()
    if name in user:
        return user[name].read_text(encoding="utf-8"), str(user[name])
    shipped = shipped_files()
    if name in shipped:
        return shipped[name], f"built-in program {name}"
    names = ", ".join(sorted({*shipped, *user}))
    raise ProgramError(f"no training program named {name!r}: use one of {names} (see `emgfeedback programs`)")


def _toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProgramError(f"{where}: not valid TOML ({exc}): fix the file") from None


def _first_exercise(ref: str, where: str, field_: str, seen: set[str]) -> Exercise:
    """The first exercise of program ``ref`` (for ``from = "NAME"``), refusing cycles."""
    if ref in seen:
        raise _fail(where, field_, f"refers back to {ref!r}: programs cannot include each other in a circle")
    try:
        text, ref_where = _read(ref)
    except ProgramError:
        raise _fail(where, field_, f"names {ref!r}, which is not a program (see `emgfeedback programs`)") from None
    nxt = {*seen, ref}
    program = parse_program(
        _toml(text, ref_where), name=ref, where=ref_where, resolve=lambda r, w, f: _first_exercise(r, w, f, nxt)
    )
    return program.exercises[0]


def load_program(name_or_path: str) -> Program:
    """A program by name (user folder, then shipped) or by a path to a ``.toml`` file."""
    path = Path(name_or_path)
    if name_or_path.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise ProgramError(f"program file {name_or_path} does not exist: check the path")
        text, where, name = path.read_text(encoding="utf-8"), str(path), path.stem
    else:
        text, where = _read(name_or_path)
        name = name_or_path
    return parse_program(_toml(text, where), name=name, where=where, resolve=lambda r, w, f: _first_exercise(r, w, f, {name}))


def all_programs() -> list[Program]:
    """Every program (shipped and the user's), sorted by name; a broken user file raises its one line."""
    names = sorted({*shipped_files(), *user_files()})
    return [load_program(n) for n in names]


def loadable_programs() -> tuple[list[Program], list[str]]:
    """The programs that load, and one line for each file that does not (for pickers and lists)."""
    programs, errors = [], []
    for name in sorted({*shipped_files(), *user_files()}):
        try:
            programs.append(load_program(name))
        except ProgramError as exc:
            errors.append(str(exc))
    return programs, errors


def with_exercise(program: Program, index: int, **changes: Any) -> Program:
    """A copy with one exercise changed (for tests and quick variants)."""
    exercises = list(program.exercises)
    exercises[index] = replace(exercises[index], **changes)
    return replace(program, exercises=tuple(exercises))
