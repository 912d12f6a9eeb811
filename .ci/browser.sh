#!/usr/bin/env bash
# Installs headless Chromium and its WebDriver from the Debian packages (idempotent) for
# crates/cli/tests/browser_interop.rs, which drives the login, consent and logout pages of
# `idforge serve` in a real browser (screenshots under target/browser/). With
# IDFORGE_INTEROP=require a missing browser fails that test instead of skipping it.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  echo "browser: $(chromium --version 2>/dev/null) and chromedriver already installed"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2; do
  if $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium chromium-driver; then
    break
  fi
  [ "$attempt" -eq 2 ] && exit 1
  echo "browser: apt-get failed, retrying" >&2
  sleep 5
done
echo "browser: $(chromium --version 2>/dev/null) installed"
