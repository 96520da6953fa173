#!/usr/bin/env bash
# Run every test: lint, type check, unit tests and the real-Asterisk integration tests.
# Installs what it needs first (apt packages, the virtualenv, PostgreSQL when none runs).
# With no arguments: the unit tests on every core (pytest-xdist), then the integration tests, two test files
# at a time where the machine allows (each worker in a network namespace of its own, so both can use the
# sandbox's ports: scripts/test-worker-python), else one at a time. WARROOM_TEST_WORKERS sets the unit
# tests' workers. Extra arguments go to one plain pytest run instead, e.g.
# scripts/test.sh -m "not integration" -x
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --postgres --browser --parallel
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
workers=$("$VENV/bin/python" -m tests.isolation prepare)
if [ "$workers" -gt 0 ]; then
  WARROOM_TEST_PYTHON=$(realpath -s "$VENV/bin/python")
  export WARROOM_TEST_PYTHON
  exec "$VENV/bin/pytest" tests/integration --durations=15 --dist loadfile \
    --tx "$workers*popen//python=$PWD/scripts/test-worker-python"
fi
exec "$VENV/bin/pytest" tests/integration --durations=15
