# Sourced by the suites that drive a real server (tests/browser, compat/genesys/sdk-tests).
# start_server BIN TMPDIR SECRET [serve flags...]: `switchboard serve --clock manual` on a free loopback port with a
# fresh database in TMPDIR, the bootstrap admin secret SECRET; waits for /readyz, sets BASE, and on exit stops the
# server and removes TMPDIR. The server's log is TMPDIR/server.log.
start_server() {
  server_bin="$1" server_tmp="$2" server_secret="$3"
  shift 3
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  SWITCHBOARD_ADMIN_CLIENT_SECRET="$server_secret" "$server_bin" serve --db "$server_tmp/server.db" \
    --listen "127.0.0.1:$port" --clock manual "$@" > "$server_tmp/server.log" 2>&1 &
  server_pid=$!
  trap 'kill $server_pid 2>/dev/null || true; rm -rf "$server_tmp"' EXIT
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/readyz" > /dev/null 2>&1 && break
    sleep 0.1
  done
  BASE="http://127.0.0.1:$port"
}
