#!/usr/bin/env bash
# Set up everything emgfeedback needs on Debian/Ubuntu: system packages (apt), a virtual
# environment in .venv, and the package with its development tools. Safe to run again:
# it only installs what is missing. Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Qt offscreen/window libraries, audio client library, AVR toolchain + simulator, pty tools.
APT_PACKAGES=(
  python3-venv python3-pip
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
  libxcb-render-util0 libxcb-image0
  libpulse0 avrdude
  gcc libc6-dev make gcc-avr avr-libc arduino-core-avr arduino-builder simavr libsimavr-dev socat
  strace  # tests: the LSL no-foreign-address check (test mode only)
)

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
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.emgfeedback-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing emgfeedback and its dependencies into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev,lsl,brainflow]'  # lsl, brainflow: LSL and BrainFlow extras
  touch "$stamp"
fi
