"""Where ``calibrate`` saves its profile: checked before the trials start, and never lost after them.

Before the trials: the folder must be writable and have room. After them, if saving still fails
(the disk filled meanwhile), the result is kept: a terminal user is asked for another path, a
script gets it in a file under the temporary folder, and if nothing can be written at all the
profile is printed on stdout as JSON. Either way one line says where it is.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from emgfeedback.errors import CommandError
from emgfeedback.private_files import folder_writable, write_private

#: Free space a profile save needs before the trials start (a profile is a few kB; the rest is margin).
MIN_FREE_BYTES = 1 << 20


def destination(save_to: str | None) -> Path:
    """The folder the profile will be written to: ``--save-to``'s, else the profiles folder."""
    from emgfeedback.paths import profiles_dir

    return Path(save_to).expanduser().absolute().parent if save_to else profiles_dir()


def check_destination(save_to: str | None) -> None:
    """Refuse now, before any trial, a profile folder that is read-only or full (naming it and the fix)."""
    folder = destination(save_to)
    existing = next((p for p in (folder, *folder.parents) if p.is_dir()), None)
    if existing is None:
        raise CommandError(f"{folder}: no such folder for the profile: create it or give another --save-to")
    if not folder_writable(existing):
        raise CommandError(
            f"{existing} is read-only: the profile could not be saved after the trials: make it writable, "
            "or give --save-to FILE.json on a writable disk"
        )
    free = shutil.disk_usage(existing).free
    if free < MIN_FREE_BYTES:
        raise CommandError(
            f"disk full: {existing} has {free // 1024} kB free, the profile needs about {MIN_FREE_BYTES // 1024} kB: "
            "free some space, or give --save-to FILE.json on another disk"
        )


def keep(text: str, name: str, target: Path, exc: OSError, *, interactive: bool, out: TextIO) -> CommandError:
    """The save failed after the trials: keep the profile somewhere and return the one-line error saying where."""
    reason = exc.strerror or str(exc)
    if interactive:
        while True:
            answer = input(f"could not save {target} ({reason}): save the profile to which file? (empty: print it) ").strip()
            if not answer:
                break
            path = Path(answer).expanduser()
            try:
                write_private(path, text.encode("utf-8"))
            except OSError as again:
                print(f"could not save {path} ({again.strerror or again})", file=sys.stderr)
                continue
            return CommandError(f"profile {name!r} saved to {path} instead of {target}: use it with --profile {path}")
    fallback = Path(tempfile.gettempdir()) / f"emgfeedback-profile-{time.strftime('%Y%m%d-%H%M%S')}.json"
    if not interactive:
        try:
            write_private(fallback, text.encode("utf-8"))
            return CommandError(
                f"could not save {target} ({reason}): the profile {name!r} was saved to {fallback} instead: "
                f"use it with --profile {fallback}, or free some space and move it to {target}"
            )
        except OSError:
            pass
    out.write(text)
    out.flush()
    return CommandError(
        f"could not save {target} ({reason}): the profile {name!r} is printed above as JSON: save it to a file "
        "and use it with --profile FILE.json"
    )
