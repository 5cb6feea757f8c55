#!/usr/bin/env bash
# Runs the browser tests against a freshly started server (a temporary database, a free loopback port).
# Needs Node 20+ and Chromium (`apt-get install chromium`); `.ci/run` installs both.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"
bin="${SWITCHBOARD_BIN:-$root/target/debug/switchboard}"
[ -x "$bin" ] || (cd "$root" && cargo build --locked --quiet --bin switchboard)
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --silent

tmp="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
secret="browser-admin-secret"
SWITCHBOARD_ADMIN_CLIENT_SECRET="$secret" "$bin" serve --db "$tmp/browser.db" --listen "127.0.0.1:$port" \
  --clock manual > "$tmp/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" > /dev/null 2>&1 && break
  sleep 0.1
done
BASE="http://127.0.0.1:$port" ADMIN_SECRET="$secret" node login.test.mjs
