#!/usr/bin/env bash
# Set up emgfeedback on Debian/Ubuntu: system packages (apt), a virtual environment, the package.
#   bash scripts/setup.sh demo   what the app needs at run time: Qt's system libraries + the runtime
#                                Python dependencies (used by scripts/demo.sh)
#   bash scripts/setup.sh test   the above + development tools and the firmware toolchain (gcc-avr,
#                                simavr, avrdude, ...) the test suite uses (scripts/test.sh; the default)
# Safe to run again: it only installs what is missing. VENV=DIR picks the environment (default .venv).
# Windows and macOS need none of this: pipx install the package (README, docs/install.md).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-test}"
case "$MODE" in demo|test) ;; *) echo "setup: error: unknown mode '$MODE': use demo or test" >&2; exit 2 ;; esac
VENV="${VENV:-.venv}"

# Run time: Qt's offscreen/window libraries and the sound client library miniaudio loads.
APT_RUNTIME=(
  python3-venv python3-pip
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
  libxcb-render-util0 libxcb-image0
  libpulse0
)
# Tests: the AVR toolchain + simulator that build and run the firmware, avrdude, pty tools.
APT_TEST=(avrdude gcc libc6-dev make gcc-avr avr-libc arduino-core-avr arduino-builder simavr libsimavr-dev socat strace)

APT_PACKAGES=("${APT_RUNTIME[@]}")
[ "$MODE" = test ] && APT_PACKAGES+=("${APT_TEST[@]}")

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: error: need root or sudo to install: ${missing[*]} (run: apt-get install ${missing[*]})" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: error: $PYTHON is $("$PYTHON" --version 2>&1); emgfeedback needs Python 3.11 or newer (set PYTHON=python3.11)" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi
# the test set includes the demo set: a test stamp satisfies a later demo run
stamp="$VENV/.emgfeedback-$MODE"
if [ "$MODE" = demo ] && [ -f "$VENV/.emgfeedback-test" ] && [ "$VENV/.emgfeedback-test" -nt pyproject.toml ]; then
  stamp="$VENV/.emgfeedback-test"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  target='.'  # run time only (592 MB); the lsl and brainflow extras add 140 MB: pip install '.[lsl,brainflow]'
  [ "$MODE" = test ] && target='.[dev,lsl,brainflow]'
  echo "setup: installing emgfeedback ($MODE set) into $VENV" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$target"
  touch "$stamp"
fi
