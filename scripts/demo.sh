#!/usr/bin/env bash
# Start confbridge on its embedded default: SQLite under ./data, the built-in MCU emulator, the 20 demo
# endpoints, users with generated passwords (printed once), a briefing a few minutes from now.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  # Debian's python3 needs python3-venv for virtual environments (and must be 3.11 or newer).
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv >/dev/null
fi
if [ ! -x .venv/bin/confbridge ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e .
fi
exec .venv/bin/confbridge run "$@"
