#!/usr/bin/env bash
# One command for the whole test suite: set everything up, lint, then run every test
# (offscreen Qt, the firmware compiled and run in simavr, real ptys). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
