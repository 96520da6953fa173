#!/usr/bin/env bash
# Run every test: lint, type check, unit tests and the real-Asterisk integration tests.
# Installs what it needs first (apt packages, the virtualenv, PostgreSQL when none runs).
# With no arguments: the unit tests on every core (pytest-xdist), then the integration tests one at a time
# (they share the sandbox's ports). Extra arguments go to one plain pytest run instead, e.g.
# scripts/test.sh -m "not integration" -x
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --postgres --browser
VENV=${WARROOM_VENV:-.venv}
echo "== ruff" >&2
"$VENV/bin/ruff" check .
echo "== mypy" >&2
"$VENV/bin/mypy"
echo "== pytest" >&2
if [ $# -gt 0 ]; then
  exec "$VENV/bin/pytest" "$@"
fi
"$VENV/bin/pytest" tests/unit -n "${WARROOM_TEST_WORKERS:-auto}"
exec "$VENV/bin/pytest" tests/integration --durations=15
