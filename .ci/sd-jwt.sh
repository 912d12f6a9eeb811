#!/usr/bin/env bash
# Installs the SD-JWT interop peers (idempotent) for crates/sd-jwt/tests/interop.rs:
#   Python reference `sd-jwt` 0.10.4  -> $IDFORGE_PEERS_DIR/python  (pip install --target)
#   npm `@sd-jwt/core` + `@sd-jwt/sd-jwt-vc` 0.15.x (+ `@sd-jwt/crypto-nodejs` for ES256 and
#   sha-256 in Node) -> $IDFORGE_PEERS_DIR/node (npm install --prefix)
# With IDFORGE_INTEROP=require the interop test fails when a peer is missing; otherwise it skips.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${IDFORGE_PEERS_DIR:-$root/target/peers}"
mkdir -p "$peers/node" "$peers/python"

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null; then
  echo "sd-jwt peers: $python not found" >&2
  exit 1
fi
if PYTHONPATH="$peers/python" "$python" - <<'PY' 2>/dev/null; then
import importlib.metadata as m, sys
sys.exit(0 if m.version("sd-jwt") == "0.10.4" else 1)
PY
  echo "sd-jwt peers: python sd-jwt 0.10.4 already installed"
else
  "$python" -m pip install --quiet --disable-pip-version-check --upgrade \
    --target "$peers/python" "sd-jwt==0.10.4"
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "sd-jwt peers: node/npm not found; install Node.js >= 20" >&2
  exit 1
fi
have_npm() {
  [ -f "$peers/node/node_modules/$1/package.json" ] &&
    node -e 'process.exit(require(process.argv[1]).version.startsWith("0.15.") ? 0 : 1)' \
      "$peers/node/node_modules/$1/package.json"
}
if have_npm @sd-jwt/core && have_npm @sd-jwt/sd-jwt-vc && have_npm @sd-jwt/crypto-nodejs; then
  echo "sd-jwt peers: @sd-jwt/core $(node -p 'require(process.argv[1]).version' \
    "$peers/node/node_modules/@sd-jwt/core/package.json") already installed"
else
  npm install --silent --no-audit --no-fund --prefix "$peers/node" \
    "@sd-jwt/core@~0.15.0" "@sd-jwt/sd-jwt-vc@~0.15.0" "@sd-jwt/crypto-nodejs@~0.15.0"
fi
