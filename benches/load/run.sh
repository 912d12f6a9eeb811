#!/usr/bin/env bash
# Load test (issue 17): `client_credentials` with ES256 JWT access tokens against `idforge serve`
# on memory, SQLite and PostgreSQL, and against node-oidc-provider 9 configured alike
# (node-op.mjs, idforge.toml), one after the other on this machine, with the same wrk settings.
# Prints req/s, p50 / p99 latency, the server's CPU time (user + system, from /proc/<pid>/stat)
# per request during the measured run, that CPU as a multiple of one ES256 signature
# (`openssl speed ecdsap256`, measured first), and the server's RSS after the run.
#
#   bash benches/load/run.sh           # 10 s per target, 16 connections, 2 wrk threads
#   bash benches/load/run.sh --smoke   # 2 s, 4 connections, idforge on memory only
#   bash benches/load/run.sh --sqlite  # idforge on SQLite only (both measurements)
#
# The full run then measures the authorization-code exchange (POST /token
# grant_type=authorization_code with PKCE, client_secret_basic; an ID token and an access token
# signed per request) on memory, SQLite and PostgreSQL: mint_codes.py first collects
# LOAD_CODES_N (default 6000) codes through the login form and /authorize with the session
# cookie (code_exchange.toml), then wrk redeems each once (code_exchange.lua) for
# LOAD_CODE_DURATION (default 3s; codes live 60 s).
#
# Environment: IDFORGE_BIN (default: `cargo build --release -p idforge-cli` and its binary),
# IDFORGE_PG_URL (PostgreSQL run; a scratch database is created and dropped; skipped if unset),
# IDFORGE_PEERS_DIR (node-oidc-provider is installed there with npm; default target/peers),
# LOAD_CONNECTIONS, LOAD_DURATION, LOAD_THREADS. Needs wrk (Debian: apt-get install wrk), curl,
# python3; node/npm for the node-oidc-provider run (skipped with a message when absent).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
smoke=0
sqlite_only=0
[ "${1:-}" = "--smoke" ] && smoke=1
[ "${1:-}" = "--sqlite" ] && sqlite_only=1
conns="${LOAD_CONNECTIONS:-16}"
duration="${LOAD_DURATION:-10s}"
threads="${LOAD_THREADS:-2}"
if [ "$smoke" = 1 ]; then conns=4; duration=2s; threads=1; fi
peers="${IDFORGE_PEERS_DIR:-$root/target/peers}"

command -v wrk >/dev/null || { echo "load: wrk not found (Debian: apt-get install wrk)" >&2; exit 1; }
bin="${IDFORGE_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --quiet --release -p idforge-cli)
  bin="${CARGO_TARGET_DIR:-$root/target}/release/idforge"
fi

tmp="$(mktemp -d)"
pids=()
pg_db=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$pg_db" ]; then
    for db in "$pg_db" "${pg_db}_code"; do
      psql -q "$IDFORGE_PG_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

export LOAD_BASIC
LOAD_BASIC="$(printf 'svc:svc-secret' | base64)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {
  for _ in $(seq 1 200); do
    curl -fs "$1/.well-known/openid-configuration" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "load: $1 did not come up" >&2
  return 1
}

# One ES256 signature's CPU time (OpenSSL's P-256, what both servers sign with), the unit the
# CPU per request is compared with (issue 19 §3: at most 1.5x).
sig_us="$(openssl speed -seconds 1 ecdsap256 2>/dev/null | awk '/nistp256/ && $7 + 0 > 0 {printf "%.1f", 1e6 / $7}')"
sig_us="${sig_us:-0}"
echo "one ES256 signature (openssl speed ecdsap256): ${sig_us} us of CPU"
tck="$(getconf CLK_TCK)"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
printf '%-28s %10s %10s %10s %12s %8s %10s\n' target req/s p50 p99 CPU/req xES256 RSS
# measure NAME PID URL: wrk against URL's token endpoint, then the row.
measure() {
  local name="$1" pid="$2" url="$3" out="$tmp/$1.wrk"
  # Warm-up (JIT, connection pools, first key use), then the measured run.
  wrk -t1 -c"$conns" -d1s -s "$here/client_credentials.lua" "$url" >/dev/null
  local t0 t1
  t0="$(cpu_ticks "$pid")"
  wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$here/client_credentials.lua" "$url" >"$out"
  t1="$(cpu_ticks "$pid")"
  if grep -q "Non-2xx or 3xx responses" "$out"; then
    echo "load: $name answered errors:" >&2
    cat "$out" >&2
    exit 1
  fi
  local rss rps p50 p99 n cpu ratio
  rss="$(awk '/^VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$pid/status")"
  rps="$(awk '/^Requests\/sec/ {print $2}' "$out")"
  p50="$(awk '$1 == "50%" {print $2}' "$out")"
  p99="$(awk '$1 == "99%" {print $2}' "$out")"
  n="$(awk '/requests in/ {print $1}' "$out")"
  cpu="$(awk -v d="$((t1 - t0))" -v n="$n" -v t="$tck" 'BEGIN {printf "%.1f us", d / t / n * 1e6}')"
  ratio="$(awk -v d="$((t1 - t0))" -v n="$n" -v t="$tck" -v s="$sig_us" 'BEGIN {if (s > 0) printf "%.1fx", d / t / n * 1e6 / s; else print "-"}')"
  printf '%-28s %10s %10s %10s %12s %8s %10s\n' "$name" "$rps" "$p50" "$p99" "$cpu" "$ratio" "$rss"
}

# idforge_run NAME DATABASE [CONFIG]
idforge_run() {
  local port
  port="$(free_port)"
  "$bin" serve --config "${3:-$here/idforge.toml}" --addr "127.0.0.1:$port" --database "$2" \
    >"$tmp/$1.out" 2>"$tmp/$1.err" &
  local pid=$!
  pids+=("$pid")
  wait_ready "http://127.0.0.1:$port"
  measure "$1" "$pid" "http://127.0.0.1:$port"
  kill "$pid"
}

if [ "$sqlite_only" = 0 ]; then
  idforge_run "idforge memory" memory
  [ "$smoke" = 1 ] && exit 0
  # node-oidc-provider does not store JWT access tokens: idforge's self-contained mode is the
  # like-for-like comparison (nothing written per token, revocations on a deny-list).
  { cat "$here/idforge.toml"; printf '\n[token_store]\npersistence = "self_contained"\n'; } >"$tmp/self-contained.toml"
  idforge_run "idforge memory self_contained" memory "$tmp/self-contained.toml"
fi
idforge_run "idforge SQLite" "sqlite://$tmp/load.db"
if [ "$sqlite_only" = 1 ]; then
  :
elif [ -n "${IDFORGE_PG_URL:-}" ] && command -v psql >/dev/null; then
  pg_db="idforge_load_$$"
  psql -q "$IDFORGE_PG_URL" -c "CREATE DATABASE $pg_db" >/dev/null
  idforge_run "idforge PostgreSQL" "${IDFORGE_PG_URL%/*}/$pg_db"
else
  echo "load: PostgreSQL skipped (set IDFORGE_PG_URL; psql needed)"
fi

# code_run NAME DATABASE: the authorization-code exchange on a fresh server.
code_run() {
  local port n="${LOAD_CODES_N:-6000}" out="$tmp/$1.wrk"
  port="$(free_port)"
  "$bin" serve --config "$here/code_exchange.toml" --addr "127.0.0.1:$port" --database "$2" \
    >"$tmp/$1.out" 2>"$tmp/$1.err" &
  local pid=$!
  pids+=("$pid")
  wait_ready "http://127.0.0.1:$port"
  python3 "$here/mint_codes.py" "http://127.0.0.1:$port" "$n" "$tmp/codes"
  local t0 t1
  t0="$(cpu_ticks "$pid")"
  LOAD_CODES="$tmp/codes" LOAD_THREADS_N="$threads" LOAD_BASIC="$(printf 'web:web-secret' | base64)" \
    wrk -t"$threads" -c"$conns" -d"${LOAD_CODE_DURATION:-3s}" --latency -s "$here/code_exchange.lua" \
    "http://127.0.0.1:$port" >"$out"
  t1="$(cpu_ticks "$pid")"
  if grep -q "Non-2xx or 3xx responses" "$out"; then
    echo "load: $1 answered errors:" >&2
    cat "$out" >&2
    exit 1
  fi
  local done_n rps p50 p99 cpu ratio note=""
  done_n="$(awk '/requests in/ {print $1}' "$out")"
  rps="$(awk '/^Requests\/sec/ {print $2}' "$out")"
  p50="$(awk '$1 == "50%" {print $2}' "$out")"
  p99="$(awk '$1 == "99%" {print $2}' "$out")"
  # The threads stopped early when every code was used: the rate is then over the whole run.
  [ "$done_n" -ge $((n - conns)) ] && note=" (codes ran out: req/s is a lower bound)"
  cpu="$(awk -v d="$((t1 - t0))" -v n="$done_n" -v t="$tck" 'BEGIN {printf "%.1f us", d / t / n * 1e6}')"
  ratio="$(awk -v d="$((t1 - t0))" -v n="$done_n" -v t="$tck" -v s="$sig_us" 'BEGIN {if (s > 0) printf "%.1fx", d / t / n * 1e6 / s; else print "-"}')"
  printf '%-28s %10s %10s %10s %12s %8s %10s%s\n' "$1" "$rps" "$p50" "$p99" "$cpu" "$ratio" \
    "$(awk '/^VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$pid/status")" "$note"
  kill "$pid"
}

echo "authorization-code exchange:"
[ "$sqlite_only" = 0 ] && code_run "code memory" memory
code_run "code SQLite" "sqlite://$tmp/code.db"
[ "$sqlite_only" = 1 ] && exit 0
if [ -n "$pg_db" ]; then
  psql -q "$IDFORGE_PG_URL" -c "CREATE DATABASE ${pg_db}_code" >/dev/null
  code_run "code PostgreSQL" "${IDFORGE_PG_URL%/*}/${pg_db}_code"
fi

if command -v node >/dev/null && command -v npm >/dev/null; then
  mkdir -p "$peers/load"
  pkg="$peers/load/node_modules/oidc-provider/package.json"
  if ! { [ -f "$pkg" ] && node -e 'process.exit(require(process.argv[1]).version.startsWith("9.") ? 0 : 1)' "$pkg"; }; then
    npm install --silent --no-audit --no-fund --prefix "$peers/load" oidc-provider@9
  fi
  # The script resolves `oidc-provider` from its own directory.
  cp "$here/node-op.mjs" "$peers/load/node-op.mjs"
  port="$(free_port)"
  node "$peers/load/node-op.mjs" "$port" >"$tmp/node.out" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_ready "http://127.0.0.1:$port"
  measure "node-oidc-provider $(node -p 'require(process.argv[1]).version' "$pkg")" "$pid" "http://127.0.0.1:$port"
else
  echo "load: node-oidc-provider skipped (node/npm not found)"
fi
