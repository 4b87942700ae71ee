"""JSON export: the session, its totals and per-hold statistics (``HoldSummary.as_dict`` keys), episodes and gaps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emgfeedback import __version__
from emgfeedback.session.outputs import atomic_output, file_name
from emgfeedback.session.store import json_safe, schema_version
from emgfeedback.session.summary import SessionSummary

FORMAT = "emgfeedback-session-summary"
FORMAT_VERSION = 1


def summary_document(summary: SessionSummary) -> dict[str, Any]:
    """The JSON document: format tag, then :meth:`SessionSummary.as_dict` (NaN as null)."""
    return json_safe(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "emgfeedback": __version__,
            "store_schema": schema_version(),
            **summary.as_dict(),
        }
    )


def export_json(summary: SessionSummary, out_dir: Path) -> Path:
    """Write ``session-ID.json`` into ``out_dir``; returns its path."""
    path = out_dir / file_name(summary.info.id, ".json")
    with atomic_output(path) as f:
        json.dump(summary_document(summary), f, indent=2, allow_nan=False)
        f.write("\n")
    return path
