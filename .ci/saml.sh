#!/usr/bin/env bash
# Installs the SAML interop peers (idempotent) for crates/saml-sp/tests/interop.rs:
#   Debian `xmlsec1` command-line tool (apt, as root)      -> /usr/bin/xmlsec1
#   Python `signxml` and `pysaml2`                          -> $IDFORGE_PEERS_DIR/python
# pysaml2 shells out to xmlsec1 for signatures, so both are needed for its tests.
# The XML Encryption 1.1 peer (tests/interop/xmlenc_peer.py) uses Python `cryptography` and `lxml`,
# both already installed as dependencies of signxml 5.2.0 (cryptography>=45, lxml>=5.2.1), so no
# separate pin.
# With IDFORGE_INTEROP=require the interop tests fail when a peer is missing; otherwise they skip.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${IDFORGE_PEERS_DIR:-$root/target/peers}"
mkdir -p "$peers/python"

if command -v xmlsec1 >/dev/null; then
  echo "saml peers: $(xmlsec1 --version | head -n1) already installed"
else
  if [ "$(id -u)" != 0 ]; then
    echo "saml peers: xmlsec1 missing and not root; run: apt-get install -y xmlsec1" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q xmlsec1 || { apt-get update -qq && apt-get install -y -q xmlsec1; }
fi

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null; then
  echo "saml peers: $python not found" >&2
  exit 1
fi
if PYTHONPATH="$peers/python" "$python" - <<'PY' 2>/dev/null; then
import importlib.metadata as m, sys
sys.exit(0 if m.version("signxml") == "5.2.0" and m.version("pysaml2") == "7.5.5" else 1)
PY
  echo "saml peers: python signxml 5.2.0 and pysaml2 7.5.5 already installed"
else
  "$python" -m pip install --quiet --disable-pip-version-check --upgrade \
    --target "$peers/python" "signxml==5.2.0" "pysaml2==7.5.5"
fi
