#!/usr/bin/env bash
# The README's test command: installs what the tests need (PostgreSQL, Chromium), starts a private
# PostgreSQL server, then runs ruff, mypy and pytest. Works on a fresh Debian machine as root or with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
need_apt=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[ -x /usr/sbin/dovecot ] || need_apt+=(dovecot-imapd)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing ${need_apt[*]} from Debian's packages..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

# A throw-away PostgreSQL cluster owned by the postgres user (the server refuses to run as root).
pg_dir=$(mktemp -d /tmp/feedbackbot-pg.XXXXXX)
pg_port=${FEEDBACKBOT_TEST_PG_PORT:-55432}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$pg_dir"; fi
cleanup() { as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pg_dir"; }
trap cleanup EXIT
as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
export FEEDBACKBOT_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$pg_port/postgres"
export FEEDBACKBOT_TEST_CHROMIUM="$(command -v chromium)"

# axe-core for the browser tests' accessibility check (kept out of git by .gitignore's node_modules/).
AXE_VERSION=4.14.1
if ! grep -qs "\"version\": \"$AXE_VERSION\"" tests/browser/.axe/node_modules/axe-core/package.json; then
  echo "Installing axe-core $AXE_VERSION for the accessibility check..."
  npm install --prefix tests/browser/.axe --no-save --no-audit --no-fund --loglevel=error "axe-core@$AXE_VERSION"
fi

echo "ruff..."
.venv/bin/ruff check
echo "mypy..."
.venv/bin/mypy
echo "pytest..."
.venv/bin/pytest "$@"
