"""``emgfeedback cues``: list the cue sounds, play each once (``--play``) or save them as WAV files (``--wav DIR``).

So the sounds can be learnt before a session: someone upside down in a backbend hears
them and cannot look at the screen. Playback goes through miniaudio (no Qt); with no sound
device ``--play`` says so in one line, and ``--wav`` always works.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

import numpy as np

from emgfeedback.errors import CommandError

#: Environment variable choosing the sound output: auto (default), off, or null (miniaudio's null device).
AUDIO_ENV = "EMGFEEDBACK_AUDIO"
#: Silence between two cues when playing them in a row.
GAP_S = 0.6


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "cues",
        help="list the cue sounds, play them (--play) or save them as WAV files (--wav DIR)",
        description="The dashboard's cue sounds: a hold starts or ends, below the band, back in the band, still in\n"
        "the band (every 10 s), over-clench. Hear them before a session with --play, or save one WAV file per cue\n"
        "(named by cue, e.g. over.wav) with --wav DIR.",
        epilog="examples:\n  emgfeedback cues\n  emgfeedback cues --play\n  emgfeedback cues --wav ~/emg-cues",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--play", action="store_true", help="play each cue once, in order, saying which one plays")
    p.add_argument("--wav", default=None, metavar="DIR", help="write one 16-bit mono WAV file per cue into DIR")
    p.add_argument("--volume", type=float, default=0.8, metavar="0-1", help="playback volume (default 0.8)")
    p.add_argument("--json", action="store_true", help="list the cues as JSON: name, meaning, duration_s")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emgfeedback.cue_sounds import duration_s, in_order, meaning

    out = sys.stdout
    if not 0.0 <= args.volume <= 1.0:  # also NaN
        raise CommandError(f"--volume {args.volume:g} is out of range: use 0 to 1, e.g. --volume 0.8")
    cues = in_order()
    if args.json:
        rows = [{"name": c.value, "meaning": meaning(c), "duration_s": round(duration_s(c), 3)} for c in cues]
        json.dump(rows, out, indent=2)
        out.write("\n")
        if not (args.wav or args.play):
            return 0
    if args.wav:
        _write(Path(args.wav).expanduser(), out, quiet=args.json)
    if args.play:
        _play_all(cues, args.volume, out)
    if not (args.json or args.wav or args.play):
        width = max(len(c.value) for c in cues)
        for c in cues:
            print(f"{c.value:<{width}}  {duration_s(c):.2f} s  {meaning(c)}", file=out)
        print("hear them with 'emgfeedback cues --play', or save them with 'emgfeedback cues --wav DIR'", file=out)
    return 0


def _write(directory: Path, out: TextIO, *, quiet: bool) -> None:
    from emgfeedback.cue_sounds import sound_files

    if directory.exists() and not directory.is_dir():
        raise CommandError(f"--wav {directory}: is a file, not a folder: give a folder to write the WAV files into")
    try:
        files = sound_files(directory, overwrite=True)
    except OSError as exc:
        raise CommandError(f"--wav {directory}: cannot write there ({exc.strerror or exc}): choose another folder") from None
    if not quiet:
        for cue, path in files.items():
            print(f"wrote {path}  ({cue.value})", file=out)


def _play_all(cues: list, volume: float, out: TextIO) -> None:
    """Each cue once, in order, its name printed as it starts; one line and exit 2 without a sound device."""
    from emgfeedback.cue_sounds import RATE, meaning, synthesize
    from emgfeedback.ui.audio_output import open_output  # miniaudio, as the dashboard plays them (no Qt)

    device, why = open_output(RATE)
    if device is None:
        raise CommandError(f"cannot play the cues: {why}: connect speakers or headphones, or save them with --wav DIR")
    try:
        for i, cue in enumerate(cues, start=1):
            print(f"{i}/{len(cues)} {cue.value}: {meaning(cue)}", file=out, flush=True)
            samples = synthesize(cue) * volume
            gap = np.zeros(round(GAP_S * RATE)) if i < len(cues) else np.zeros(0)
            sound = np.concatenate([samples, gap])
            if not device.play(sound).done.wait(sound.shape[0] / RATE + 2.0):
                raise CommandError(f"the sound device stopped while playing {cue.value}: check the output and try again")
    finally:
        device.close()
