#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test when it is missing (`npx playwright install` cannot
# download browsers here). Needs root or sudo; without either it says so and the browser test skips.
set -euo pipefail
if [ -x "${SIPERF_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "chromium: $("${SIPERF_CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null || echo present)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "chromium: missing, and no root or sudo to install it; the browser test will be skipped" >&2
    exit 0
  fi
fi
echo "chromium: installing Debian's package (about a minute)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
