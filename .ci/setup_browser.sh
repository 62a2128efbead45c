#!/usr/bin/env bash
# System setup for the site test (tests/test_site.py): Debian's Chromium, which Playwright drives (no
# browser download), and npm's mermaid, which the test serves in place of the CDN copy the pages load.
# The Python package playwright comes from requirements.txt. Safe to run again; skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium fonts-dejavu-core)
command -v npm >/dev/null 2>&1 || packages+=(npm)
if [ ${#packages[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
chromium --version 2>/dev/null || { echo "setup_browser: chromium did not install" >&2; exit 1; }

if [ ! -f tests/site/node_modules/mermaid/dist/mermaid.esm.min.mjs ]; then
    npm ci --prefix tests/site --ignore-scripts --no-audit --no-fund --loglevel=error
fi
echo "setup_browser: mermaid $(node -p "require('./tests/site/node_modules/mermaid/package.json').version") in tests/site/node_modules"
