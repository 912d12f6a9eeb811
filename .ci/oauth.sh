#!/usr/bin/env bash
# Installs the OAuth/OIDC interop peer (idempotent) for crates/cli/tests/oauth_interop.rs:
#   npm `openid-client` v6 -> $IDFORGE_PEERS_DIR/node (npm install --prefix)
# The test starts `idforge serve` on loopback and drives it with openid-client (discovery,
# code + PKCE, UserInfo, refresh, introspection, revocation, client credentials);
# crates/cli/tests/ciba_interop.rs drives CIBA with it (initiateBackchannelAuthentication +
# pollBackchannelAuthenticationGrant, ping and push to a local listener, OBO). With
# IDFORGE_INTEROP=require a missing peer fails the test instead of skipping it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${IDFORGE_PEERS_DIR:-$root/target/peers}"
mkdir -p "$peers/node"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "oauth peers: node/npm not found; install Node.js >= 20" >&2
  exit 1
fi
pkg="$peers/node/node_modules/openid-client/package.json"
if [ -f "$pkg" ] && node -e 'process.exit(require(process.argv[1]).version.startsWith("6.") ? 0 : 1)' "$pkg"; then
  echo "oauth peers: openid-client $(node -p 'require(process.argv[1]).version' "$pkg") already installed"
else
  for attempt in 1 2; do
    if npm install --silent --no-audit --no-fund --prefix "$peers/node" openid-client@6; then
      break
    fi
    [ "$attempt" -eq 2 ] && exit 1
    echo "oauth peers: npm install failed, retrying" >&2
    sleep 5
  done
  echo "oauth peers: openid-client $(node -p 'require(process.argv[1]).version' "$pkg") installed"
fi
