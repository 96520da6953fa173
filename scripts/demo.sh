#!/usr/bin/env bash
# The war room, running: installs what it needs, brings up the sandbox Asterisk and serves
# http://127.0.0.1:8000 (Ctrl-C stops the service; `.venv/bin/warroom asterisk down` stops Asterisk).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
VENV=${WARROOM_VENV:-.venv}
"$VENV/bin/warroom" asterisk up
echo "health: curl http://127.0.0.1:8000/healthz" >&2
exec "$VENV/bin/warroom" serve
