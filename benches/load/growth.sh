#!/usr/bin/env bash
# Growth test (issue 17): N issued-and-expired grants (each with one expired access token) are
# swept without blocking requests: p99 of `client_credentials` during the sweep vs without it.
#
#   bash benches/load/growth.sh                 # 1,000,000 grants, SQLite and PostgreSQL
#   GROWTH_ROWS=20000 bash benches/load/growth.sh   # small N
#
# Per backend: start `idforge serve --database` on an empty database and measure (baseline);
# stop it, bulk-insert N expired grants + N tokens with one SQL statement each (setup only;
# the server never writes this way); measure with the rows present and the sweep held back
# (the control: one row per 10 s); start it with the run's settings — `idforge serve` sweeps
# at start and every minute, in batches of `sweep_batch` rows — and measure while the sweep
# runs; measure the control again if expired rows are left. The sweep's duration is timed by
# polling the grant count. Prints p50/p99 and two ratios: during the sweep against the lower
# control (same rows, no sweep: what the sweep itself costs) and against the empty database.
#
# Environment: IDFORGE_BIN (default: cargo build --release -p idforge-cli), IDFORGE_PG_URL
# (PostgreSQL run on a scratch database; skipped if unset), GROWTH_ROWS (default 1000000),
# LOAD_CONNECTIONS (8), LOAD_DURATION (wrk seconds per run, default 20), LOAD_THREADS (1),
# GROWTH_SWEEP_BATCH / GROWTH_SWEEP_PAUSE_MS (the `[database]` sweep settings; unset: the
# defaults), GROWTH_BACKENDS ("sqlite postgres"), GROWTH_WAIT_SWEEP (1: wait for the sweep
# to finish and print its duration; 0: print how many expired grants are left after the
# measured window and stop there, for slow paced sweeps), GROWTH_TOKENS (1: one expired token
# per grant; 0: grants only).
# Needs wrk, curl, sqlite3, python3 (psql for PostgreSQL).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rows="${GROWTH_ROWS:-1000000}"
# GROWTH_TOKENS=0: grants only, so the measured window falls in the grants' part of the sweep
# (the sweep takes expired tokens first; with a token per grant a paced sweep spends the first
# minutes on them).
if [ "${GROWTH_TOKENS:-1}" = 0 ]; then token_rows=0; else token_rows="$rows"; fi
conns="${LOAD_CONNECTIONS:-8}"
duration="${LOAD_DURATION:-20}"
threads="${LOAD_THREADS:-1}"
for t in wrk curl sqlite3 python3; do
  command -v "$t" >/dev/null || { echo "growth: $t not found" >&2; exit 1; }
done
bin="${IDFORGE_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --quiet --release -p idforge-cli)
  bin="${CARGO_TARGET_DIR:-$root/target}/release/idforge"
fi

tmp="$(mktemp -d)"
pid=""
pg_db=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "$pg_db" ]; then psql -q "$IDFORGE_PG_URL" -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
export LOAD_BASIC
LOAD_BASIC="$(printf 'svc:svc-secret' | base64)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# serve DATABASE: starts idforge on DATABASE, sets pid and url.
config="$tmp/idforge.toml"
cp "$here/idforge.toml" "$config"
if [ -n "${GROWTH_SWEEP_BATCH:-}${GROWTH_SWEEP_PAUSE_MS:-}" ]; then
  { printf '\n[database]\n'
    [ -n "${GROWTH_SWEEP_BATCH:-}" ] && printf 'sweep_batch = %s\n' "$GROWTH_SWEEP_BATCH"
    [ -n "${GROWTH_SWEEP_PAUSE_MS:-}" ] && printf 'sweep_pause_ms = %s\n' "$GROWTH_SWEEP_PAUSE_MS"
    true; } >>"$config"
fi
# The control: the same database with the sweep held back (one row per statement, 10 s
# between statements: at most a few rows in a window), so "during the sweep" is compared with
# the same rows present and no sweep, not only with an empty database.
held="$tmp/held.toml"
cp "$here/idforge.toml" "$held"
printf '\n[database]\nsweep_batch = 1\nsweep_pause_ms = 10000\n' >>"$held"
backends="${GROWTH_BACKENDS:-sqlite postgres}"
# serve DATABASE [CONFIG]: starts idforge on DATABASE (with CONFIG, default the run's), sets
# pid and url.
serve() {
  local port
  port="$(free_port)"
  "$bin" serve --config "${2:-$config}" --addr "127.0.0.1:$port" --database "$1" \
    >"$tmp/serve.out" 2>"$tmp/serve.err" &
  pid=$!
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do
    curl -fs "$url/.well-known/openid-configuration" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "growth: idforge did not come up" >&2; cat "$tmp/serve.err" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

# measure NAME: a wrk run of `duration` seconds; prints the row and sets p99_ms.
measure() {
  local out="$tmp/$1.wrk"
  wrk -t"$threads" -c"$conns" -d"${duration}s" --latency -s "$here/client_credentials.lua" "$url" >"$out"
  if grep -q "Non-2xx or 3xx responses" "$out"; then
    echo "growth: $1 answered errors:" >&2; cat "$out" >&2; exit 1
  fi
  local rps p50 p99
  rps="$(awk '/^Requests\/sec/ {print $2}' "$out")"
  p50="$(awk '$1 == "50%" {print $2}' "$out")"
  p99="$(awk '$1 == "99%" {print $2}' "$out")"
  p99_ms="$(python3 -c 'import sys; v=sys.argv[1]; f={"us":1e-3,"ms":1,"s":1e3}; u=[k for k in ("us","ms","s") if v.endswith(k)][0]; print(float(v[:-len(u)])*f[u])' "$p99")"
  printf '%-36s %10s %10s %10s\n' "$1" "$rps" "$p50" "$p99"
}

# Expired long ago: every row is due for the sweep.
expired=1000000000
sqlite_fill() {
  sqlite3 "$1" <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO oauth_grants (id, client_id, subject, created_at, expires_at, body)
SELECT 'growth-' || i, 'svc', NULL, $expired - 3600, $expired,
  '{"id":"growth-' || i || '","client_id":"svc","subject":null,"scopes":[],"auth_time":null,"acr":null,"amr":[],"sid":null,"nonce":null,"claims":null,"created_at":0,"expires_at":$expired}'
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $token_rows)
INSERT INTO oauth_tokens (hash, kind, grant_id, issued_at, expires_at, state, state_at, body)
SELECT randomblob(32), '"AccessToken"', 'growth-' || i, $expired - 3600, $expired, 'active', NULL, '{}'
FROM n WHERE $token_rows > 0;
COMMIT;
SQL
}
pg_fill() {
  psql -q "$1" <<SQL
INSERT INTO oauth_grants (id, client_id, subject, created_at, expires_at, body)
SELECT 'growth-' || i, 'svc', NULL, $expired - 3600, $expired,
  '{"id":"growth-' || i || '","client_id":"svc","subject":null,"scopes":[],"auth_time":null,"acr":null,"amr":[],"sid":null,"nonce":null,"claims":null,"created_at":0,"expires_at":$expired}'
FROM generate_series(1, $rows) AS i;
INSERT INTO oauth_tokens (hash, kind, grant_id, issued_at, expires_at, state, state_at, body)
SELECT decode(md5(i::text) || md5('t' || i::text), 'hex'), '"AccessToken"', 'growth-' || i,
  $expired - 3600, $expired, 'active', NULL, '{}'
FROM generate_series(1, $token_rows) AS i;
-- Settle the bulk insert's own background work (hint bits, visibility map, the checkpoint of
-- its WAL) before the server starts, so the window measures the sweep, not the setup.
VACUUM ANALYZE oauth_grants; VACUUM ANALYZE oauth_tokens;
CHECKPOINT;
SQL
}

# run NAME DATABASE FILL COUNT PENDING: baseline, fill, control, measure during the sweep.
# COUNT prints how many expired grants are left; PENDING prints 1 while any is left, else 0.
run() {
  local name="$1" database="$2" fill="$3" count="$4" pending="$5"
  serve "$database"
  wrk -t1 -c"$conns" -d2s -s "$here/client_credentials.lua" "$url" >/dev/null
  measure "$name, no sweep"
  local base="$p99_ms"
  stop
  local t0=$SECONDS
  $fill
  echo "growth: $name: $rows expired grants + $token_rows tokens inserted in $((SECONDS - t0)) s"
  # Control with the rows present and the sweep held back (warmed up like the baseline).
  serve "$database" "$held"
  wrk -t1 -c"$conns" -d2s -s "$here/client_credentials.lua" "$url" >/dev/null
  measure "$name, rows present, sweep held"
  local control="$p99_ms"
  stop
  local start
  start="$(date +%s.%N)"
  serve "$database"
  # Time the sweep in the background: until no expired grant is left. The poll is an EXISTS
  # on the expiry index, once a second: a count(*) over a million rows five times a second
  # was itself a load on the database that showed in the requests' tail.
  ( while [ "$(eval "$pending")" != "0" ]; do sleep 1; done
    python3 -c 'import sys,time; print("%.1f" % (time.time() - float(sys.argv[1])))' "$start" >"$tmp/swept" ) &
  local poller=$!
  measure "$name, sweeping $rows grants"
  local during="$p99_ms"
  local ratio
  ratio="$(python3 -c "print('%.2f' % ($during / $base))")"
  if [ "${GROWTH_WAIT_SWEEP:-1}" = 0 ] && [ ! -s "$tmp/swept" ]; then
    kill "$poller" 2>/dev/null || true
    wait "$poller" 2>/dev/null || true
    echo "growth: $name: after $(python3 -c 'import sys,time; print("%.1f" % (time.time() - float(sys.argv[1])))' "$start") s the sweep still had $(eval "$count") of $rows expired grants to go (not waited for); p99 ratio $ratio"
  else
    wait "$poller" || true
    echo "growth: $name: sweep took $(cat "$tmp/swept") s after start; p99 ratio $ratio"
  fi
  stop
  # A second control after the sweep's window while expired rows are left (not after a
  # finished sweep: the rows would be gone): the ratio is taken against the lower control,
  # so a cold first control cannot flatter the sweep.
  local remaining
  remaining="$(eval "$count")"
  if [ "$remaining" != "0" ]; then
    serve "$database" "$held"
    wrk -t1 -c"$conns" -d2s -s "$here/client_credentials.lua" "$url" >/dev/null
    measure "$name, rows present, sweep held (2)"
    control="$(python3 -c "print(min($control, $p99_ms))")"
    stop
  fi
  echo "growth: $name: p99 during the sweep / p99 with the same rows and the sweep held back: $(python3 -c "print('%.2f' % ($during / $control))") (target <= 2); / p99 on the empty database: $ratio"
}

printf '%-36s %10s %10s %10s\n' run req/s p50 p99
db="$tmp/growth.db"
[[ " $backends " == *" sqlite "* ]] && run "SQLite" "sqlite://$db" "sqlite_fill $db" "sqlite3 $db 'SELECT count(*) FROM oauth_grants WHERE expires_at <= $expired'" \
  "sqlite3 $db 'SELECT EXISTS (SELECT 1 FROM oauth_grants WHERE expires_at <= $expired)'"
if [[ " $backends " != *" postgres "* ]]; then
  :
elif [ -n "${IDFORGE_PG_URL:-}" ] && command -v psql >/dev/null; then
  pg_db="idforge_growth_$$"
  psql -q "$IDFORGE_PG_URL" -c "CREATE DATABASE $pg_db" >/dev/null
  pg_url="${IDFORGE_PG_URL%/*}/$pg_db"
  run "PostgreSQL" "$pg_url" "pg_fill $pg_url" "psql -tAq $pg_url -c 'SELECT count(*) FROM oauth_grants WHERE expires_at <= $expired'" \
    "psql -tAq $pg_url -c 'SELECT EXISTS (SELECT 1 FROM oauth_grants WHERE expires_at <= $expired)::int'"
else
  echo "growth: PostgreSQL skipped (set IDFORGE_PG_URL; psql needed)"
fi
