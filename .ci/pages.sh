#!/usr/bin/env bash
# Installs the accessibility checker (idempotent) for crates/cli/tests/browser_interop.rs:
#   npm `axe-core` v4 -> $IDFORGE_PEERS_DIR/node (npm install --prefix)
# The browser test injects node_modules/axe-core/axe.min.js into every hosted page of
# `idforge serve` through WebDriver's Execute Script and requires zero WCAG 2.1 A/AA
# violations. With IDFORGE_INTEROP=require a missing checker fails the test instead of
# skipping it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${IDFORGE_PEERS_DIR:-$root/target/peers}"
mkdir -p "$peers/node"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "pages: node/npm not found; install Node.js >= 20" >&2
  exit 1
fi
pkg="$peers/node/node_modules/axe-core/package.json"
if [ -f "$pkg" ] && node -e 'process.exit(require(process.argv[1]).version.startsWith("4.") ? 0 : 1)' "$pkg"; then
  echo "pages: axe-core $(node -p 'require(process.argv[1]).version' "$pkg") already installed"
else
  for attempt in 1 2; do
    if npm install --silent --no-audit --no-fund --prefix "$peers/node" axe-core@4; then
      break
    fi
    [ "$attempt" -eq 2 ] && exit 1
    echo "pages: npm install failed, retrying" >&2
    sleep 5
  done
  echo "pages: axe-core $(node -p 'require(process.argv[1]).version' "$pkg") installed"
fi
