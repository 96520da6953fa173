#!/usr/bin/env bash
# Install what warroom needs on a Debian machine: apt packages, a virtualenv with the package,
# (with --postgres) a PostgreSQL server on 127.0.0.1:5432 when none is running, (with --browser)
# Debian's Chromium for the browser tests, (with --parallel) what runs the integration tests two at a time
# (socat, iproute2: scripts/test-worker-python), and the pages' browser libraries from the npm registry
# (package-lock.json: SIP.js for the phone in the browser) into node_modules/, served under /static.
# Idempotent: a second run installs nothing new. Sourced by scripts/test.sh and scripts/demo.sh.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=${WARROOM_VENV:-.venv}
APT_PACKAGES=(debootstrap sip-tester espeak-ng sox ffmpeg ca-certificates openssl)
want_pg=no
for arg in "$@"; do
  case "$arg" in
    --postgres) want_pg=yes ;;
    --browser) APT_PACKAGES+=(chromium) ;;  # browser tests drive Debian's Chromium with Playwright
    --parallel) APT_PACKAGES+=(socat iproute2) ;;  # a network namespace per integration-test worker
    *) echo "bootstrap: unknown option $arg" >&2; exit 2 ;;
  esac
done

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
command -v npm >/dev/null || missing+=(npm)
if ! command -v python3 >/dev/null || ! python3 -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  missing+=(python3 python3-venv python3-dev)
elif ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  missing+=(python3-venv)
fi
pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
if [ "$want_pg" = yes ] && ! pg_up && ! command -v pg_ctlcluster >/dev/null; then
  missing+=(postgresql)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "$want_pg" = yes ] && ! pg_up; then
  echo "bootstrap: starting PostgreSQL" >&2
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 0.5; done
  pg_up || { echo "bootstrap: PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
  # a server we started ourselves: make sure the test database exists
  as_root su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='test'\" | grep -q 1 \
    || createdb test" || true
fi

stamp="$VENV/.warroom-installed"
digest=$(cat setup.cfg pyproject.toml | sha256sum | cut -c1-16)
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  echo "bootstrap: installing the Python package into $VENV" >&2
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
  # --no-compile: Python compiles what it imports, when first imported, instead of every file of every
  # package now (plotly alone is thousands)
  "$VENV/bin/python" -m pip install -q --no-compile -e '.[test]'
  echo "$digest" > "$stamp"
fi

# the pages' browser libraries, exactly as locked (nothing is fetched by a page from a third-party site)
npm_stamp="node_modules/.warroom-installed"
npm_digest=$(sha256sum package-lock.json | cut -c1-16)
if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_digest" ]; then
  echo "bootstrap: installing the pages' browser libraries (npm ci)" >&2
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  echo "$npm_digest" > "$npm_stamp"
fi
