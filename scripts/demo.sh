#!/usr/bin/env bash
# One command for the main job: set everything up, then open the live dashboard fed by the
# built-in simulated sensor (no hardware needed). Extra arguments go to `emgfeedback demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo
exec .venv/bin/emgfeedback demo "$@"
