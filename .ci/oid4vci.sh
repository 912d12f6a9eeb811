#!/usr/bin/env bash
# Installs the OID4VCI interop peers (idempotent) for crates/cli/tests/oid4vci_interop.rs:
#   npm `@openid4vc/openid4vci` + `@openid4vc/oauth2` 0.4.x (the wallet), `@sd-jwt/sd-jwt-vc` +
#   `@sd-jwt/crypto-nodejs` 0.15.x and `jose` 6.x (verifiers) -> $IDFORGE_PEERS_DIR/node
#   Python reference `sd-jwt` 0.10.4 -> $IDFORGE_PEERS_DIR/python (shared with .ci/sd-jwt.sh)
# With IDFORGE_INTEROP=require a missing peer fails the test instead of skipping it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${IDFORGE_PEERS_DIR:-$root/target/peers}"
mkdir -p "$peers/node" "$peers/python"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "oid4vci peers: node/npm not found; install Node.js >= 20" >&2
  exit 1
fi
version_of() {
  local pkg="$peers/node/node_modules/$1/package.json"
  [ -f "$pkg" ] && node -p 'require(process.argv[1]).version' "$pkg"
}
if [[ "$(version_of @openid4vc/openid4vci || true)" == 0.4.* ]] &&
  [[ "$(version_of @openid4vc/oauth2 || true)" == 0.4.* ]] &&
  [[ "$(version_of @sd-jwt/sd-jwt-vc || true)" == 0.15.* ]] &&
  [[ "$(version_of @sd-jwt/crypto-nodejs || true)" == 0.15.* ]] &&
  [[ "$(version_of jose || true)" == 6.* ]]; then
  echo "oid4vci peers: @openid4vc/openid4vci $(version_of @openid4vc/openid4vci) already installed"
else
  for attempt in 1 2; do
    if npm install --silent --no-audit --no-fund --prefix "$peers/node" \
      "@openid4vc/openid4vci@~0.4.0" "@openid4vc/oauth2@~0.4.0" \
      "@sd-jwt/sd-jwt-vc@~0.15.0" "@sd-jwt/crypto-nodejs@~0.15.0" "@sd-jwt/core@~0.15.0" "jose@^6"; then
      break
    fi
    [ "$attempt" -eq 2 ] && exit 1
    echo "oid4vci peers: npm install failed, retrying" >&2
    sleep 5
  done
  echo "oid4vci peers: @openid4vc/openid4vci $(version_of @openid4vc/openid4vci) installed"
fi

python="${PYTHON:-python3}"
if PYTHONPATH="$peers/python" "$python" - <<'PY' 2>/dev/null; then
import importlib.metadata as m, sys
sys.exit(0 if m.version("sd-jwt") == "0.10.4" else 1)
PY
  echo "oid4vci peers: python sd-jwt 0.10.4 already installed"
else
  "$python" -m pip install --quiet --disable-pip-version-check --upgrade \
    --target "$peers/python" "sd-jwt==0.10.4"
fi
