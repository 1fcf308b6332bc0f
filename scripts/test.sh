#!/usr/bin/env bash
# Run the whole test suite, installing what it needs: Debian packages (PostgreSQL, Redis, Chromium, nginx,
# openssl, Node.js), a virtualenv with the project and its test extras, then ruff, mypy and pytest.
# The tests start their own PostgreSQL cluster, Redis server, SMTP server and MCU emulator on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  # Debian's python3 needs python3-venv for virtual environments (and must be 3.11 or newer).
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv >/dev/null
fi

need=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || need+=(postgresql)
compgen -G "/usr/lib/postgresql/*/bin/pg_dump" >/dev/null || need+=(postgresql-client)  # db backup/restore
command -v redis-server >/dev/null || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v runuser >/dev/null || need+=(util-linux)
command -v node >/dev/null || need+=(nodejs)  # Mozilla ical.js parses every produced calendar file
command -v npm >/dev/null || need+=(npm)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || need+=(nginx)  # deploy/nginx is checked and run
command -v openssl >/dev/null || need+=(openssl)  # TLS certificates made at test time
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e '.[test]'
npm ci --prefix tests/js/ical --no-audit --no-fund --loglevel=error
npm ci --prefix tests/js/axe --no-audit --no-fund --loglevel=error  # axe-core: the WCAG audit in Chromium

.venv/bin/ruff check confbridge tests bench migrations
.venv/bin/mypy
# Two workers (pytest-xdist), one a core: much of the suite waits on subprocesses, sockets and Chromium;
# PYTEST_WORKERS=3 overlaps more of the waiting but starves the wall-clock tests when the machine is busy.
# Tests grouped with xdist_group (tests/conftest.py) stay together on one worker.
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "${PYTEST_WORKERS:-2}" --dist loadgroup "$@"
