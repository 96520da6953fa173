#!/usr/bin/env bash
# The war room, running: installs what it needs, brings up the sandbox Asterisk, fills the directory
# with a demo organisation, starts simulated phones for every member, creates and starts a demo campaign,
# and serves http://127.0.0.1:8000 (Ctrl-C stops the service).
# Stop the rest with: .venv/bin/warroom phones down && .venv/bin/warroom asterisk down
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
W="${WARROOM_VENV:-.venv}/bin/warroom"
"$W" asterisk up
"$W" demo-data --districts 2 --acs 3 --booths-per-ac 20
"$W" phones up
if ! "$W" campaign show "Demo: booth readiness" >/dev/null 2>&1; then
  "$W" campaign create "Demo: booth readiness" --mode ivr --level booth --retry no_answer=2/2m --retry busy=2/1m
  "$W" campaign start "Demo: booth readiness"
fi
# a supervisor to sign in with (a new password each run, printed below)
SUP_PASSWORD=$("$W" users set-password supervisor --generate-password 2>/dev/null \
  || "$W" users add supervisor --role supervisor --name "Demo supervisor" --generate-password)
cat >&2 <<MSG

The demo campaign calls every booth committee member through the sandbox's 10 phone lines, inside the
calling window (09:00-21:00 IST by default; outside it the campaign waits and says why).
  live figures:   http://127.0.0.1:8000/api/live (signed in)
  the campaign:   $W campaign show "Demo: booth readiness"
  health:         curl http://127.0.0.1:8000/healthz
  a hotline call: $W phones call <a member's phone> --keys 13   (then: $W tickets list)
  sign in:        http://127.0.0.1:8000 as supervisor; ${SUP_PASSWORD##*: }
MSG
exec "$W" serve
