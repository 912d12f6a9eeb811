#!/usr/bin/env bash
# Installs the logout interop peer (idempotent) for crates/cli/tests/sessions_interop.rs:
#   npm `jose` v6 -> $IDFORGE_PEERS_DIR/node (npm install --prefix)
# openid-client v6 comes from .ci/oauth.sh. The test starts `idforge serve`, logs in and out
# with openid-client (buildEndSessionUrl) and verifies the back-channel Logout Token with jose
# (Back-Channel Logout 1.0 §2.6). With IDFORGE_INTEROP=require a missing peer fails the test.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${IDFORGE_PEERS_DIR:-$root/target/peers}"
mkdir -p "$peers/node"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "sessions peers: node/npm not found; install Node.js >= 20" >&2
  exit 1
fi
pkg="$peers/node/node_modules/jose/package.json"
if [ -f "$pkg" ] && node -e 'process.exit(require(process.argv[1]).version.startsWith("6.") ? 0 : 1)' "$pkg"; then
  echo "sessions peers: jose $(node -p 'require(process.argv[1]).version' "$pkg") already installed"
else
  for attempt in 1 2; do
    if npm install --silent --no-audit --no-fund --prefix "$peers/node" jose@6; then
      break
    fi
    [ "$attempt" -eq 2 ] && exit 1
    echo "sessions peers: npm install failed, retrying" >&2
    sleep 5
  done
  echo "sessions peers: jose $(node -p 'require(process.argv[1]).version' "$pkg") installed"
fi
