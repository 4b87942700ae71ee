"""CSV export, streamed chunk row by chunk row (a 2-hour session never sits in memory).

``session-ID.csv``: ``time_s`` then, per muscle, ``<muscle>_pct_mvc`` and ``<muscle>_state``
(``below``/``in``/``over``/``unknown``), one row per sample. ``session-ID-raw.csv``: ``time_s``,
per muscle ``<muscle>_raw_<unit>``, then ``<muscle>_envelope_<unit>``. Missing samples (a gap)
are missing rows; ``time_s`` counts from the session's first sample.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from emgfeedback.feedback import State
from emgfeedback.session.outputs import atomic_output, file_name
from emgfeedback.session.store import SessionInfo, SessionStore

#: Samples formatted per write: bounds memory, keeps the per-call overhead small.
BATCH = 20_000
STATE_KEYS = np.array([State(i).key for i in range(len(State))], dtype=object)

Advance = Callable[[int], None]


def _unit_tag(units: str | None) -> str:
    return (units or "units").lower().replace(" ", "")


def time_format(fs: float) -> str:
    """Enough decimals to tell consecutive samples apart."""
    return f"%.{max(3, math.ceil(math.log10(fs)) + 1)}f"


def _format(columns: Sequence[list[object]], fmts: Sequence[str]) -> str:
    """Rows of ``columns`` (equal-length lists) as CSV text, in one C-level format call."""
    n = len(columns[0])
    row = ",".join(fmts) + "\n"
    return (row * n) % tuple(itertools.chain.from_iterable(zip(*columns, strict=True)))


def _batches(store: SessionStore, info: SessionInfo, kinds: Sequence[str]) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """(absolute indices, {kind: rows}) in batches of about :data:`BATCH` contiguous-or-not samples."""
    idx: list[np.ndarray] = []
    parts: dict[str, list[np.ndarray]] = {k: [] for k in kinds}
    size = 0
    stop = (info.first_index or 0) + info.samples  # a session still recording: what its summary saw
    for start, full in store.iter_aligned(info.id, kinds, stop=stop):
        arrays = {k: v[: stop - start] for k, v in full.items()}
        n = arrays[kinds[0]].shape[0]
        idx.append(np.arange(start, start + n))
        for k in kinds:
            parts[k].append(arrays[k])
        size += n
        if size >= BATCH:
            yield np.concatenate(idx), {k: np.concatenate(v) for k, v in parts.items()}
            idx, parts, size = [], {k: [] for k in kinds}, 0
    if size:
        yield np.concatenate(idx), {k: np.concatenate(v) for k, v in parts.items()}


def pct_header(muscles: Sequence[str]) -> list[str]:
    return ["time_s", *itertools.chain.from_iterable((f"{m}_pct_mvc", f"{m}_state") for m in muscles)]


def raw_header(muscles: Sequence[str], raw_units: str | None, env_units: str | None) -> list[str]:
    raw_tag, env_tag = _unit_tag(raw_units), _unit_tag(env_units)
    return ["time_s", *(f"{m}_raw_{raw_tag}" for m in muscles), *(f"{m}_envelope_{env_tag}" for m in muscles)]


def export_csv(store: SessionStore, session_id: int, out_dir: Path, advance: Advance | None = None) -> list[Path]:
    """Write ``session-ID.csv`` and ``session-ID-raw.csv`` into ``out_dir``; returns their paths."""
    info = store.session(session_id)
    first = info.first_index or 0
    muscles = list(info.muscles)
    tfmt = time_format(info.fs)
    main, raw = out_dir / file_name(session_id, ".csv"), out_dir / file_name(session_id, "-raw.csv")
    with atomic_output(main) as f_main, atomic_output(raw) as f_raw:
        f_main.write(",".join(pct_header(muscles)) + "\n")
        f_raw.write(",".join(raw_header(muscles, info.meta.get("raw_units"), info.meta.get("envelope_units"))) + "\n")
        for idx, a in _batches(store, info, ("percent", "state", "raw", "envelope")):
            t = ((idx - first) / info.fs).tolist()
            pct, st = a["percent"], a["state"]
            cols: list[list[object]] = [t]
            for c in range(len(muscles)):
                cols.append(pct[:, c].tolist())
                cols.append(STATE_KEYS[st[:, c]].tolist())
            f_main.write(_format(cols, [tfmt, *(["%.3f", "%s"] * len(muscles))]))
            r = a["raw"]
            raw_fmt = "%d" if r.dtype.kind in "iu" else "%.7g"
            rcols = [
                t,
                *(r[:, c].tolist() for c in range(r.shape[1])),
                *(a["envelope"][:, c].tolist() for c in range(len(muscles))),
            ]
            f_raw.write(_format(rcols, [tfmt, *([raw_fmt] * r.shape[1]), *(["%.6g"] * len(muscles))]))
            if advance is not None:
                advance(len(t))
    return [main, raw]
