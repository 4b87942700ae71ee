"""Calibration profiles, storage: one owner-only JSON file per electrode placement under the data directory.

Files are written atomically (temp file + ``os.replace``); a broken file is reported, never used.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

from emgfeedback import paths
from emgfeedback.calibration.profile_model import Profile, slugify
from emgfeedback.calibration.profile_parsing import parse_profile
from emgfeedback.errors import ProfileError
from emgfeedback.private_files import remove_stale_parts, write_private


def profile_path(name: str) -> Path:
    """Where the profile called ``name`` is (or would be) stored."""
    return paths.profiles_dir() / f"{slugify(name)}.json"


def read_profile_file(path: str | Path) -> Profile:
    """Read one profile file; corrupt or hand-broken files give a one-line :class:`ProfileError` naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile file: check the name with 'emgfeedback profiles list'") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot be read ({exc}): check its permissions or delete it") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(
            f"{path}: is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): fix or delete the file"
        ) from None
    profile = parse_profile(data, str(path))
    return replace(profile, path=path)


def save_profile(profile: Profile, *, overwrite: bool = True, path: Path | None = None) -> Path:
    """Write ``profile`` atomically, owner-only; refuse to overwrite another name's file with the same slug.

    ``path`` saves it to that file instead of the profiles folder. A failed write (disk full,
    read-only) raises the OSError and leaves no temporary file behind.
    """
    if path is None:
        path = profile_path(profile.name)
        if path.exists():
            try:
                existing = read_profile_file(path).name
            except ProfileError:
                existing = None  # a broken file with our slug: replace it
            if existing is not None and existing != profile.name:
                raise ProfileError(
                    f"profile {existing!r} is already stored as {path.name}: choose a name that differs in letters or digits"
                )
            if existing is not None and not overwrite:
                raise ProfileError(f"profile {profile.name!r} exists: delete it first or choose another name")
    return write_private(path, profile_json(profile).encode("utf-8"))


def profile_json(profile: Profile) -> str:
    """The profile file's text."""
    return json.dumps(profile.to_dict(), indent=2, allow_nan=False) + "\n"


def scan_profiles() -> list[tuple[Path, Profile | None, str | None]]:
    """Every profile file: (path, profile or None, error message or None), sorted by file name."""
    out: list[tuple[Path, Profile | None, str | None]] = []
    folder = paths.profiles_dir()
    remove_stale_parts(folder, legacy_glob=".*.tmp")  # profile writes of a run that was killed
    for path in sorted(folder.glob("*.json")):
        try:
            out.append((path, read_profile_file(path), None))
        except ProfileError as exc:
            out.append((path, None, str(exc)))
    return out


def list_profiles() -> list[Profile]:
    """The readable profiles, sorted by display name (see :func:`scan_profiles` for the broken ones)."""
    return sorted((p for _, p, _ in scan_profiles() if p is not None), key=lambda p: p.name.lower())


def find_profile_path(name: str) -> Path:
    """The file of the profile called ``name`` (display name, its slug, or a path to a .json file)."""
    candidate = Path(name).expanduser()
    if (name.endswith(".json") or os.sep in name) and candidate.is_file():
        return candidate
    path = profile_path(name)
    if path.is_file():
        return path
    for file, profile, _ in scan_profiles():
        if profile is not None and profile.name.lower() == " ".join(name.split()).lower():
            return file
    known = ", ".join(repr(p.name) for p in list_profiles()) or "none yet"
    raise ProfileError(f"no profile named {name!r} (known: {known}): calibrate one with 'emgfeedback calibrate --name ...'")


def load_profile(name: str) -> Profile:
    """Load a profile by display name, slug or path."""
    return read_profile_file(find_profile_path(name))


def delete_profile(name: str) -> Path:
    """Delete a profile by display name, slug or path (a broken file too); returns the path removed."""
    path = find_profile_path(name)
    path.unlink()
    return path
