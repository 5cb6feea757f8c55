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
secret="browser-admin-secret"
. "$root/tests/lib/server.sh"
start_server "$bin" "$tmp" "$secret"
BASE="$BASE" ADMIN_SECRET="$secret" node login.test.mjs
