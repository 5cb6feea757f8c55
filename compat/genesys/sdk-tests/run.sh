#!/usr/bin/env bash
# Runs the official Genesys Cloud SDKs (Python PureCloudPlatformClientV2, JS purecloud-platform-client-v2) against a
# freshly started Switchboard, records operation → pass/fail per SDK, and fails when an operation the committed
# ledger.json records as passing does not pass now. `run.sh --write` rewrites the ledger and the docs matrix.
# Needs Python 3.11 and Node 20; the SDKs are installed on first use (a venv under target/, npm ci in js/).
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../../.. && pwd)"
bin="${SWITCHBOARD_BIN:-$root/target/debug/switchboard}"
[ -x "$bin" ] || (cd "$root" && cargo build --locked --quiet --bin switchboard)
venv="${GENESYS_SDK_VENV:-$root/target/genesys-sdk-venv}"
if [ ! -x "$venv/bin/pytest" ]; then
  echo "installing the Python SDK into $venv (about 170 MB, once)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r py/requirements.txt
fi
[ -d js/node_modules/purecloud-platform-client-v2 ] || (cd js && npm ci --no-audit --no-fund --silent)

tmp="$(mktemp -d)"
secret="sdk-admin-secret"
# One address signs in hundreds of test agents: the rate limits (tested in the Rust e2e suite) are off here.
. "$root/tests/lib/server.sh"
start_server "$bin" "$tmp" "$secret" --genesys-heartbeat-secs 1 --rate-oauth-per-address 0 --rate-per-identity 0 \
  --rate-per-address 0
export BASE ADMIN_SECRET="$secret"

status=0
echo "==> Python SDK"
RESULTS="$tmp/py.json" "$venv/bin/pytest" -q -p no:cacheprovider py || status=$?
echo "==> JavaScript SDK"
(cd js && RESULTS="$tmp/js.json" node --test --test-concurrency=1) || status=$?
echo "==> ledger"
python3 ledger.py "${1:-check}" "$tmp/py.json" "$tmp/js.json" || status=$?
[ "$status" -eq 0 ] || { echo "server log:"; tail -n 40 "$tmp/server.log"; }
exit "$status"
