#!/usr/bin/env bash
# The war room, running: installs what it needs, brings up the sandbox Asterisk, fills the directory
# with a demo organisation, starts simulated phones for every member, creates and starts a demo campaign,
# adds a supervisor and an operator (whose simulated softphone answers the calls that need a person),
# and serves http://127.0.0.1:8000 (Ctrl-C stops the service).
# Stop the rest with: .venv/bin/warroom phones down && .venv/bin/warroom asterisk down
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
W="${WARROOM_VENV:-.venv}/bin/warroom"
PY="${WARROOM_VENV:-.venv}/bin/python"
# The calling rules keep India's hours (09:00-21:00 by default, never 22:00-06:00). The demo's phones are
# simulated, so outside those hours it keeps the hours of a time zone where it is early afternoon now:
# there is always a campaign to watch. A real war room leaves WARROOM_DIALER__TIMEZONE at Asia/Kolkata.
if [ -z "${WARROOM_DIALER__TIMEZONE:-}" ]; then
  WARROOM_DIALER__TIMEZONE=$("$PY" - <<'PYTHON'
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

if 9 <= datetime.now(ZoneInfo("Asia/Kolkata")).hour < 20:
    print("Asia/Kolkata")
else:
    offset = (13 - datetime.now(UTC).hour + 12) % 24 - 12  # hours east of UTC where it is about 13:00
    print(f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC")  # Etc/GMT-5 is UTC+5 (POSIX signs)
PYTHON
)
  export WARROOM_DIALER__TIMEZONE
fi
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
# an operator (a new password each run) whose simulated softphone registers and answers in the background,
# ready: hotline callers pressing 0 (and survey transfers) ring it, and its console shows each call
OP_PASSWORD=$("$W" users set-password operator --generate-password 2>/dev/null \
  || "$W" users add operator --role operator --name "Demo operator" --generate-password)
"$W" phones operator operator
cat >&2 <<MSG

The demo campaign calls every booth committee member through the sandbox's 10 phone lines (simulated
phones: answering, pressing keys, ringing out, busy...), in the calling hours of $WARROOM_DIALER__TIMEZONE.
  the dashboard:  http://127.0.0.1:8000  (lines, calls, the campaign's progress, charts, areas, tickets)
  sign in as:     supervisor
  password:       ${SUP_PASSWORD##*: }
  the operator:   operator, password ${OP_PASSWORD##*: }  (the console at /console; a simulated softphone
                  answers each call, talks 20 s and hangs up; the dashboard lists the operator)
  the campaign:   $W campaign show "Demo: booth readiness"
  a hotline call: $W phones call <a member's phone> --keys 13   (a ticket appears on the dashboard)
                  $W phones call <a member's phone> --keys 0    (the caller is put through to the operator)
  reports:        $W report campaign   (also day, operator, shift, ac; --json, --csv, --xlsx)
  health:         curl http://127.0.0.1:8000/healthz
  stop the rest:  $W phones down && $W asterisk down   (after Ctrl-C)
MSG
exec "$W" serve
