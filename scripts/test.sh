#!/usr/bin/env bash
# Run every test: lint, type check, unit tests and the real-Asterisk integration tests.
# Installs what it needs first (apt packages, the virtualenv, PostgreSQL when none runs).
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not integration" -x
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --postgres --browser
VENV=${WARROOM_VENV:-.venv}
echo "== ruff" >&2
"$VENV/bin/ruff" check .
echo "== mypy" >&2
"$VENV/bin/mypy"
echo "== pytest" >&2
exec "$VENV/bin/pytest" "$@"
