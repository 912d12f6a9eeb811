#!/usr/bin/env bash
# Installs the interop peers into target/peers (idempotent): npm `jose` v6 and Python `jwcrypto`.
# tests/interop (cargo test --test interop) finds them there; with IDFORGE_INTEROP=require a
# missing peer is a test failure instead of a skip.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${IDFORGE_PEERS_DIR:-$root/target/peers}"
mkdir -p "$peers/node" "$peers/python"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "interop: node/npm not found; install Node.js >= 20" >&2
  exit 1
fi
if [ -f "$peers/node/node_modules/jose/package.json" ] &&
  node -e 'process.exit(require(process.argv[1]).version.startsWith("6.") ? 0 : 1)' \
    "$peers/node/node_modules/jose/package.json"; then
  echo "interop: npm jose $(node -p 'require(process.argv[1]).version' "$peers/node/node_modules/jose/package.json") already installed"
else
  npm install --silent --no-audit --no-fund --prefix "$peers/node" jose@6
fi

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null; then
  echo "interop: $python not found" >&2
  exit 1
fi
if PYTHONPATH="$peers/python" "$python" -c 'import jwcrypto' 2>/dev/null; then
  echo "interop: jwcrypto already installed"
else
  "$python" -m pip install --quiet --disable-pip-version-check --target "$peers/python" jwcrypto
fi
