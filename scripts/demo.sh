#!/usr/bin/env bash
# Start confbridge on its embedded default: SQLite under ./data, the built-in MCU emulator, the 20 demo
# endpoints, users with generated passwords (printed once), a briefing a few minutes from now.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/confbridge ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e .
fi
exec .venv/bin/confbridge run "$@"
